"""node.db: the kept connection and the kept runner of busy writers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from node.db import KeptConnection, KeptRunner, create_engine, create_thread_engine


async def test_kept_connection_commits_rolls_back_and_recovers(database_url: str) -> None:
    """Each transaction commits on success; a failing one rolls back, and the next works."""
    engine = create_engine(database_url)
    kept = KeptConnection(engine)
    try:
        async with kept.transaction() as conn:
            await conn.execute(text("CREATE TABLE kept_probe (n INTEGER)"))
        async with kept.transaction() as conn:
            await conn.execute(text("INSERT INTO kept_probe VALUES (1)"))
        used: list[AsyncConnection] = []

        async def insert_then_fail() -> None:
            async with kept.transaction() as conn:
                used.append(conn)
                await conn.execute(text("INSERT INTO kept_probe VALUES (2)"))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await insert_then_fail()
        first = used[0]
        async with kept.transaction() as conn:
            assert first.closed  # the possibly broken connection was dropped
            rows = (await conn.execute(text("SELECT n FROM kept_probe"))).scalars().all()
        assert rows == [1]
        async with kept.transaction() as again:
            assert again is conn  # kept between transactions
    finally:
        await kept.close()
        await engine.dispose()


@pytest.mark.parametrize("threaded", [True, False])
async def test_kept_runner_commits_rolls_back_and_recovers(
    database_url: str, threaded: bool
) -> None:
    """Sync units of work in a worker thread (SQLite) or through run_sync: each commits on
    success, a failing one rolls back, and the next one works."""
    engine = create_engine(database_url)
    thread_engine = create_thread_engine(database_url) if threaded else None
    if threaded and thread_engine is None:
        pytest.skip("worker-thread transactions are for SQLite files")
    runner = KeptRunner(engine, thread_engine, asyncio.Lock(), "test-runner")
    threads: list[str] = []

    def create(conn: Connection) -> None:
        conn.execute(text("CREATE TABLE runner_probe (n INTEGER)"))

    def insert(n: int) -> Callable[[Connection], int]:
        def unit(conn: Connection) -> int:
            threads.append(threading.current_thread().name)
            conn.execute(text("INSERT INTO runner_probe VALUES (:n)"), {"n": n})
            if n < 0:
                raise RuntimeError("boom")
            return n

        return unit

    def values(conn: Connection) -> list[int]:
        return list(conn.execute(text("SELECT n FROM runner_probe ORDER BY n")).scalars())

    try:
        await runner.run(create)
        assert await runner.run(insert(1)) == 1
        with pytest.raises(RuntimeError):
            await runner.run(insert(-1))
        assert await runner.run(insert(2)) == 2
        assert await runner.run(values) == [1, 2]
        if threaded:
            assert all(name.startswith("test-runner") for name in threads)
        else:
            assert set(threads) == {threading.current_thread().name}
    finally:
        await runner.close()
        if thread_engine is not None:
            thread_engine.dispose()
        await engine.dispose()


async def test_a_cancelled_thread_transaction_keeps_the_lock_until_it_ended(
    database_url: str,
) -> None:
    thread_engine = create_thread_engine(database_url)
    if thread_engine is None:
        pytest.skip("worker-thread transactions are for SQLite files")
    engine = create_engine(database_url)
    lock = asyncio.Lock()
    runner = KeptRunner(engine, thread_engine, lock, "test-runner")
    started, release = threading.Event(), threading.Event()

    def slow(conn: Connection) -> None:
        conn.execute(text("CREATE TABLE slow_probe (n INTEGER)"))
        started.set()
        release.wait(5)
        conn.execute(text("INSERT INTO slow_probe VALUES (1)"))

    try:
        task = asyncio.create_task(runner.run(slow))
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        await asyncio.sleep(0.05)
        task.cancel()  # again, while it waits for the thread
        await asyncio.sleep(0.05)
        assert lock.locked()  # the thread still writes: nobody else may start
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not lock.locked()

        def count(conn: Connection) -> int:
            return int(conn.execute(text("SELECT count(*) FROM slow_probe")).scalar_one())

        assert await runner.run(count) == 1  # its transaction ran to its end and committed
    finally:
        await runner.close()
        thread_engine.dispose()
        await engine.dispose()

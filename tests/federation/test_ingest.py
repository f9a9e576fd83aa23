"""The inbox's group-commit writer, in a worker thread (SQLite) or on the async driver."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.ingest import MAX_BATCH, InboxWriter, TTLCache
from node.db import create_thread_engine
from node.models import InboxActivity, utcnow

Sessions = async_sessionmaker[AsyncSession]


def _row(n: int) -> dict[str, Any]:
    return {
        "ap_id": f"https://peer.example/activities/{n}",
        "activity_type": "Create",
        "actor": "https://peer.example/users/a",
        "library_id": None,
        "payload": {"id": f"https://peer.example/activities/{n}", "type": "Create"},
        "received_at": utcnow(),
        "attempts": 0,
    }


class Setup:
    """A writer (not started) on the test database, and the thread writes it made."""

    def __init__(self, writer: InboxWriter, in_thread: bool, lock: asyncio.Lock) -> None:
        self.writer, self.in_thread, self.lock = writer, in_thread, lock
        self.thread_writes: list[int] = []


@pytest.fixture(params=[True, False], ids=["thread", "async-driver"])
async def setup(
    request: pytest.FixtureRequest, sessionmaker: Sessions, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Setup]:
    engine = sessionmaker.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    in_thread: bool = request.param
    thread_engine = None
    if in_thread:
        thread_engine = create_thread_engine(engine.url.render_as_string(hide_password=False))
        if thread_engine is None:
            pytest.skip("PostgreSQL writes through asyncpg only")
    lock = asyncio.Lock()
    writer = InboxWriter(engine, on_stored=lambda: None, lock=lock, thread_engine=thread_engine)
    made = Setup(writer, in_thread, lock)
    if in_thread:
        write = writer._insert_rows

        def counted(rows: list[dict[str, Any]], conn: Connection) -> None:
            write(rows, conn)
            made.thread_writes.append(len(rows))

        monkeypatch.setattr(writer, "_insert_rows", counted)
    yield made
    if thread_engine is not None:
        thread_engine.dispose()


async def _stored(sessionmaker: Sessions) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxActivity)) or 0)


async def test_stop_writes_every_queued_row_not_just_one_batch(
    sessionmaker: Sessions, setup: Setup
) -> None:
    """Rows queued at shutdown are all stored and their senders released, over several
    batches; a duplicate activity id counts as stored."""
    count = 2 * MAX_BATCH + 50
    stores = [asyncio.create_task(setup.writer.store(_row(n))) for n in range(count)]
    stores.append(asyncio.create_task(setup.writer.store(_row(0))))  # the same activity again
    await asyncio.sleep(0)  # let every store() queue its row
    await setup.writer.stop()
    async with asyncio.timeout(5):
        await asyncio.gather(*stores)
    assert await _stored(sessionmaker) == count
    assert sum(setup.thread_writes) == (count + 1 if setup.in_thread else 0)


async def test_a_bad_row_fails_alone(sessionmaker: Sessions, setup: Setup) -> None:
    """A batch with a row the database refuses is stored row by row: only that row fails."""
    bad = _row(2) | {"actor": None}
    stores = [asyncio.create_task(setup.writer.store(r)) for r in (_row(1), bad, _row(3))]
    await asyncio.sleep(0)
    await setup.writer.stop()
    outcomes = await asyncio.gather(*stores, return_exceptions=True)
    assert outcomes[0] is None
    assert outcomes[2] is None
    assert isinstance(outcomes[1], IntegrityError)
    assert await _stored(sessionmaker) == 2


async def test_stopping_during_a_threaded_write_waits_for_it_and_answers_everyone(
    sessionmaker: Sessions, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled in the middle of a write, the writer keeps the write lock until the thread
    is done, then stores what is left; every sender gets its answer."""
    if not setup.in_thread:
        pytest.skip("only the threaded writer hands a write to another thread")
    entered, finished = threading.Event(), threading.Event()
    write = setup.writer._insert_rows

    def slow(rows: list[dict[str, Any]], conn: Connection) -> None:
        entered.set()
        time.sleep(0.3)
        write(rows, conn)
        finished.set()

    monkeypatch.setattr(setup.writer, "_insert_rows", slow)
    setup.writer.start()
    first = [asyncio.create_task(setup.writer.store(_row(n))) for n in range(3)]
    await asyncio.to_thread(entered.wait, 5)
    later = [asyncio.create_task(setup.writer.store(_row(n))) for n in range(3, 6)]
    await asyncio.sleep(0)
    stopping = asyncio.create_task(setup.writer.stop())
    await asyncio.sleep(0.05)
    assert setup.lock.locked()
    assert not finished.is_set()
    await stopping
    async with asyncio.timeout(5):
        await asyncio.gather(*first, *later)
    assert await _stored(sessionmaker) == 6


class _CountedLoad:
    """A cache loader that counts its calls, takes a moment, and returns ``make(calls)``
    (or fails on the calls listed in ``failing``)."""

    def __init__(self, make: Callable[[int], Any], failing: frozenset[int] = frozenset()) -> None:
        self.make, self.failing, self.calls = make, failing, 0

    async def __call__(self) -> Any:
        self.calls += 1
        calls = self.calls
        await asyncio.sleep(0.01)
        if calls in self.failing:
            raise RuntimeError("database away")
        return self.make(calls)


async def test_stale_cache_is_loaded_once_for_a_burst_of_callers() -> None:
    """Requests that find the cache stale while it loads share that load (one query)."""
    cache = TTLCache(5.0)
    load = _CountedLoad(lambda n: {f"load-{n}"})

    results = await asyncio.gather(*(cache.get(load) for _ in range(20)))
    assert load.calls == 1
    assert all(result == {"load-1"} for result in results)
    assert await cache.get(load) == {"load-1"}  # fresh: no load
    assert load.calls == 1


async def test_forced_load_waits_for_the_running_one_then_loads_anew() -> None:
    """A forced reload (a library unknown so far) sees what changed after a load that
    was already running began."""
    cache = TTLCache(5.0)
    load = _CountedLoad(lambda n: n)

    first = asyncio.create_task(cache.get(load))
    await asyncio.sleep(0)  # the first load is running
    assert await cache.get(load, force=True) == 2
    assert await first == 1
    assert load.calls == 2
    assert await cache.get(load) == 2  # and the newer value stays


async def test_a_failed_load_reaches_its_waiters_and_the_next_call_loads_again() -> None:
    """A load that fails raises in every waiter (none sees a stale value as fresh), and a
    forced reload that waited on it loads anew instead of inheriting the failure."""
    cache = TTLCache(5.0)
    load = _CountedLoad(lambda n: f"value-{n}", failing=frozenset({1}))

    first = asyncio.create_task(cache.get(load))
    await asyncio.sleep(0)
    assert await cache.get(load, force=True) == "value-2"
    with pytest.raises(RuntimeError, match="database away"):
        await first
    assert await cache.get(load) == "value-2"
    assert load.calls == 2

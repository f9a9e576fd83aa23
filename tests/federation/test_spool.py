"""The inbox spool: appended activities reach the table in order and once, survive a crash,
and neither a torn record, a refused row nor a database that is away loses the others."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation import spool as spool_module
from federation.spool import CURRENT, FAILED, MAX_BATCH, InboxSpool, SpoolError, read_records
from node.db import create_thread_engine
from node.models import InboxActivity, utcnow
from tests.peers import eventually

Sessions = async_sessionmaker[AsyncSession]
ACTOR = "https://peer.example/users/a"


def activity(n: int, **extra: Any) -> tuple[dict[str, Any], bytes]:
    """The spool record of the n-th Create: meta and body."""
    doc = {"id": f"https://peer.example/activities/{n}", "type": "Create", "actor": ACTOR}
    doc |= extra
    meta = {
        "id": doc["id"],
        "type": "Create",
        "actor": ACTOR,
        "library": None,
        "received": utcnow().isoformat(),
    }
    return meta, json.dumps(doc).encode()


class Spools:
    """Makes spools on one directory and database, as a node's successive runs would."""

    def __init__(self, directory: Path, engine: AsyncEngine, thread: bool) -> None:
        self.directory, self.engine, self.thread = directory, engine, thread
        self.stored_calls = 0
        self.made: list[InboxSpool] = []
        self._thread_engines: list[Any] = []

    def make(self, settle: float = 0.05, max_delay: float = 2.0) -> InboxSpool:
        thread_engine = None
        if self.thread:
            thread_engine = create_thread_engine(
                self.engine.url.render_as_string(hide_password=False)
            )
            self._thread_engines.append(thread_engine)
        spool = InboxSpool(
            self.directory,
            self.engine,
            self._stored,
            lock=asyncio.Lock(),
            thread_engine=thread_engine,
            settle=settle,
            max_delay=max_delay,
        )
        self.made.append(spool)
        return spool

    def _stored(self) -> None:
        self.stored_calls += 1

    def files(self) -> list[str]:
        return sorted(p.name for p in self.directory.iterdir())

    async def close(self) -> None:
        for spool in self.made:
            await spool._runner.close()
        for engine in self._thread_engines:
            engine.dispose()


@pytest.fixture(params=[True, False], ids=["thread", "async-driver"])
async def spools(
    request: pytest.FixtureRequest, sessionmaker: Sessions, tmp_path: Path
) -> AsyncIterator[Spools]:
    engine = sessionmaker.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    if request.param and engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL writes through asyncpg only")
    made = Spools(tmp_path / "inbox-spool", engine, thread=request.param)
    yield made
    await made.close()


async def stored(sessionmaker: Sessions) -> list[str]:
    """Activity ids in the table, in the order they were stored."""
    async with sessionmaker() as session:
        rows = await session.scalars(select(InboxActivity.ap_id).order_by(InboxActivity.id))
        return list(rows)


class _ShuttingDown(Exception):
    sqlstate = "57P01"  # what PostgreSQL says when an administrator stops it


def away() -> OperationalError:
    """The error of a database that cannot take writes now."""
    return OperationalError("INSERT", {}, _ShuttingDown("terminating connection"))


def ids(*numbers: int) -> list[str]:
    return [f"https://peer.example/activities/{n}" for n in numbers]


async def eventually_stored(sessionmaker: Sessions, expected: list[str]) -> None:
    async def done() -> bool:
        return await stored(sessionmaker) == expected

    await eventually(done, what=f"{len(expected)} activities stored")


async def test_appended_activities_are_stored_in_order_and_once(
    sessionmaker: Sessions, spools: Spools
) -> None:
    """Several batches, in arrival order; a repeated activity is stored once; the payload
    is the body read exactly (an integer beyond 64 bits keeps its digits)."""
    spool = spools.make()
    count = 2 * MAX_BATCH + 50
    for n in range(count):
        spool.append(*activity(n, big=2**70 + n))
    spool.append(*activity(3))  # the same activity again
    assert spools.files() == [CURRENT]

    assert await spool.drain() == count + 1
    assert await stored(sessionmaker) == ids(*range(count))
    assert spools.files() == []
    assert spools.stored_calls == 1
    async with sessionmaker() as session:
        payload = await session.scalar(
            select(InboxActivity.payload).where(InboxActivity.ap_id == ids(7)[0])
        )
    assert payload is not None
    assert payload["big"] == 2**70 + 7
    assert type(payload["big"]) is int
    assert await spool.drain() == 0  # nothing new: no wake-up for the processor either
    assert spools.stored_calls == 1


async def test_what_a_crash_left_is_stored_at_the_next_start(
    sessionmaker: Sessions, spools: Spools, caplog: pytest.LogCaptureFixture
) -> None:
    """Records appended before a crash are stored when the node starts again; a record the
    crash cut off ends its file, is skipped with a warning, and takes nothing else along.
    Appends after the restart go to a new file, never behind the torn record."""
    before = spools.make()
    for n in range(3):
        before.append(*activity(n))
    os.close(before._fd or -1)  # the process dies: no drain, no rotation
    meta, body = activity(3)
    with (spools.directory / CURRENT).open("ab") as torn:
        torn.write(spool_module.encode(meta, body)[:-20])

    after = spools.make(settle=0.01)
    after.append(*activity(4))  # before the background task even ran
    assert spools.files() == ["000000000001.spool", CURRENT]
    with caplog.at_level(logging.WARNING, logger="federation.spool"):
        after.start()
        await eventually_stored(sessionmaker, ids(0, 1, 2, 4))
        await after.stop()
    assert "000000000001.spool" in caplog.text
    assert "cannot be read" in caplog.text
    assert spools.files() == []


async def test_records_that_cannot_be_stored_are_set_aside_and_the_rest_stored(
    sessionmaker: Sessions, spools: Spools, caplog: pytest.LogCaptureFixture
) -> None:
    """A record whose row the database refuses for good (a library that does not exist)
    and one that cannot be read as a row go to failed.spool, each with an error in the
    log; their neighbours are stored and the spool goes on."""
    spool = spools.make()
    no_library = activity(2)
    no_library[0]["library"] = 999_999
    spool.append(*activity(1))
    spool.append(*no_library)
    spool.append(activity(3)[0], b"{not json")
    spool.append(*activity(4))
    with caplog.at_level(logging.ERROR, logger="federation.spool"):
        await spool.drain()
    assert await stored(sessionmaker) == ids(1, 4)
    assert spools.files() == [FAILED]
    with (spools.directory / FAILED).open("rb") as failed:
        assert [meta["id"] for meta, _ in read_records(failed)] == ids(2, 3)
    assert f"{ids(2)[0]} cannot be stored" in caplog.text
    assert f"{ids(3)[0]} cannot be stored" in caplog.text
    spool.append(*activity(5))
    await spool.drain()
    assert await stored(sessionmaker) == ids(1, 4, 5)


async def test_a_record_is_set_aside_once_though_its_file_is_tried_again(
    sessionmaker: Sessions, spools: Spools, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database goes away after a bad record was set aside: the file is tried again
    later, and failed.spool still holds the record once."""
    spool = spools.make()
    bad = activity(1)
    bad[0]["library"] = 999_999
    spool.append(*bad)
    spool.append(*activity(2))
    insert = spool._insert_rows
    calls = 0

    def away_once_on_the_good_one(rows: list[dict[str, Any]], conn: Connection) -> None:
        nonlocal calls
        if [row["ap_id"] for row in rows] == ids(2):
            calls += 1
            if calls == 1:
                raise away()
        insert(rows, conn)

    monkeypatch.setattr(spool, "_insert_rows", away_once_on_the_good_one)
    with pytest.raises(OperationalError):
        await spool.drain()
    await spool.drain()
    assert await stored(sessionmaker) == ids(2)
    with (spools.directory / FAILED).open("rb") as failed:
        assert [meta["id"] for meta, _ in read_records(failed)] == ids(1)


async def test_while_the_database_is_away_the_file_stays_and_is_stored_later(
    sessionmaker: Sessions, spools: Spools, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A drain that the database refuses (locked, away) keeps every file; the background
    task tries again and stores them once it can, appends going on meanwhile."""
    monkeypatch.setattr(spool_module, "RETRY_FIRST_SECONDS", 0.05)
    spool = spools.make(settle=0.01)
    attempts = 0
    insert = spool._insert_rows

    def away_at_first(rows: list[dict[str, Any]], conn: Connection) -> None:
        nonlocal attempts
        attempts += 1
        if attempts <= 3:
            raise away()
        insert(rows, conn)

    monkeypatch.setattr(spool, "_insert_rows", away_at_first)
    spool.append(*activity(1))
    with pytest.raises(OperationalError):
        await spool.drain()
    assert spools.files() == ["000000000001.spool"]
    assert await stored(sessionmaker) == []

    spool.start()
    spool.append(*activity(2))
    await eventually_stored(sessionmaker, ids(1, 2))
    assert attempts >= 4  # the task tried again after failing
    await spool.stop()
    assert spools.files() == []


@pytest.mark.parametrize("cut_back", [True, False], ids=["cut-back", "cannot-cut-back"])
async def test_a_failed_append_raises_and_the_next_one_starts_a_new_file(
    sessionmaker: Sessions,
    spools: Spools,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    cut_back: bool,
) -> None:
    """The disk fills up halfway through a record: append raises SpoolError (the inbox
    answers 503). The half record is cut off again, or, where even that fails, ends its
    file and is skipped; the records before and after it are stored."""
    spool = spools.make()
    spool.append(*activity(1))
    real_write = os.write

    def half_then_full(fd: int, data: Any) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    def cannot(fd: int, length: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "write", half_then_full)
    if not cut_back:
        monkeypatch.setattr(os, "ftruncate", cannot)
    with pytest.raises(SpoolError, match="No space left"):
        spool.append(*activity(2))
    monkeypatch.undo()
    spool.append(*activity(3))
    assert spools.files() == ["000000000001.spool", CURRENT]
    with caplog.at_level(logging.WARNING, logger="federation.spool"):
        await spool.drain()
    assert await stored(sessionmaker) == ids(1, 3)
    assert ("cannot be read" in caplog.text) is not cut_back


async def test_damaged_lengths_end_the_file_instead_of_the_spool(
    sessionmaker: Sessions, spools: Spools
) -> None:
    """A record header whose lengths are damaged (huge, negative) is skipped like a torn
    record: no attempt to read terabytes, and the next file is stored."""
    spools.directory.mkdir(parents=True, exist_ok=True)
    good = spool_module.encode(*activity(1))
    (spools.directory / "000000000001.spool").write_bytes(good + b"99999999999999999999 5\n{}")
    (spools.directory / "000000000002.spool").write_bytes(b"-5 3\nabc\n")
    (spools.directory / "000000000003.spool").write_bytes(spool_module.encode(*activity(2)))
    spool = spools.make()
    assert [m["id"] for m in spool_module.spooled(spools.directory)] == ids(1, 2)
    await spool.drain()
    assert await stored(sessionmaker) == ids(1, 2)
    assert spools.files() == []


async def test_an_unclear_error_is_the_records_if_the_database_answers(
    sessionmaker: Sessions, spools: Spools, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record fails with an error that names no cause (a driver's own error): if the
    database answers right after, the record is set aside and the rest stored; if it
    does not, the drain stops and keeps the file."""
    spool = spools.make()
    for n in (1, 2, 3):
        spool.append(*activity(n))
    insert = spool._insert_rows
    database_answers = True

    def unclear_on_two(rows: list[dict[str, Any]], conn: Connection) -> None:
        if ids(2)[0] in [row["ap_id"] for row in rows]:
            raise InterfaceError("INSERT", {}, Exception("cannot encode a value"))
        insert(rows, conn)

    async def probe(fn: Any) -> Any:
        if not database_answers:
            raise InterfaceError("SELECT 1", {}, Exception("connection is closed"))
        return await real_run(fn)

    real_run = spool._runner.run
    monkeypatch.setattr(spool, "_insert_rows", unclear_on_two)
    monkeypatch.setattr(spool._runner, "run", probe)
    database_answers = False
    with pytest.raises(InterfaceError):
        await spool.drain()
    assert spools.files() == ["000000000001.spool"]
    database_answers = True
    await spool.drain()
    assert await stored(sessionmaker) == ids(1, 3)
    assert spools.files() == [FAILED]


async def test_postgresql_refusing_a_value_sets_the_record_aside(
    sessionmaker: Sessions, spools: Spools
) -> None:
    """PostgreSQL refuses a NUL character in text (SQLSTATE 22021): the record is set
    aside by its SQLSTATE, the others are stored."""
    if spools.engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores NUL characters")
    spool = spools.make()
    nul = activity(2)
    nul[0]["actor"] = "https://peer.example/users/\u0000"
    spool.append(*activity(1))
    spool.append(*nul)
    spool.append(*activity(3))
    await spool.drain()
    assert await stored(sessionmaker) == ids(1, 3)
    assert spools.files() == [FAILED]


async def test_a_steady_stream_is_stored_while_it_lasts(
    sessionmaker: Sessions, spools: Spools
) -> None:
    """Drains wait for a pause, but never longer than max_delay: activities that keep
    coming without a pause still reach the table while they come."""
    spool = spools.make(settle=30, max_delay=0.3)  # no pause this test could make counts
    spool.start()
    n = 0

    async def arrived() -> bool:
        nonlocal n
        for _ in range(5):
            spool.append(*activity(n))
            n += 1
            await asyncio.sleep(0.01)
        return bool(await stored(sessionmaker))

    await eventually(arrived, seconds=10, what="a drain during the stream")
    assert spools.stored_calls >= 1
    await spool.stop()
    assert await stored(sessionmaker) == ids(*range(n))


async def test_stop_stores_what_is_left(sessionmaker: Sessions, spools: Spools) -> None:
    spool = spools.make(settle=60)
    spool.start()
    for n in range(5):
        spool.append(*activity(n))
    await spool.stop()
    assert await stored(sessionmaker) == ids(*range(5))
    assert spools.files() == []


async def test_after_stop_appends_are_refused_and_stop_again_does_nothing(
    spools: Spools,
) -> None:
    spool = spools.make()
    await spool.stop()
    with pytest.raises(SpoolError, match="stopped"):
        spool.append(*activity(1))
    await spool.stop()


async def test_stop_gives_up_on_a_database_that_does_not_answer(
    sessionmaker: Sessions, spools: Spools, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shutting down does not hang on a stuck database: after STOP_SECONDS the records stay
    in their file and are stored at the next start."""
    monkeypatch.setattr(spool_module, "STOP_SECONDS", 0.2)
    spool = spools.make()
    spool.append(*activity(1))

    async def stuck(fn: Any) -> Any:
        await asyncio.sleep(60)

    monkeypatch.setattr(spool._runner, "run", stuck)
    async with asyncio.timeout(5):
        await spool.stop()
    monkeypatch.undo()
    assert spools.files() == ["000000000001.spool"]
    again = spools.make()
    await again.drain()
    assert await stored(sessionmaker) == ids(1)

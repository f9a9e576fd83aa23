"""Trying set-aside inbox activities again: what the database now takes is stored, what it
refuses again stays set aside, and a database that is away loses none of them."""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.spool import FAILED, InboxSpool, append_whole, encode, lock_file, read_records
from federation.spool_retry import (
    DAMAGED,
    RETRY_DIR,
    RETRY_LOCK,
    RetryBusy,
    RetryOutcome,
    SpoolFilesError,
    _locked,
    retry_set_aside,
)
from node.cli import main
from node.models import InboxActivity, utcnow

Sessions = async_sessionmaker[AsyncSession]
ACTOR = "https://peer.example/users/a"


def parts(n: int, library: int | None = None) -> tuple[dict[str, Any], bytes]:
    """Meta and body of the n-th Create, as InboxSpool.append takes them."""
    activity_id = f"https://peer.example/activities/{n}"
    meta = {
        "id": activity_id,
        "type": "Create",
        "actor": ACTOR,
        "library": library,
        "received": utcnow().isoformat(),
    }
    return meta, json.dumps({"id": activity_id, "type": "Create"}).encode()


def record(n: int, library: int | None = None) -> bytes:
    """The spool record of the n-th Create."""
    return encode(*parts(n, library))


def ids(*numbers: int) -> list[str]:
    return [f"https://peer.example/activities/{n}" for n in numbers]


def set_aside(directory: Path) -> list[str]:
    path = directory / FAILED
    if not path.exists():
        return []
    with path.open("rb") as stream:
        return [meta["id"] for meta, _ in read_records(stream)]


async def stored(sessionmaker: Sessions) -> list[str]:
    async with sessionmaker() as session:
        rows = await session.scalars(select(InboxActivity.ap_id).order_by(InboxActivity.id))
        return list(rows)


def engine_of(sessionmaker: Sessions) -> AsyncEngine:
    engine = sessionmaker.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine


async def store_one(sessionmaker: Sessions, n: int) -> None:
    async with sessionmaker() as session, session.begin():
        session.add(InboxActivity(ap_id=ids(n)[0], activity_type="Create", actor=ACTOR,
                                  payload={}, received_at=utcnow()))  # fmt: skip


def counts(outcome: RetryOutcome) -> tuple[int, int, int, int]:
    return outcome.tried, outcome.stored, outcome.refused, outcome.copies


class ShuttingDown(Exception):
    sqlstate = "57P01"  # PostgreSQL's "terminating connection": the database is away


async def test_what_the_database_now_takes_is_stored_and_the_rest_stays_set_aside(
    sessionmaker: Sessions, tmp_path: Path
) -> None:
    """Activity 1 is storable now, 2 names a library that does not exist (refused again,
    with the reason), 3 was stored meanwhile (counts as stored, stays stored once)."""
    spool_dir = tmp_path / "inbox-spool"
    spool_dir.mkdir()
    await store_one(sessionmaker, 3)
    (spool_dir / FAILED).write_bytes(record(1) + record(2, library=999_999) + record(3))
    outcome = await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert counts(outcome) == (3, 2, 1, 0)
    assert [activity_id for activity_id, _ in outcome.reasons] == ids(2)
    assert "IntegrityError" in outcome.reasons[0][1]
    assert await stored(sessionmaker) == ids(3, 1)
    assert set_aside(spool_dir) == ids(2)
    assert sorted(p.name for p in spool_dir.iterdir()) == [FAILED, RETRY_LOCK]

    again = await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert counts(again) == (1, 0, 1, 0)
    assert set_aside(spool_dir) == ids(2)


async def test_records_after_a_torn_one_are_tried_and_the_torn_bytes_kept(
    sessionmaker: Sessions, tmp_path: Path
) -> None:
    """A crash cut a record off, and later ones were appended after the restart: every
    whole record is tried, the unreadable stretches are kept in failed.damaged."""
    spool_dir = tmp_path / "inbox-spool"
    spool_dir.mkdir()
    torn_first, torn_later = record(1)[:30], record(3)[:-9]
    (spool_dir / FAILED).write_bytes(torn_first + record(2) + torn_later + record(4) + record(5))
    outcome = await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert counts(outcome) == (3, 3, 0, 0)
    assert await stored(sessionmaker) == ids(2, 4, 5)
    assert set_aside(spool_dir) == []
    assert (spool_dir / DAMAGED).read_bytes() == torn_first + torn_later
    assert outcome.damaged_bytes == len(torn_first + torn_later)


async def test_a_second_copy_of_a_refused_activity_is_not_counted_as_stored(
    sessionmaker: Sessions, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "inbox-spool"
    spool_dir.mkdir()
    (spool_dir / FAILED).write_bytes(record(2, library=999_999) * 2 + record(1))
    outcome = await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert counts(outcome) == (2, 1, 1, 1)
    assert await stored(sessionmaker) == ids(1)
    assert set_aside(spool_dir) == ids(2)


async def test_a_torn_record_that_reads_like_a_whole_one_hides_nothing(
    sessionmaker: Sessions, tmp_path: Path
) -> None:
    """A record cut off in its body, whose length reaches exactly to the end of the record
    after it: read by its lengths alone it swallows that record. Its body is not the JSON
    its meta names, so it is a damaged stretch and the record after it is tried."""
    spool_dir = tmp_path / "inbox-spool"
    spool_dir.mkdir()
    activity_id = ids(1)[0]
    meta = {"id": activity_id, "type": "Create", "actor": ACTOR, "library": None,
            "received": utcnow().isoformat()}  # fmt: skip
    body = json.dumps({"id": activity_id, "type": "Create", "pad": "x" * 500}).encode()
    whole = encode(meta, body)
    after = record(2)
    torn = whole[: len(whole) - len(after)]  # its body's length ends before after's b"\n"
    assert [m["id"] for m, _ in read_records(io.BytesIO(torn + after))] == ids(1)  # swallowed
    (spool_dir / FAILED).write_bytes(torn + after + record(3))
    outcome = await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert counts(outcome) == (2, 2, 0, 0)
    assert await stored(sessionmaker) == ids(2, 3)
    assert (spool_dir / DAMAGED).read_bytes() == torn


async def test_a_retry_waits_for_failed_spools_lock_and_takes_nothing_without_it(
    sessionmaker: Sessions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("federation.spool.LOCK_SECONDS", 0.05)
    spool_dir = tmp_path / "inbox-spool"
    spool_dir.mkdir()
    (spool_dir / FAILED).write_bytes(record(1))
    holder = os.open(spool_dir / FAILED, os.O_RDWR)
    try:
        lock_file(holder)
        with pytest.raises(SpoolFilesError, match="locked by another process"):
            await retry_set_aside(spool_dir, engine_of(sessionmaker))
    finally:
        os.close(holder)
    assert set_aside(spool_dir) == ids(1)
    assert await stored(sessionmaker) == []
    outcome = await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert counts(outcome) == (1, 1, 0, 0)


async def test_a_stale_partial_copy_is_removed(sessionmaker: Sessions, tmp_path: Path) -> None:
    """A retry killed while copying left retry/<n>.spool.tmp (failed.spool still holds
    its records): the next retry deletes it and takes failed.spool."""
    spool_dir = tmp_path / "inbox-spool"
    (spool_dir / RETRY_DIR).mkdir(parents=True)
    (spool_dir / RETRY_DIR / "000000000001.spool.tmp").write_bytes(record(1)[:20])
    (spool_dir / FAILED).write_bytes(record(1))
    outcome = await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert counts(outcome) == (1, 1, 0, 0)
    assert not (spool_dir / RETRY_DIR).exists()


async def test_the_node_keeps_serving_while_a_retry_holds_the_lock(
    sessionmaker: Sessions, tmp_path: Path
) -> None:
    """The node sets a record aside while a retry holds failed.spool's lock: the append
    waits in a thread, the event loop goes on, and the record lands once the lock is free."""
    spool_dir = tmp_path / "inbox-spool"
    spool = InboxSpool(spool_dir, engine_of(sessionmaker), lambda: None)
    try:
        spool.append(*parts(1, library=999_999))
        (spool_dir / FAILED).touch()
        holder = os.open(spool_dir / FAILED, os.O_RDWR)
        lock_file(holder)
        draining = asyncio.create_task(spool.drain())
        started = time.monotonic()
        await asyncio.sleep(0.2)
        assert time.monotonic() - started < 1.0
        assert not draining.done()
        os.close(holder)
        await asyncio.wait_for(draining, 5)
        assert set_aside(spool_dir) == ids(1)
    finally:
        await spool.stop()


async def test_nothing_set_aside_is_nothing_to_do(sessionmaker: Sessions, tmp_path: Path) -> None:
    outcome = await retry_set_aside(tmp_path / "inbox-spool", engine_of(sessionmaker))
    assert counts(outcome) == (0, 0, 0, 0)
    assert not (tmp_path / "inbox-spool" / RETRY_DIR).exists()


async def test_a_database_that_goes_away_loses_none_of_them(
    sessionmaker: Sessions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database goes away after the first of two batches: the error reaches the
    caller; the records of the unfinished file are set aside again (the stored one too:
    a later retry skips it as stored), and so is what the node set aside meanwhile."""
    spool_dir = tmp_path / "inbox-spool"
    spool_dir.mkdir()
    monkeypatch.setattr("federation.spool.MAX_BATCH", 1)
    (spool_dir / FAILED).write_bytes(record(1) + record(2))
    insert = InboxSpool._insert_rows

    def away_on_two(self: InboxSpool, rows: list[dict[str, Any]], conn: Connection) -> None:
        if rows[0]["ap_id"] == ids(2)[0]:
            append_whole(spool_dir / FAILED, record(7))  # the node set one aside meanwhile
            raise OperationalError("INSERT", {}, ShuttingDown("terminating connection"))
        insert(self, rows, conn)

    monkeypatch.setattr(InboxSpool, "_insert_rows", away_on_two)
    with pytest.raises(OperationalError):
        await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert await stored(sessionmaker) == ids(1)
    assert sorted(set_aside(spool_dir)) == sorted(ids(7, 1, 2))
    assert not (spool_dir / RETRY_DIR).exists()

    monkeypatch.setattr(InboxSpool, "_insert_rows", insert)
    outcome = await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert counts(outcome) == (3, 3, 0, 0)
    assert sorted(await stored(sessionmaker)) == sorted(ids(1, 2, 7))


async def test_a_crashed_retry_is_finished_by_the_next(
    sessionmaker: Sessions, tmp_path: Path
) -> None:
    """A retry killed midway left a taken file (cut off while it was written) and one
    refusal in retry/: the next retry tries them and today's failed.spool."""
    spool_dir = tmp_path / "inbox-spool"
    work = spool_dir / RETRY_DIR
    work.mkdir(parents=True)
    (work / "000000000001.spool").write_bytes(record(1) + record(4)[:-3] + record(5))
    (work / FAILED).write_bytes(record(2, library=999_999))
    (spool_dir / FAILED).write_bytes(record(3))
    outcome = await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert counts(outcome) == (4, 3, 1, 0)
    assert sorted(await stored(sessionmaker)) == sorted(ids(1, 3, 5))
    assert set_aside(spool_dir) == ids(2)
    assert not work.exists()


async def test_one_retry_at_a_time(sessionmaker: Sessions, tmp_path: Path) -> None:
    spool_dir = tmp_path / "inbox-spool"
    spool_dir.mkdir()
    (spool_dir / FAILED).write_bytes(record(1))
    with _locked(spool_dir), pytest.raises(RetryBusy):
        await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert set_aside(spool_dir) == ids(1)


def test_appends_to_failed_spool_wait_for_its_lock(tmp_path: Path) -> None:
    """While a retry holds failed.spool's lock (taking and emptying it), the node's append
    waits, then lands in the emptied file instead of being cut off or taken half."""
    path = tmp_path / FAILED
    path.write_bytes(record(1))
    holder = os.open(path, os.O_RDWR)
    lock_file(holder)
    appended = threading.Event()

    def append() -> None:
        append_whole(path, record(2))
        appended.set()

    thread = threading.Thread(target=append)
    thread.start()
    time.sleep(0.1)
    assert not appended.is_set()
    os.ftruncate(holder, 0)
    os.close(holder)
    thread.join(5)
    assert appended.is_set()
    assert set_aside(tmp_path) == ids(2)


def test_a_stuck_lock_holder_makes_the_append_fail_not_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("federation.spool.LOCK_SECONDS", 0.05)
    path = tmp_path / FAILED
    holder = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        lock_file(holder)
        with pytest.raises(OSError, match="locked by another process"):
            append_whole(path, record(1))
    finally:
        os.close(holder)


@pytest.mark.usefixtures("clean_env")
def test_the_command_tries_again_and_reports(tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "node"
    spool_dir = data / "inbox-spool"
    spool_dir.mkdir(parents=True)
    (spool_dir / FAILED).write_bytes(record(1) + record(2, library=999_999))
    env = {"BIBNETZ_DATABASE_URL": database_url}
    args = ["--data", str(data), "inbox", "--retry-set-aside"]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert "Tried 2 set-aside activities again: 1 stored" in result.output
    assert "1 refused again (still set aside)." in result.output
    assert f"  {ids(2)[0]}: IntegrityError" in result.output
    assert "failed.spool): 1\n" in result.output
    assert "Stored, not yet processed: 1\n" in result.output

    (spool_dir / FAILED).unlink()
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert "Nothing was set aside: nothing to try again." in result.output


@pytest.mark.usefixtures("clean_env")
def test_the_report_counts_what_an_unfinished_retry_holds(
    tmp_path: Path, database_url: str
) -> None:
    data = tmp_path / "node"
    work = data / "inbox-spool" / RETRY_DIR
    work.mkdir(parents=True)
    (work / "000000000001.spool").write_bytes(record(1))
    (work / FAILED).write_bytes(record(2))
    (data / "inbox-spool" / FAILED).write_bytes(record(1))  # a second copy: counted once
    env = {"BIBNETZ_DATABASE_URL": database_url}
    result = CliRunner().invoke(main, ["--data", str(data), "inbox"], env=env)
    assert result.exit_code == 0, result.output
    assert "failed.spool): 2\n" in result.output


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    "error",
    [
        OperationalError("INSERT", {}, ShuttingDown("terminating connection")),
        ConnectionRefusedError(111, "Connection refused"),  # what asyncpg raises, an OSError
    ],
    ids=["operational-error", "connection-refused"],
)
def test_the_command_says_what_happened_when_the_database_is_away(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    data = tmp_path / "node"
    spool_dir = data / "inbox-spool"
    spool_dir.mkdir(parents=True)
    (spool_dir / FAILED).write_bytes(record(1))

    def away(self: InboxSpool, rows: list[dict[str, Any]], conn: Connection) -> None:
        raise error

    monkeypatch.setattr(InboxSpool, "_insert_rows", away)
    result = CliRunner().invoke(
        main,
        ["--data", str(data), "inbox", "--retry-set-aside"],
        env={"BIBNETZ_DATABASE_URL": database_url},
    )
    assert result.exit_code == 1
    assert "the database did not take them now" in result.output
    assert "Traceback" not in result.output
    assert set_aside(spool_dir) == ids(1)

"""Trying set-aside inbox activities again: what the database now takes is stored, what it
refuses again stays set aside, and a database that is away loses none of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.spool import FAILED, InboxSpool, encode, read_records
from federation.spool_retry import RETRY_DIR, RETRY_LOCK, RetryBusy, _locked, retry_set_aside
from node.cli import main
from node.models import InboxActivity, utcnow

Sessions = async_sessionmaker[AsyncSession]
ACTOR = "https://peer.example/users/a"


def record(n: int, library: int | None = None) -> bytes:
    activity_id = f"https://peer.example/activities/{n}"
    meta = {
        "id": activity_id,
        "type": "Create",
        "actor": ACTOR,
        "library": library,
        "received": utcnow().isoformat(),
    }
    return encode(meta, json.dumps({"id": activity_id, "type": "Create"}).encode())


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


async def test_what_the_database_now_takes_is_stored_and_the_rest_stays_set_aside(
    sessionmaker: Sessions, tmp_path: Path
) -> None:
    """Activity 1 is storable now, 2 names a library that does not exist (refused again),
    3 was stored meanwhile (counts as stored, stays stored once); a record torn at the end
    is dropped, as the spool drops it."""
    spool_dir = tmp_path / "inbox-spool"
    spool_dir.mkdir()
    await store_one(sessionmaker, 3)
    (spool_dir / FAILED).write_bytes(
        record(1) + record(2, library=999_999) + record(3) + record(4)[:-7]
    )
    outcome = await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert (outcome.tried, outcome.stored, outcome.refused) == (3, 2, 1)
    assert [activity_id for activity_id, _ in outcome.reasons] == ids(2)
    assert "IntegrityError" in outcome.reasons[0][1]
    assert await stored(sessionmaker) == ids(3, 1)
    assert set_aside(spool_dir) == ids(2)
    assert sorted(p.name for p in spool_dir.iterdir()) == [FAILED, RETRY_LOCK]

    again = await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert (again.tried, again.stored, again.refused) == (1, 0, 1)
    assert set_aside(spool_dir) == ids(2)


async def test_nothing_set_aside_is_nothing_to_do(sessionmaker: Sessions, tmp_path: Path) -> None:
    outcome = await retry_set_aside(tmp_path / "inbox-spool", engine_of(sessionmaker))
    assert (outcome.tried, outcome.stored, outcome.refused) == (0, 0, 0)
    assert not (tmp_path / "inbox-spool" / RETRY_DIR).exists()


async def test_a_database_that_is_away_loses_none_of_them(
    sessionmaker: Sessions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first batch fails as if the database were shutting down: the error reaches the
    caller and every record is set aside again, and what a node set aside meanwhile too."""
    spool_dir = tmp_path / "inbox-spool"
    spool_dir.mkdir()
    (spool_dir / FAILED).write_bytes(record(1) + record(2))

    class ShuttingDown(Exception):
        sqlstate = "57P01"

    def away(self: InboxSpool, rows: list[dict[str, Any]], conn: Connection) -> None:
        (spool_dir / FAILED).write_bytes(record(7))  # the node set one aside meanwhile
        raise OperationalError("INSERT", {}, ShuttingDown("terminating connection"))

    monkeypatch.setattr(InboxSpool, "_insert_rows", away)
    with pytest.raises(OperationalError):
        await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert await stored(sessionmaker) == []
    assert sorted(set_aside(spool_dir)) == sorted(ids(7, 1, 2))
    assert not (spool_dir / RETRY_DIR).exists()


async def test_a_crashed_retry_is_finished_by_the_next(
    sessionmaker: Sessions, tmp_path: Path
) -> None:
    """A retry killed midway left a taken file and one refusal in retry/: the next retry
    tries the taken file and today's failed.spool, and keeps the refusal set aside."""
    spool_dir = tmp_path / "inbox-spool"
    work = spool_dir / RETRY_DIR
    work.mkdir(parents=True)
    (work / "000000000001.spool").write_bytes(record(1))
    (work / FAILED).write_bytes(record(2, library=999_999))
    (spool_dir / FAILED).write_bytes(record(3))
    outcome = await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert (outcome.tried, outcome.stored, outcome.refused) == (3, 2, 1)
    assert await stored(sessionmaker) == ids(1, 3)
    assert set_aside(spool_dir) == ids(2)


async def test_one_retry_at_a_time(sessionmaker: Sessions, tmp_path: Path) -> None:
    spool_dir = tmp_path / "inbox-spool"
    (spool_dir).mkdir()
    (spool_dir / FAILED).write_bytes(record(1))
    with _locked(spool_dir), pytest.raises(RetryBusy):
        await retry_set_aside(spool_dir, engine_of(sessionmaker))
    assert set_aside(spool_dir) == ids(1)


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
    assert "1 refused again (still set aside" in result.output
    assert f"  {ids(2)[0]}: IntegrityError" in result.output
    assert "failed.spool): 1\n" in result.output
    assert "Stored, not yet processed: 1\n" in result.output

    (spool_dir / FAILED).unlink()
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert "Nothing was set aside: nothing to try again." in result.output

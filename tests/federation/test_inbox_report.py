"""`bibnetz inbox`: what waits in the spool, what was set aside, what processing left."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from federation.spool import CURRENT, FAILED, encode
from node.cli import main
from node.db import create_engine, create_sessionmaker, unit_of_work
from node.models import InboxActivity, utcnow

pytestmark = pytest.mark.usefixtures("clean_env")


def record(n: int, received: str = "2026-11-27T10:00:00+00:00") -> bytes:
    activity_id = f"https://peer.example/activities/{n}"
    meta = {
        "id": activity_id,
        "type": "Create",
        "actor": "https://peer.example/users/a",
        "library": None,
        "received": received,
    }
    return encode(meta, json.dumps({"id": activity_id, "type": "Create"}).encode())


def inbox(data: Path, database_url: str) -> str:
    result = CliRunner().invoke(
        main, ["--data", str(data), "inbox"], env={"BIBNETZ_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    return result.output


async def add_stored_rows(database_url: str) -> None:
    """Three stored activities: one waiting, one retrying, one given up."""
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            session.add_all([
                InboxActivity(ap_id="https://peer.example/activities/20", activity_type="Create",
                              actor="a", payload={}, received_at=utcnow()),
                InboxActivity(ap_id="https://peer.example/activities/21", activity_type="Update",
                              actor="a", payload={}, received_at=utcnow(), attempts=2,
                              error="KeyError: 'object'"),
                InboxActivity(ap_id="https://peer.example/activities/22", activity_type="Announce",
                              actor="a", payload={}, received_at=utcnow(), attempts=5,
                              processed_at=utcnow(), error="FetchError: 404"),
            ])  # fmt: skip
    finally:
        await engine.dispose()


def test_an_empty_inbox(tmp_path: Path, database_url: str) -> None:
    output = inbox(tmp_path / "node", database_url)
    assert "Waiting in the spool, not yet stored: 0\n" in output
    assert "Stored, not yet processed: 0\n" in output
    assert "failed.spool): 0\n" in output
    assert "Processing failed at least once: 0\n" in output


def test_the_report_shows_each_part_of_the_inbox(tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "node"
    spool = data / "inbox-spool"
    spool.mkdir(parents=True)
    (spool / "000000000003.spool").write_bytes(record(1, "2026-11-27T09:00:00+00:00") + record(2))
    (spool / CURRENT).write_bytes(record(3) + record(4)[:-5])  # the last one is being written
    (spool / FAILED).write_bytes(record(9))
    inbox(data, database_url)  # creates the database

    asyncio.run(add_stored_rows(database_url))
    output = inbox(data, database_url)
    assert (
        "Waiting in the spool, not yet stored: 3 (oldest received 2026-11-27T09:00:00+00:00)"
        in output
    )
    assert "Stored, not yet processed: 2\n" in output
    assert "failed.spool): 1\n" in output
    assert "https://peer.example/activities/9  from https://peer.example/users/a" in output
    assert "Processing failed at least once: 2\n" in output
    assert "activities/21  retrying, 2 attempt(s): KeyError: 'object'" in output
    assert "activities/22  gave up, 5 attempt(s): FetchError: 404" in output

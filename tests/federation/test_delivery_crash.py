"""Must-show: a node killed (SIGKILL) with 500 deliveries queued delivers all of them exactly
once to receivers after restart.

The sender runs as a real process (``tests.federation.delivery_sender``, default queue
settings) so it can be killed mid-queue. Recovery is by lease, with ``--lease-seconds 1``:
after the restart, the rows the dead process had claimed (``sending``) come back once their
lease ran out (300 s in production), while a live sender's rows are never taken over. That is
safe even if two processes ever share a database; recovering *every* ``sending`` row at
start-up would only be safe with exactly one sender per node.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import BinaryIO

from pytest_aiohttp import AiohttpServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.models import Delivery, OutboxActivity
from node.settings import Settings
from tests.federation.delivery_sender import add_activities, create_library
from tests.federation.test_delivery import FakePeer, ids, wait_for

QUEUED = 500
WORKERS = 4
ROOT = Path(__file__).resolve().parents[2]


async def start_sender(database_url: str, inbox: str, log: Path) -> asyncio.subprocess.Process:
    """The sending node as a separate process (its stderr goes to ``log``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIBNETZ_")}
    with _append(log) as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.federation.delivery_sender", database_url, inbox,
            "--lease-seconds", "1", "--workers", str(WORKERS),
            cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=err,
        )  # fmt: skip


def _append(path: Path) -> BinaryIO:
    return path.open("ab")


async def claimed_ids(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> set[str]:
    """Activity ids of rows left in ``sending``."""
    async with sessions() as session:
        uids = await session.scalars(
            select(OutboxActivity.uid)
            .join(Delivery, Delivery.activity_id == OutboxActivity.id)
            .where(Delivery.state == "sending")
        )
        return set(ids(settings, list(uids)))


async def done_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Delivery rows in state ``done``."""
    async with sessions() as session:
        query = select(func.count()).select_from(Delivery).where(Delivery.state == "done")
        return int(await session.scalar(query) or 0)


async def test_sigkill_with_500_queued_delivers_each_exactly_once_after_restart(
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
    settings: Settings,
    aiohttp_server: AiohttpServer,
    tmp_path: Path,
) -> None:
    library = await create_library(sessionmaker, settings)
    uids = await add_activities(sessionmaker, library.id, QUEUED)
    peer = FakePeer(aiohttp_server, {library.key_id: library.public_key})
    peer.delay = 0.01  # a slow receiver, so the kill lands mid-queue
    await peer.start()
    log = tmp_path / "sender.log"

    sender = await start_sender(database_url, peer.url(), log)
    try:
        await wait_for(lambda: _received(peer, 100), seconds=15)
    finally:
        sender.send_signal(signal.SIGKILL)
        await sender.wait()
    await asyncio.sleep(0.1)  # requests the receiver was still handling finish
    arrived_before_kill = len(peer.received)
    assert arrived_before_kill < QUEUED, "the kill came too late to prove anything"
    claimed = await claimed_ids(sessionmaker, settings)
    assert claimed, "the kill left no claimed rows behind: nothing to recover"
    # POSTs that arrived but whose outcome the dead process had not committed.
    unrecorded = claimed & set(peer.received)

    restarted = await start_sender(database_url, peer.url(), log)
    try:
        await wait_for(lambda: _all_done(sessionmaker, peer), seconds=15)
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert await restarted.wait() == 0, log.read_text()

    expected = set(ids(settings, uids))
    assert set(peer.received) == expected  # every activity arrived
    assert len(set(peer.received)) == QUEUED
    assert await done_count(sessionmaker) == QUEUED  # and every row knows it
    # A POST whose outcome the killed process had not committed yet is sent again, once:
    # at most delivery_max_unrecorded of them (outcomes are committed in batches). Receivers
    # drop them by activity id (bibnetz inboxes do), which makes the effect exactly-once.
    duplicates = len(peer.received) - QUEUED
    bound = Settings().delivery_max_unrecorded
    assert duplicates == len(unrecorded) <= bound, (arrived_before_kill, duplicates)


async def _received(peer: FakePeer, count: int) -> bool:
    return len(peer.received) >= count


async def _all_done(sessions: async_sessionmaker[AsyncSession], peer: FakePeer) -> bool:
    return len(set(peer.received)) == QUEUED and await done_count(sessions) == QUEUED

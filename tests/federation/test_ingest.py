"""The inbox's group-commit writer."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.ingest import MAX_BATCH, InboxWriter
from node.db import create_thread_engine
from node.models import InboxActivity, utcnow


def _row(n: int) -> dict[str, object]:
    return {
        "ap_id": f"https://peer.example/activities/{n}",
        "activity_type": "Create",
        "actor": "https://peer.example/users/a",
        "library_id": None,
        "payload": {"id": f"https://peer.example/activities/{n}", "type": "Create"},
        "received_at": utcnow(),
        "attempts": 0,
    }


@pytest.mark.parametrize("in_thread", [True, False], ids=["thread", "async-driver"])
async def test_stop_writes_every_queued_row_not_just_one_batch(
    sessionmaker: async_sessionmaker[AsyncSession], in_thread: bool
) -> None:
    """Rows queued at shutdown are all stored and their senders released, over several
    batches; a duplicate activity id counts as stored. SQLite writes in a worker thread
    (as the node does) or through the async driver; PostgreSQL always the latter."""
    engine = sessionmaker.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    url = engine.url.render_as_string(hide_password=False)
    thread_engine = create_thread_engine(url) if in_thread else None
    if in_thread and thread_engine is None:
        pytest.skip("PostgreSQL writes through asyncpg only")
    # not started: everything queues
    writer = InboxWriter(engine, on_stored=lambda: None, thread_engine=thread_engine)
    count = 2 * MAX_BATCH + 50
    stores = [asyncio.create_task(writer.store(_row(n))) for n in range(count)]
    stores.append(asyncio.create_task(writer.store(_row(0))))  # the same activity again
    await asyncio.sleep(0)  # let every store() queue its row
    await writer.stop()
    if thread_engine is not None:
        thread_engine.dispose()
    async with asyncio.timeout(5):
        await asyncio.gather(*stores)
    async with sessionmaker() as session:
        stored = await session.scalar(select(func.count()).select_from(InboxActivity))
    assert stored == count

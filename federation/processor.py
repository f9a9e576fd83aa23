"""Processes stored inbox activities in arrival order; survives restarts (rows are durable)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select

from federation.handlers import HANDLERS, FollowUp
from federation.runtime import Federation
from node.db import unit_of_work
from node.models import InboxActivity, RemoteActor, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH = 50


async def process_one(fed: Federation, item_id: int) -> None:
    """Run the handler of one activity in its own unit of work; record failures on the row."""
    follow_ups: list[FollowUp] = []
    try:
        async with unit_of_work(fed.sessionmaker) as session:
            item = await session.get_one(InboxActivity, item_id)
            handler = HANDLERS.get(item.activity_type)
            actor = await session.scalar(select(RemoteActor).where(RemoteActor.ap_id == item.actor))
            if handler is not None and actor is not None:
                follow_ups = await handler(fed, session, item, actor)
            item.processed_at = utcnow()
    except Exception as exc:
        log.warning("processing inbox activity %s failed: %s", item_id, exc)
        async with unit_of_work(fed.sessionmaker) as session:
            item = await session.get_one(InboxActivity, item_id)
            item.attempts += 1
            item.error = f"{type(exc).__name__}: {exc}"[:2000]
            if item.attempts >= MAX_ATTEMPTS:
                item.processed_at = utcnow()  # give up; the error stays for operators
        return
    for follow_up in follow_ups:
        fed.spawn(follow_up(), name=f"inbox-{item_id}-follow-up")


async def process_pending(fed: Federation) -> int:
    """Process every unprocessed activity (oldest first); returns how many were handled."""
    handled = 0
    while True:
        async with fed.sessionmaker() as session:
            ids = (
                await session.scalars(
                    select(InboxActivity.id)
                    .where(InboxActivity.processed_at.is_(None))
                    .order_by(InboxActivity.id)
                    .limit(BATCH)
                )
            ).all()
        if not ids:
            return handled
        for item_id in ids:
            await process_one(fed, item_id)
            handled += 1


async def run_processor(fed: Federation) -> None:
    """Loop forever: process what is pending, then sleep until woken or the poll interval."""
    while True:
        fed.wake_inbox.clear()
        try:
            await process_pending(fed)
        except Exception:  # keep the loop alive; the rows stay and are retried
            log.exception("inbox processing failed")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(fed.settings.delivery_poll_seconds):
                await fed.wake_inbox.wait()

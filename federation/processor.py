"""Processes stored inbox activities in arrival order; survives restarts (rows are durable)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select

from federation.handlers import HANDLERS, FollowUp
from federation.runtime import Federation
from node.models import InboxActivity, RemoteActor, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH = 50
# The spool wakes the processor after each drain (at most every inbox_max_delay_seconds
# during a burst); drains that follow each other closely are processed together.
SETTLE_SECONDS = 0.1
MAX_DELAY_SECONDS = 1.0


async def process_one(fed: Federation, item_id: int) -> None:
    """Run the handler of one activity in its own unit of work; record failures on the row."""
    follow_ups: list[FollowUp] = []
    try:
        async with fed.writing() as session:
            item = await session.get_one(InboxActivity, item_id)
            handler = HANDLERS.get(item.activity_type)
            actor = await session.scalar(select(RemoteActor).where(RemoteActor.ap_id == item.actor))
            if handler is not None and actor is not None:
                follow_ups = await handler(fed, session, item, actor)
            item.processed_at = utcnow()
    except Exception as exc:
        log.warning("processing inbox activity %s failed: %s", item_id, exc)
        async with fed.writing() as session:
            item = await session.get_one(InboxActivity, item_id)
            item.attempts += 1
            item.error = f"{type(exc).__name__}: {exc}"[:2000]
            if item.attempts >= MAX_ATTEMPTS:
                item.processed_at = utcnow()  # give up; the error stays for operators
        return
    for follow_up in follow_ups:
        fed.spawn(follow_up(), name=f"inbox-{item_id}-follow-up")


class _BatchFailed(Exception):
    """One activity of a batch failed: the batch is rolled back and retried one by one."""


async def process_batch(fed: Federation, ids: list[int]) -> None:
    """Process several activities in one transaction (one commit instead of one each).

    If any of them fails, the whole batch is rolled back and each activity is processed on
    its own, so one bad activity cannot hold back the others and its error is recorded.
    """
    follow_ups: list[tuple[int, FollowUp]] = []
    try:
        async with fed.writing() as session:
            items = (
                await session.scalars(
                    select(InboxActivity)
                    .where(InboxActivity.id.in_(ids))
                    .order_by(InboxActivity.id)
                )
            ).all()
            actor_ids = {item.actor for item in items}
            actors = {
                a.ap_id: a
                for a in await session.scalars(
                    select(RemoteActor).where(RemoteActor.ap_id.in_(actor_ids))
                )
            }
            now = utcnow()
            for item in items:
                handler = HANDLERS.get(item.activity_type)
                actor = actors.get(item.actor)
                try:
                    if handler is not None and actor is not None:
                        for follow_up in await handler(fed, session, item, actor):
                            follow_ups.append((item.id, follow_up))
                except Exception as exc:
                    raise _BatchFailed from exc
                item.processed_at = now
    except _BatchFailed:
        for item_id in ids:
            await process_one(fed, item_id)
        return
    for item_id, follow_up in follow_ups:
        fed.spawn(follow_up(), name=f"inbox-{item_id}-follow-up")


# Handlers of these types fetch from other servers; they run in their own transaction so a
# slow peer never holds a batch (and the database's write lock) open.
NETWORK_TYPES = {"Announce"}


async def process_pending(fed: Federation, *, max_batches: int | None = None) -> int:
    """Process unprocessed activities, oldest first (all, or ``max_batches`` batches)."""
    handled = 0
    tried: set[int] = set()  # failures wait for the next wake-up instead of spinning here
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        async with fed.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(InboxActivity.id, InboxActivity.activity_type)
                    .where(InboxActivity.processed_at.is_(None))
                    .order_by(InboxActivity.id)
                    .limit(BATCH + len(tried))
                )
            ).all()
        rows = [row for row in rows if row[0] not in tried][:BATCH]
        if not rows:
            return handled
        tried.update(row[0] for row in rows)
        batch: list[int] = []
        for item_id, activity_type in rows:
            if activity_type in NETWORK_TYPES:
                if batch:
                    await process_batch(fed, batch)
                    batch = []
                await process_one(fed, item_id)
            else:
                batch.append(item_id)
        if batch:
            await process_batch(fed, batch)
        handled += len(rows)
    return handled


async def run_processor(fed: Federation) -> None:
    """Loop forever: process pending activities, in larger batches when they come fast.

    While new rows keep arriving (wake-ups closer than SETTLE_SECONDS), one batch is
    processed per MAX_DELAY_SECONDS; once they pause, the backlog is processed. Senders wait
    only for the inbox spool, never for this.
    """
    busy = False
    while True:
        fed.wake_inbox.clear()
        try:
            await process_pending(fed, max_batches=1 if busy else None)
        except Exception:  # keep the loop alive; the rows stay and are retried
            log.exception("inbox processing failed")
        if not busy:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(fed.settings.delivery_poll_seconds):
                    await fed.wake_inbox.wait()
        busy = not await _settle(fed)


async def _settle(fed: Federation) -> bool:
    """Wait while activities keep arriving (at most MAX_DELAY_SECONDS); whether it got quiet."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_DELAY_SECONDS
    while loop.time() < deadline:
        fed.wake_inbox.clear()
        try:
            async with asyncio.timeout(SETTLE_SECONDS):
                await fed.wake_inbox.wait()
        except TimeoutError:
            return True
    return False

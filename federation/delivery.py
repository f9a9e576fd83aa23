"""The durable outgoing queue: outbox activities → one delivery row per inbox → signed POSTs.

``dispatch_pending`` renders each new OutboxActivity once and stores its payload together
with one Delivery row per distinct inbox, in one transaction per activity. ``DeliveryQueue``
claims due rows under a lease (``sending`` + ``lease_until``), POSTs them with at most
``delivery_workers`` in flight, and records each outcome before that worker sends again.

Crash safety: rows whose lease ran out (their process died) go back to ``pending``, so a
killed node resumes where it stopped. A POST that reached its receiver but whose outcome was
not committed yet is sent once more after a crash, at most one per worker; receivers
deduplicate by activity id (bibnetz inboxes do), which makes the effect exactly-once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Self

import aiohttp
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import ColumnElement, Row, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation import hosts
from federation.hosts import Attempt, HostEvent, judge, post_signed
from federation.urls import key_id
from node.db import unit_of_work
from node.keypairs import load_rsa_private
from node.models import Delivery, Library, LibraryKeys, OutboxActivity, utcnow
from node.settings import Settings

log = logging.getLogger(__name__)

Sessions = async_sessionmaker[AsyncSession]
Clock = Callable[[], datetime]
Render = Callable[[AsyncSession, OutboxActivity], Awaitable["Rendered | None"]]

LEASE_SECONDS = 300.0
DISPATCH_BATCH = 200


@dataclass(frozen=True)
class Rendered:
    """What one activity sends: its ActivityStreams document and the target inboxes."""

    payload: dict[str, Any]
    inboxes: list[str]


async def _dispatch_one(
    session: AsyncSession, render: Render, activity_id: int, now: datetime
) -> int:
    # skip_locked: a second dispatcher (PostgreSQL) leaves the row to whoever holds it.
    lock = {"skip_locked": True}
    activity = await session.get(OutboxActivity, activity_id, with_for_update=lock)
    if activity is None or activity.dispatched_at is not None:
        return 0
    rendered = await render(session, activity)
    if rendered is not None:
        activity.payload = rendered.payload
        rows = []
        for inbox in dict.fromkeys(rendered.inboxes):  # distinct, in the render's order
            host = hosts.inbox_host(inbox)
            rows.append(
                {"activity_id": activity.id, "inbox": inbox[:2048], "host": host or "",
                 "state": "pending" if host else "failed", "next_attempt_at": now,
                 "last_error": None if host else "invalid inbox URL", "created_at": now}
            )  # fmt: skip
        if rows:
            await session.execute(insert(Delivery), rows)
    activity.dispatched_at = now
    return 1


async def _dispatch_batch(
    sessionmaker: Sessions,
    render: Render,
    limit: int,
    now: Clock,
    writing: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    after_each: Callable[[], bool] = lambda: True,
) -> int:
    async with sessionmaker() as session:
        query = select(OutboxActivity.id).where(OutboxActivity.dispatched_at.is_(None))
        ids = list(await session.scalars(query.order_by(OutboxActivity.id).limit(limit)))
    dispatched = 0
    for activity_id in ids:
        try:
            # Activity and its deliveries commit together: a crash never half-fans one out.
            async with writing() as session:
                dispatched += await _dispatch_one(session, render, activity_id, now())
        except Exception:  # one broken activity must not hold up the others
            log.exception("cannot dispatch outbox activity %s", activity_id)
        if not after_each():
            break
    return dispatched


async def dispatch_pending(
    sessionmaker: Sessions, render: Render, *, limit: int = DISPATCH_BATCH, now: Clock = utcnow
) -> int:
    """Render undispatched activities (oldest first) and fan each out to delivery rows."""
    return await _dispatch_batch(
        sessionmaker, render, limit, now, lambda: unit_of_work(sessionmaker)
    )


@dataclass
class _Job:
    id: int
    inbox: str
    host: str
    attempts: int
    body: bytes
    signer: tuple[str, RSAPrivateKey] | None  # key id and key; None: library has no keys
    attempt: Attempt | None = None  # None after sending: deferred, not sent
    deferred_until: datetime | None = None  # the host failed moments ago
    recorded: bool = False


class DeliveryQueue:
    """Sends due delivery rows, at most ``settings.delivery_workers`` POSTs in flight.

    Use ``async with DeliveryQueue(...) as queue`` (or ``start``/``stop``) with the app's
    one ClientSession. ``notify()`` wakes it after recording activities.
    """

    def __init__(
        self,
        sessionmaker: Sessions,
        client: aiohttp.ClientSession,
        settings: Settings,
        render: Render,
        *,
        now: Clock = utcnow,
        lease_seconds: float = LEASE_SECONDS,
        wake: asyncio.Event | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._sessionmaker, self._client, self._settings = sessionmaker, client, settings
        self._render, self._now, self._rng = render, now, rng or random.Random()
        self._lease = timedelta(seconds=lease_seconds)
        self._wake_dispatch = wake or asyncio.Event()
        self._wake_claim = asyncio.Event()
        self._workers = max(1, settings.delivery_workers)
        # Claimed ahead so a worker never waits for the database to hand it the next row.
        self._capacity = self._workers * 4
        self._jobs: asyncio.Queue[_Job] = asyncio.Queue()
        self._held: set[int] = set()  # claimed by this process, outcome not recorded yet
        self._tripped: dict[str, datetime] = {}  # host → until when its rows are deferred
        self._keys: dict[int, tuple[tuple[str, str], tuple[str, RSAPrivateKey]]] = {}
        self._outcomes: list[_Job] = []
        self._record_lock = asyncio.Lock()
        bind = sessionmaker.kw.get("bind")
        # SQLite has one writer: queueing our own transactions here avoids its busy sleeps.
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._write_lock = asyncio.Lock() if sqlite else None
        self._more_due, self._next_upkeep, self._stopping = False, 0.0, False
        self._tasks: list[asyncio.Task[None]] = []
        self._in_db: set[asyncio.Task[Any]] = set()  # tasks stop() must let finish

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def notify(self) -> None:
        """Wake the queue: new outbox activities or deliveries are waiting."""
        self._wake_dispatch.set()
        self._wake_claim.set()

    async def start(self) -> None:
        """Start the dispatcher, the claimer and the workers (expired leases recover first)."""
        if self._tasks:
            return
        self._stopping, self._next_upkeep = False, 0.0
        loops = [self._dispatch_loop(), self._claim_loop()]
        loops += [self._work() for _ in range(self._workers)]
        self._tasks = [asyncio.create_task(loop) for loop in loops]

    async def stop(self) -> None:
        """Stop sending; rows claimed but not sent go back to ``pending`` at once."""
        self._stopping = True
        self.notify()
        for task in self._tasks:
            # Database work runs to its end (the loops then see _stopping); waits and
            # POSTs are cancelled, and their rows are released below.
            if task not in self._in_db:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        while not self._jobs.empty():
            self._jobs.get_nowait()
        try:
            async with self._writing() as session:
                await self._requeue(session, Delivery.id.in_(sorted(self._held)))
            self._held.clear()
        except Exception:  # the leases expire instead
            log.exception("cannot release %d claimed deliveries", len(self._held))

    @contextlib.contextmanager
    def _db_phase(self) -> Iterator[None]:
        """Mark the current task as talking to the database, which stop() lets finish."""
        task = asyncio.current_task()
        assert task is not None
        nested = task in self._in_db
        self._in_db.add(task)
        try:
            yield
        finally:
            if not nested:
                self._in_db.discard(task)

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        with self._db_phase():
            async with (
                self._write_lock or contextlib.nullcontext(),
                unit_of_work(self._sessionmaker) as session,
            ):
                yield session

    async def _sleep(self, event: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._settings.delivery_poll_seconds):
                await event.wait()

    async def _dispatch_loop(self) -> None:
        def go_on() -> bool:
            self._wake_claim.set()  # claim what is there while the next one renders
            return not self._stopping

        while not self._stopping:
            self._wake_dispatch.clear()
            dispatched = 0
            try:
                with self._db_phase():
                    dispatched = await _dispatch_batch(
                        self._sessionmaker, self._render, DISPATCH_BATCH, self._now,
                        self._writing, go_on,
                    )  # fmt: skip
            except Exception:
                log.exception("cannot look up outbox activities")
            if dispatched < DISPATCH_BATCH:
                await self._sleep(self._wake_dispatch)

    async def _claim_loop(self) -> None:
        while not self._stopping:
            self._wake_claim.clear()
            room = self._capacity - self._jobs.qsize()
            jobs: list[_Job] = []
            try:
                jobs = await self._claim(room) if room > 0 else []
            except Exception:
                log.exception("cannot claim deliveries")
            for job in jobs:
                self._jobs.put_nowait(job)
            # After an empty claim only new rows (notify, dispatch) or the poll wake us;
            # otherwise workers ask for a refill whenever the local queue runs low.
            self._more_due = bool(jobs) or room <= 0
            await self._sleep(self._wake_claim)

    async def _claim(self, room: int) -> list[_Job]:
        now = self._now()
        lease_until = now + self._lease
        clock = asyncio.get_running_loop().time()
        self._tripped = {host: t for host, t in self._tripped.items() if t > now}
        async with self._writing() as session:
            ids: list[int] = []
            if clock >= self._next_upkeep:
                self._next_upkeep = clock + self._settings.delivery_poll_seconds
                # Rows left in ``sending`` by a process that died (lease over) are due
                # again; ours are in flight or queued here, whatever their lease says.
                expired = or_(Delivery.lease_until.is_(None), Delivery.lease_until < now)
                await self._requeue(session, expired, Delivery.id.not_in(sorted(self._held)))
                await hosts.fail_blocked(session)
                ids += await hosts.claim_probes(session, now, lease_until)
            ids += await session.scalars(hosts.due_deliveries(now, room, self._tripped))
            if not ids:
                return []
            claimed = update(Delivery).where(Delivery.id.in_(ids))
            await session.execute(claimed.values(state="sending", lease_until=lease_until))
            columns = (Delivery.id, Delivery.inbox, Delivery.host, Delivery.attempts)
            payloads = select(*columns, OutboxActivity.library_id, OutboxActivity.payload)
            payloads = payloads.add_columns(OutboxActivity.id.label("activity_id"))
            joined = payloads.join(OutboxActivity, OutboxActivity.id == Delivery.activity_id)
            rows = (await session.execute(joined.where(Delivery.id.in_(ids)))).all()
            await self._load_keys(session, {row.library_id for row in rows})
        self._held.update(ids)
        order = {delivery_id: n for n, delivery_id in enumerate(ids)}
        bodies = {
            r.activity_id: json.dumps(r.payload, separators=(",", ":")).encode() for r in rows
        }
        return [
            _Job(r.id, r.inbox, r.host, r.attempts, bodies[r.activity_id], self._signer(r))
            for r in sorted(rows, key=lambda r: order[r.id])
        ]

    def _signer(self, row: Row[Any]) -> tuple[str, RSAPrivateKey] | None:
        cached = self._keys.get(row.library_id)
        return cached[1] if cached else None

    async def _requeue(self, session: AsyncSession, *where: ColumnElement[bool]) -> None:
        query = update(Delivery).where(Delivery.state == "sending", *where)
        await session.execute(query.values(state="pending", lease_until=None))

    async def _load_keys(self, session: AsyncSession, library_ids: set[int]) -> None:
        rows = await session.execute(
            select(LibraryKeys.library_id, Library.handle, LibraryKeys.rsa_private_pem)
            .join(Library, Library.id == LibraryKeys.library_id)
            .where(LibraryKeys.library_id.in_(sorted(library_ids)))
        )
        for library_id, handle, pem in rows:
            cached = self._keys.get(library_id)
            # Parsing a key costs milliseconds: do it once, again only after a rotation.
            if cached is None or cached[0] != (pem, handle):
                signer = (key_id(self._settings, handle), load_rsa_private(pem))
                self._keys[library_id] = ((pem, handle), signer)

    async def _work(self) -> None:
        while not self._stopping:
            job = await self._jobs.get()
            if self._more_due and self._jobs.qsize() <= self._workers:
                self._wake_claim.set()
            await self._send(job)
            await self._record(job)

    async def _send(self, job: _Job) -> None:
        until = self._tripped.get(job.host)
        if until is not None and until > self._now():
            job.deferred_until = until
        elif job.signer is None:
            job.attempt = Attempt(error="library has no signing key", permanent=True)
        else:
            allow_private = self._settings.allow_private_peers
            job.attempt = await post_signed(
                self._client, job.inbox, job.body, job.signer, allow_private
            )
            if job.attempt.unreachable:
                # The host's other queued rows wait a moment instead of each timing out.
                base = timedelta(seconds=self._settings.delivery_retry_base_seconds)
                self._tripped[job.host] = self._now() + base

    async def _record(self, job: _Job) -> None:
        """Store a job's outcome; concurrent callers share one transaction (group commit)."""
        self._outcomes.append(job)
        with self._db_phase():
            while not job.recorded:
                async with self._record_lock:
                    if job.recorded:
                        return
                    batch, self._outcomes = self._outcomes, []
                    try:
                        await self._write(batch)
                    except Exception:
                        self._outcomes[:0] = batch
                        log.exception("cannot record %d delivery outcomes", len(batch))
                    else:
                        for done in batch:
                            done.recorded = True
                            self._held.discard(done.id)
                        return
                if self._stopping:
                    return  # the row's lease brings it back after the next start
                await asyncio.sleep(self._settings.delivery_poll_seconds)

    async def _write(self, batch: list[_Job]) -> None:
        now, s = self._now(), self._settings
        rows: list[dict[str, Any]] = []
        events: list[tuple[str, HostEvent]] = []
        for job in batch:
            attempt = job.attempt
            if attempt is None:  # deferred, not sent: keeps its attempts and last result
                rows.append(
                    {"id": job.id, "state": "pending", "lease_until": None,
                     "next_attempt_at": job.deferred_until or now}
                )  # fmt: skip
                continue
            verdict = judge(attempt, job.attempts + 1, now, s, self._rng.uniform(0.8, 1.2))
            rows.append(
                {"id": job.id, "state": verdict.state, "attempts": job.attempts + 1,
                 "next_attempt_at": verdict.next_attempt_at, "lease_until": None,
                 "last_status": attempt.status, "last_error": attempt.error,
                 "delivered_at": now if verdict.state == "done" else None}
            )  # fmt: skip
            if verdict.host_event is not None:
                events.append((job.host, verdict.host_event))
        async with self._writing() as session:
            await session.execute(update(Delivery), rows)
            await hosts.record_host_events(session, events, now, self._settings)

"""The durable outgoing queue: outbox activities → one delivery row per inbox → signed POSTs.

``dispatch_pending`` stores each new activity's payload with one Delivery row per distinct
inbox. ``DeliveryQueue`` claims due rows under a lease (``sending`` + ``lease_until``), POSTs
them, at most ``delivery_workers`` at a time, and records outcomes in batches: a transaction
costs far more than a row. Rows whose lease ran out (their process died) become ``pending``
again, so a killed node resumes where it stopped; POSTs whose outcome was not committed yet
(at most ``max_unrecorded``) are sent once more. Receivers deduplicate by activity id
(bibnetz inboxes do), which makes the effect exactly-once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Self, TypeVar
from typing import cast as typed

import aiohttp
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Table,
    Text,
    bindparam,
    cast,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation import hosts
from federation.hosts import Attempt, post_signed
from federation.urls import key_id
from node.db import KeptRunner, unit_of_work
from node.keypairs import load_rsa_private
from node.models import Delivery, Library, LibraryKeys, OutboxActivity, utcnow
from node.settings import Settings

log = logging.getLogger(__name__)

Sessions = async_sessionmaker[AsyncSession]
Clock = Callable[[], datetime]
Render = Callable[[AsyncSession, OutboxActivity], Awaitable["Rendered | None"]]
Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]

T = TypeVar("T")
# A claim's rows (id, inbox, host, attempts, activity_id), payloads by activity id
# (library id, JSON text), and the blocked hosts when the claim did the upkeep.
_Claimed = tuple[list[Row[Any]], dict[int, tuple[int, str | None]], set[str] | None]

LEASE_SECONDS = 300.0
DISPATCH_BATCH = 200
RECORD_WAIT = 0.02  # seconds an outcome may wait for others to share its transaction


@dataclass(frozen=True)
class Rendered:
    """What one activity sends: its ActivityStreams document and the target inboxes."""

    payload: dict[str, Any]
    inboxes: list[str]


async def _undispatched(session: AsyncSession, limit: int, only: int = 0) -> list[OutboxActivity]:
    query = select(OutboxActivity).where(OutboxActivity.dispatched_at.is_(None))
    if only:
        query = query.where(OutboxActivity.id == only)
    # skip_locked: a second dispatcher (PostgreSQL) leaves rows to whoever holds them.
    query = query.order_by(OutboxActivity.id).limit(limit).with_for_update(skip_locked=True)
    return list(await session.scalars(query))


_OUTBOX = typed(Table, OutboxActivity.__table__)
_DELIVERIES = typed(Table, Delivery.__table__)
# Core statements (executemany): the ORM's unit of work and bulk-insert machinery cost
# more CPU on the event loop than the SQL itself (measured: 13 % of the sending loop).
_MARK_DISPATCHED = (
    update(_OUTBOX).where(_OUTBOX.c.id == bindparam("b_id")).values(dispatched_at=bindparam("b_at"))
)
_STORE_RENDERED = _MARK_DISPATCHED.values(payload=bindparam("b_payload"))


async def _fan_out(
    session: AsyncSession, render: Render, activities: list[OutboxActivity], now: datetime
) -> int:
    rows: list[dict[str, Any]] = []
    rendered_rows: list[dict[str, Any]] = []
    skipped_rows: list[dict[str, Any]] = []
    for activity in activities:
        rendered = await render(session, activity)
        if rendered is None:
            skipped_rows.append({"b_id": activity.id, "b_at": now})
        else:
            rendered_rows.append({"b_id": activity.id, "b_at": now, "b_payload": rendered.payload})
            rows += hosts.delivery_rows(activity.id, rendered.inboxes, now)
    for statement, params in ((_STORE_RENDERED, rendered_rows), (_MARK_DISPATCHED, skipped_rows)):
        if params:
            await session.execute(statement, params)
    if rows:
        await session.execute(insert(_DELIVERIES), rows)
    return len(activities)


async def _dispatch(render: Render, limit: int, now: Clock, transaction: Transaction) -> int:
    # A batch shares one transaction, and each activity commits with its deliveries, so a
    # crash never leaves one half fanned out. If a render fails, the batch is redone one
    # activity per transaction, so one broken activity does not hold up the others.
    try:
        async with transaction() as session:
            return await _fan_out(session, render, await _undispatched(session, limit), now())
    except Exception:
        log.exception("dispatching a batch failed; retrying one activity at a time")
    async with transaction() as session:
        ids = [activity.id for activity in await _undispatched(session, limit)]
    dispatched = 0
    for activity_id in ids:
        try:
            async with transaction() as session:
                found = await _undispatched(session, 1, activity_id)
                dispatched += await _fan_out(session, render, found, now())
        except Exception:
            log.exception("cannot dispatch outbox activity %s", activity_id)
    return dispatched


async def dispatch_pending(
    sessionmaker: Sessions, render: Render, *, limit: int = DISPATCH_BATCH, now: Clock = utcnow
) -> int:
    """Render undispatched activities (oldest first) and fan each out to delivery rows."""
    return await _dispatch(render, limit, now, lambda: unit_of_work(sessionmaker))


def _requeue(conn: Connection, *where: ColumnElement[bool]) -> None:
    query = update(Delivery).where(Delivery.state == "sending", *where)
    conn.execute(query.values(state="pending", lease_until=None))


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
    claimed_in: int = 0  # number of the claim that took it


class DeliveryQueue:
    """Sends due delivery rows, at most ``settings.delivery_workers`` POSTs in flight.

    Use ``async with DeliveryQueue(...) as queue`` (or ``start``/``stop``) with the app's
    one ClientSession; ``notify()`` wakes it after recording activities. ``max_unrecorded``
    caps POSTs whose outcome is not committed yet: what a crash may send twice.
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
        max_unrecorded: int | None = None,
        wake: asyncio.Event | None = None,
        thread_engine: Engine | None = None,
    ) -> None:
        engine = sessionmaker.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("the sessionmaker must be bound to an AsyncEngine")
        self._engine, self._sessionmaker, self._client = engine, sessionmaker, client
        self._settings, self._render, self._now = settings, render, now
        self._rng, self._lease = random.Random(), timedelta(seconds=lease_seconds)
        self._workers = max(1, settings.delivery_workers)
        self._unrecorded_max = max(1, max_unrecorded or settings.delivery_max_unrecorded)
        # Outcomes gather to share one transaction: until every worker waits for one (the
        # default), or half the allowance is used (so workers keep sending meanwhile).
        self._flush_at = min(self._unrecorded_max, max(self._workers, self._unrecorded_max // 2))
        # Claimed ahead in big batches: a claim is a transaction, whatever its size.
        self._capacity = self._workers * 64
        # SQLite has one writer: queueing our own transactions here avoids its busy sleeps.
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self._wake_dispatch, self._wake_claim = wake or asyncio.Event(), asyncio.Event()
        self._jobs: asyncio.Queue[_Job] = asyncio.Queue()
        self._outcomes: list[_Job] = []
        self._outcome_ready, self._unrecorded = asyncio.Event(), asyncio.Semaphore()
        self._held: set[int] = set()  # claimed by this process, outcome not recorded yet
        self._tripped: dict[str, datetime] = {}  # host → until when its rows are deferred
        self._claim_number = 0
        # Hosts blocked as of the upkeep in claim number N: rows claimed before N are dropped
        # (later claims skip blocked hosts themselves, and see an unblock at once).
        self._blocked: tuple[set[str], int] = (set(), 0)
        self._health = hosts.HealthCache()
        self._keys: dict[int, tuple[tuple[str, str], tuple[str, RSAPrivateKey]]] = {}
        self._more_due, self._next_upkeep, self._stopping = False, 0.0, False
        self._tasks: list[asyncio.Task[None]] = []
        self._recorder: asyncio.Task[None] | None = None
        self._in_db: set[asyncio.Task[Any]] = set()  # tasks stop() must let finish
        # A connection kept open per use (claims, outcomes), both behind the write lock; on
        # SQLite with a thread engine each runs its transactions in a worker thread.
        self._claims = KeptRunner(engine, thread_engine, self._write_lock, "delivery-claims")
        self._records = KeptRunner(engine, thread_engine, self._write_lock, "delivery-records")

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
        """Start dispatcher, claimer, recorder and workers (expired leases recover first)."""
        if self._tasks:
            return
        self._stopping, self._next_upkeep = False, 0.0
        self._unrecorded = asyncio.Semaphore(self._unrecorded_max)
        loops = [self._dispatch_loop(), self._claim_loop()]
        loops += [self._work() for _ in range(self._workers)]
        self._tasks = [asyncio.create_task(loop) for loop in loops]
        self._recorder = asyncio.create_task(self._record_loop())

    async def stop(self) -> None:
        """Stop sending, record what was sent; rows claimed but not sent become pending."""
        self._stopping = True
        self.notify()
        for task in self._tasks:
            # Database work runs to its end (the loops then see _stopping); waits and
            # POSTs are cancelled, and their rows are released below.
            if task not in self._in_db:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._outcome_ready.set()
        if self._recorder is not None:
            await asyncio.gather(self._recorder, return_exceptions=True)
        self._tasks, self._recorder = [], None
        while not self._jobs.empty():
            self._jobs.get_nowait()
        held = sorted(self._held)
        try:
            await self._run(self._claims, lambda conn: _requeue(conn, Delivery.id.in_(held)))
            self._held.clear()
        except Exception:  # the leases expire instead
            log.exception("cannot release %d claimed deliveries", len(self._held))
        await self._claims.close()
        await self._records.close()

    @contextlib.contextmanager
    def _db_phase(self) -> Iterator[None]:
        """Mark the current task as talking to the database, which stop() lets finish."""
        task = asyncio.current_task()
        assert task is not None
        self._in_db.add(task)
        try:
            yield
        finally:
            self._in_db.discard(task)

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        with self._db_phase():
            async with (
                self._write_lock or contextlib.nullcontext(),
                unit_of_work(self._sessionmaker) as session,
            ):
                yield session

    async def _run(self, runner: KeptRunner, fn: Callable[[Connection], T]) -> T:
        with self._db_phase():
            return await runner.run(fn)

    async def _sleep(self, event: asyncio.Event, seconds: float | None = None) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds or self._settings.delivery_poll_seconds):
                await event.wait()

    async def _dispatch_loop(self) -> None:
        while not self._stopping:
            self._wake_dispatch.clear()
            dispatched = 0
            try:
                dispatched = await _dispatch(self._render, DISPATCH_BATCH, self._now, self._session)
            except Exception:
                log.exception("cannot look up outbox activities")
            if dispatched:
                self._wake_claim.set()
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
        self._claim_number += 1
        number = self._claim_number
        self._tripped = {host: t for host, t in self._tripped.items() if t > now}
        upkeep = clock >= self._next_upkeep
        if upkeep:
            self._next_upkeep = clock + self._settings.delivery_poll_seconds
        # Read on the event loop, used in the claims' transaction (possibly in its thread).
        held, tripped = sorted(self._held), set(self._tripped)

        def claim(conn: Connection) -> _Claimed:
            return self._claim_rows(conn, now, lease_until, room, upkeep, held, tripped)

        rows, payloads, blocked = await self._run(self._claims, claim)
        if blocked is not None:
            self._blocked = (blocked, number)
        self._held.update(row.id for row in rows)
        jobs = []
        for row in sorted(rows, key=lambda row: row.id):
            library_id, text = payloads[row.activity_id]
            cached = self._keys.get(library_id)
            body_bytes, signer = (text or "null").encode(), cached[1] if cached else None
            job = _Job(row.id, row.inbox, row.host, row.attempts, body_bytes, signer)
            job.claimed_in = number
            jobs.append(job)
        return jobs

    def _claim_rows(
        self,
        conn: Connection,
        now: datetime,
        lease_until: datetime,
        room: int,
        upkeep: bool,
        held: list[int],
        tripped: set[str],
    ) -> _Claimed:
        """Claim due rows (and, at an upkeep, recover expired leases, fail the rows of
        blocked hosts and pick parked hosts' probes); their payloads; load signing keys."""
        ids: list[int] = []
        blocked = None
        if upkeep:
            # Rows left in ``sending`` by a process that died (lease over) are due again;
            # ours are in flight or queued here, whatever their lease says.
            expired = or_(Delivery.lease_until.is_(None), Delivery.lease_until < now)
            _requeue(conn, expired, Delivery.id.not_in(held))
            blocked = hosts.fail_blocked(conn)
            ids += hosts.claim_probes(conn, now, lease_until)
        due = hosts.due_deliveries(now, room, tripped)
        claim = update(Delivery).where(or_(Delivery.id.in_(due), Delivery.id.in_(ids)))
        claim = claim.values(state="sending", lease_until=lease_until)
        columns = (Delivery.id, Delivery.inbox, Delivery.host, Delivery.attempts)
        rows: list[Row[Any]] = list(conn.execute(claim.returning(*columns, Delivery.activity_id)))
        if not rows:
            return [], {}, blocked
        # The stored JSON text is sent as it is: no parsing and serialising again.
        body = cast(OutboxActivity.payload, Text)
        activities = {row.activity_id for row in rows}
        query = select(OutboxActivity.id, OutboxActivity.library_id, body)
        found = conn.execute(query.where(OutboxActivity.id.in_(activities)))
        payloads: dict[int, tuple[int, str | None]] = {
            a_id: (library_id, text) for a_id, library_id, text in found
        }
        self._load_keys(conn, {library_id for library_id, _ in payloads.values()})
        return rows, payloads, blocked

    def _load_keys(self, conn: Connection, library_ids: set[int]) -> None:
        rows = conn.execute(
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
            await self._unrecorded.acquire()  # released once the outcome is committed
            job = await self._jobs.get()
            # Refill at half: a claim may take a while when the event loop is busy sending.
            if self._more_due and self._jobs.qsize() <= self._capacity // 2:
                self._wake_claim.set()
            await self._send(job)
            self._outcomes.append(job)
            if len(self._outcomes) in (1, self._flush_at):  # start the wait, or end it
                self._outcome_ready.set()

    async def _send(self, job: _Job) -> None:
        until = self._tripped.get(job.host)
        blocked, since = self._blocked
        if job.host in blocked and job.claimed_in < since:  # blocked after its claim
            job.attempt = Attempt(error=hosts.BLOCKED_ERROR, permanent=True, sent=False)
        elif until is not None and until > self._now():
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

    def _recording(self, batch: list[_Job], now: datetime) -> Callable[[Connection], None]:
        """The transaction that records a batch of outcomes (health and rng: the recorder's
        alone, so they may be used in its thread)."""

        def record(conn: Connection) -> None:
            hosts.record_outcomes(conn, batch, now, self._settings, self._rng, self._health)

        return record

    async def _record_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while self._outcomes or not self._stopping:
            if not self._outcomes:
                self._outcome_ready.clear()
                await self._outcome_ready.wait()
                continue
            deadline = loop.time() + RECORD_WAIT
            while len(self._outcomes) < self._flush_at and not self._stopping:
                self._outcome_ready.clear()
                if loop.time() >= deadline:
                    break
                await self._sleep(self._outcome_ready, deadline - loop.time())
            batch, self._outcomes = self._outcomes, []
            while True:
                try:
                    await self._run(self._records, self._recording(batch, self._now()))
                    break
                except Exception:
                    log.exception("cannot record %d delivery outcomes", len(batch))
                    self._health.forget()  # unsure what was written: write health again
                    if self._stopping:
                        return  # the rows' leases bring them back after the next start
                    await asyncio.sleep(self._settings.delivery_poll_seconds)
            for job in batch:
                self._held.discard(job.id)
                self._unrecorded.release()

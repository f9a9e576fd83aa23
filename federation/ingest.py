"""Fast paths of the inbox: group commit of verified activities, and in-memory caches.

Each verified activity must be stored durably before the inbox answers 202. Committing every
activity on its own makes SQLite (and PostgreSQL) spend most of the time in commits, so the
inbox hands rows to one writer task that commits whatever has queued up in one transaction
and then releases all the waiting requests (group commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.httpsig import PublicKey
from node.db import KeptRunner
from node.models import InboxActivity, Library, PeerHost

log = logging.getLogger(__name__)

MAX_BATCH = 200


@dataclass(frozen=True)
class CachedKey:
    """A verified actor key held in memory (dropped whenever it is refetched)."""

    actor: str
    key: PublicKey


@dataclass
class TTLCache:
    """A value recomputed at most every ``seconds`` (changes by other processes show up)."""

    seconds: float
    loaded_at: float = -1e9
    value: Any = None
    _loading: asyncio.Task[Any] | None = None

    def fresh(self) -> bool:
        """Whether the value may be used."""
        return time.monotonic() - self.loaded_at < self.seconds

    def set(self, value: Any) -> None:
        """Store a new value."""
        self.value, self.loaded_at = value, time.monotonic()

    async def get(self, load: Callable[[], Awaitable[Any]], *, force: bool = False) -> Any:
        """The value, loaded again by ``load`` once it is older than ``seconds`` (or when
        ``force``d). Callers that find it stale while a load runs wait for that load
        instead of each querying the database: a burst of requests used to send one
        query each."""
        if self.fresh() and not force:
            return self.value
        if force and self._loading is not None:
            # It may have started before the change; whatever its outcome, load anew.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._loading)
        if self._loading is None or force:
            self._loading = asyncio.create_task(self._load(load))
            # Read its outcome even if every waiter was cancelled meanwhile: no "exception
            # was never retrieved" in the log (the next caller loads again).
            self._loading.add_done_callback(_retrieve)
        return await asyncio.shield(self._loading)

    async def _load(self, load: Callable[[], Awaitable[Any]]) -> Any:
        try:
            self.set(await load())
            return self.value
        finally:
            if self._loading is asyncio.current_task():  # not a newer, forced load
                self._loading = None


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


@dataclass
class InboxCaches:
    """Per-app caches of the inbox hot path."""

    keys: dict[str, CachedKey] = field(default_factory=dict)
    blocked: TTLCache = field(default_factory=lambda: TTLCache(5.0))
    libraries: TTLCache = field(default_factory=lambda: TTLCache(5.0))
    remote_hosts: TTLCache = field(default_factory=lambda: TTLCache(5.0))

    async def measure_hosts(self, sessions: async_sessionmaker[AsyncSession]) -> set[str]:
        """Hosts of the remote libraries we hold (replies elsewhere need no lookup)."""

        async def load() -> set[str]:
            async with sessions() as session:
                rows = await session.scalars(
                    select(Library.domain).where(Library.is_local.is_(False)).distinct()
                )
                return set(rows.all())

        hosts: set[str] = await self.remote_hosts.get(load)
        return hosts

    async def blocked_hosts(self, sessions: async_sessionmaker[AsyncSession]) -> set[str]:
        """Blocked hosts (re-read every few seconds: `bibnetz block` runs in another process)."""

        async def load() -> set[str]:
            async with sessions() as session:
                rows = await session.scalars(
                    select(PeerHost.host).where(PeerHost.state == "blocked")
                )
                return set(rows.all())

        hosts: set[str] = await self.blocked.get(load)
        return hosts

    async def library_id(
        self, sessions: async_sessionmaker[AsyncSession], handle: str
    ) -> int | None:
        """The id of a local library by handle (re-read on a miss: it may be brand new)."""
        ids = await self._library_ids(sessions, reload=False)
        if handle not in ids:
            ids = await self._library_ids(sessions, reload=True)
        return ids.get(handle)

    async def _library_ids(
        self, sessions: async_sessionmaker[AsyncSession], *, reload: bool
    ) -> dict[str, int]:
        async def load() -> dict[str, int]:
            async with sessions() as session:
                rows = await session.execute(
                    select(Library.handle, Library.id).where(Library.is_local.is_(True))
                )
                return dict(rows.all())

        ids: dict[str, int] = await self.libraries.get(load, force=reload)
        return ids

    def forget_key(self, key_id: str) -> None:
        """Drop a cached key (it failed to verify, or was refetched)."""
        self.keys.pop(key_id, None)


@dataclass
class _Pending:
    row: dict[str, Any]
    done: asyncio.Future[None]


class InboxWriter:
    """Stores verified activities in batches; ``store`` returns once the row is committed.

    With ``thread_engine`` (SQLite: ``node.db.create_thread_engine``) a batch is written
    and committed in one call to a worker thread; through the async driver the same batch
    costs four hand-offs to the aiosqlite thread, each waiting for a turn of the busy event
    loop, and that wait, not SQLite, bounded the inbox (measured: ~2 ms a batch).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        on_stored: Callable[[], None],
        *,
        lock: asyncio.Lock | None = None,
        thread_engine: Engine | None = None,
    ) -> None:
        self._insert = _insert_ignoring_duplicates(engine.dialect.name)
        # SQLite: the lock is the node's write lock, shared with its other writers.
        self._runner = KeptRunner(engine, thread_engine, lock, "inbox-writer")
        self._on_stored = on_stored
        self._queue: list[_Pending] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.create_task(self._run(), name="inbox-writer")

    async def stop(self) -> None:
        """Write what is queued, then stop."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        while self._queue:  # a flush takes at most MAX_BATCH rows
            await self._flush()
        await self._runner.close()

    async def store(self, row: dict[str, Any]) -> None:
        """Queue one row and wait until it is committed (a duplicate id counts as stored)."""
        pending = _Pending(row, asyncio.get_running_loop().create_future())
        self._queue.append(pending)
        self._wake.set()
        await pending.done

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                await self._flush()

    async def _write(self, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` in one transaction (Core executemany: no ORM bookkeeping); a
        cancelled write still holds the write lock until its thread is done."""
        await self._runner.run(partial(self._insert_rows, rows))

    def _insert_rows(self, rows: list[dict[str, Any]], conn: Connection) -> None:
        conn.execute(self._insert, rows)

    async def _store_each(self, batch: list[_Pending]) -> None:
        for pending in batch:
            try:
                await self._write([pending.row])
            except Exception as exc:
                log.warning("storing inbox activity %s failed: %s", pending.row.get("ap_id"), exc)
                if not pending.done.done():
                    pending.done.set_exception(exc)
            else:
                if not pending.done.done():
                    pending.done.set_result(None)
        self._on_stored()

    async def _flush(self) -> None:
        batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            await self._write([p.row for p in batch])
        except asyncio.CancelledError:
            # Stopping: stored or not, the batch is written again by stop(), whose flush
            # releases its senders (a row already stored counts as a duplicate).
            self._queue[:0] = batch
            raise
        except Exception as exc:
            if len(batch) > 1:
                # One bad row must not fail its neighbours: store them one by one.
                await self._store_each(batch)
                return
            log.exception("storing an inbox activity failed")
            if not batch[0].done.done():
                batch[0].done.set_exception(exc)
            return
        for pending in batch:
            if not pending.done.done():
                pending.done.set_result(None)
        self._on_stored()


def _insert_ignoring_duplicates(dialect: str) -> Any:
    # The same activity can arrive twice (retries, several inboxes): the first copy wins.
    if dialect == "postgresql":
        return pg_insert(InboxActivity).on_conflict_do_nothing(index_elements=["ap_id"])
    if dialect == "sqlite":
        return sqlite_insert(InboxActivity).on_conflict_do_nothing(index_elements=["ap_id"])
    return insert(InboxActivity)

"""In-memory caches of the inbox's hot path: verified keys, blocked hosts, local libraries.

(Storing verified activities is ``federation.spool``'s.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.httpsig import PublicKey
from node.models import Library, PeerHost

log = logging.getLogger(__name__)

_NEVER = -1e9  # loaded_at of a value never loaded


@dataclass(frozen=True)
class CachedKey:
    """A verified actor key held in memory (dropped whenever it is refetched)."""

    actor: str
    key: PublicKey


@dataclass
class TTLCache:
    """A value recomputed at most every ``seconds`` (changes by other processes show up).

    When reloading fails (the database is away), the last value is used for another
    ``seconds`` with a warning in the log; only a cache that never loaded raises.
    """

    seconds: float
    name: str = "cached value"
    loaded_at: float = _NEVER
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
            try:
                value = await load()
            except Exception as exc:
                if self.loaded_at == _NEVER:
                    raise
                log.warning("cannot reload the %s (%s): using the last one", self.name, exc)
                self.loaded_at = time.monotonic()  # try again in `seconds`, not at once
                return self.value
            self.set(value)
            return value
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
    blocked: TTLCache = field(default_factory=lambda: TTLCache(5.0, "list of blocked hosts"))
    libraries: TTLCache = field(default_factory=lambda: TTLCache(5.0, "list of libraries"))
    remote_hosts: TTLCache = field(default_factory=lambda: TTLCache(5.0, "list of peer hosts"))

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

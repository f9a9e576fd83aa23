"""What the federation handlers share at run time, built once per app in cleanup_ctx."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import ClientSession, web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation import urls
from federation.caches import InboxCaches
from federation.fetch import Signer
from federation.spool import InboxSpool
from node.db import unit_of_work
from node.keypairs import load_rsa_private
from node.models import Instance, utcnow
from node.settings import Settings
from node.vocab import Vocabularies

log = logging.getLogger(__name__)


@dataclass
class Federation:
    """Settings, storage, the HTTP client and the instance signer, plus wake-up hooks."""

    settings: Settings
    vocab: Vocabularies
    sessionmaker: async_sessionmaker[AsyncSession]
    client: ClientSession
    signer: Signer
    wake_delivery: asyncio.Event = field(default_factory=asyncio.Event)
    wake_inbox: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    caches: InboxCaches = field(default_factory=InboxCaches)
    spool: InboxSpool | None = None  # set while the app serves (not in CLI commands)
    # SQLite has one writer at a time and its busy handler sleeps in growing steps; taking
    # turns through this lock keeps our own transactions from waiting on each other there.
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A unit of work that takes its turn with the node's other writers (SQLite)."""
        if self.settings.is_sqlite:
            async with self.write_lock, unit_of_work(self.sessionmaker) as session:
                yield session
        else:
            async with unit_of_work(self.sessionmaker) as session:
                yield session

    def now(self) -> datetime:
        """The current time (one place to change for tests)."""
        return utcnow()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run a background job tied to the app's lifetime; failures are logged."""
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)

        def _done(t: asyncio.Task[Any]) -> None:
            self.tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background job %s failed", name, exc_info=t.exception())

        task.add_done_callback(_done)

    async def close(self) -> None:
        """Cancel background jobs (they resume from the database on the next start)."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def instance_signer(settings: Settings, instance: Instance) -> Signer:
    """The signer of the node's Application actor (FEP-2677) for outgoing GETs."""
    return Signer(urls.instance_key_id(settings), load_rsa_private(instance.rsa_private_pem))


FEDERATION = web.AppKey("federation", Federation)

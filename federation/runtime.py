"""What the federation handlers share at run time, built once per app in cleanup_ctx."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import ClientSession, web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation import urls
from federation.fetch import Signer
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

"""Real bibnetz nodes on loopback ports, for federation tests (no mocks, real signatures)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.runtime import FEDERATION, Federation
from node import keys
from node.app import create_app
from node.db import unit_of_work
from node.settings import Settings
from node.vocab import Vocabularies
from tests.conftest import DatabaseFactory

T = TypeVar("T")


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningNode:
    """A node serving on a real port, with handles on its internals for assertions."""

    name: str
    app: web.Application
    runner: web.AppRunner
    settings: Settings

    @property
    def url(self) -> str:
        """The node's public URL."""
        return self.settings.public_url

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The node's session factory."""
        return self.app[keys.SESSIONMAKER]

    @property
    def vocab(self) -> Vocabularies:
        """The node's vocabularies."""
        return self.app[keys.VOCAB]

    @property
    def fed(self) -> Federation:
        """The node's federation runtime."""
        return self.app[FEDERATION]

    def account(self, handle: str) -> str:
        """The fediverse address of one of its libraries."""
        return f"{handle}@{self.settings.domain}"

    def actor(self, handle: str) -> str:
        """The actor id of one of its libraries."""
        return f"{self.url}/libraries/{handle}"

    async def store_inbox(self) -> None:
        """Store what the inbox spooled in the table now (the spool waits for a pause)."""
        assert self.fed.spool is not None
        await self.fed.spool.drain()

    async def work(self, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``fn`` in one unit of work on this node's database."""
        async with unit_of_work(self.sessions) as session:
            return await fn(session)


@dataclass
class Network:
    """Starts nodes on demand and stops them all at the end of the test."""

    databases: DatabaseFactory
    tmp_path: Path
    nodes: list[RunningNode] = field(default_factory=list)

    async def start(self, name: str, **overrides: Any) -> RunningNode:
        """Start a node named ``name`` with its own database and data directory."""
        port = free_port()
        settings = Settings(
            data_dir=self.tmp_path / name,
            database_url=await self.databases.new_url(),
            host="127.0.0.1",
            port=port,
            public_url=f"http://127.0.0.1:{port}",
            node_name=name,
            allow_private_peers=True,
            delivery_poll_seconds=0.05,
            delivery_retry_base_seconds=0.2,
        )
        settings = replace(settings, **overrides) if overrides else settings
        app = create_app(settings)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        node = RunningNode(name, app, runner, settings)
        self.nodes.append(node)
        return node

    async def stop(self, node: RunningNode) -> None:
        """Stop one node (its database stays)."""
        await node.runner.cleanup()
        self.nodes.remove(node)

    async def close(self) -> None:
        """Stop every node."""
        for node in list(self.nodes):
            await self.stop(node)


@pytest.fixture
async def network(databases: DatabaseFactory, tmp_path: Path) -> AsyncIterator[Network]:
    """A factory of real nodes federating over loopback."""
    net = Network(databases, tmp_path)
    yield net
    await net.close()


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, seconds: float = 15.0, what: str = "condition"
) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after the timeout."""
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.05)

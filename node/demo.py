"""`bibnetz demo`: an association and three libraries, each a node on its own loopback port.

Like ``node/app.py`` this is a composition root: it starts complete apps (storage,
federation, UI) and lets the libraries follow each other over real ActivityPub.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from federation.following import follow
from federation.runtime import FEDERATION
from node import keys
from node.app import create_app
from node.db import unit_of_work
from node.demo_data import DEMO_LIBRARIES, DEMO_TOOLKIT, DemoLibrary
from node.instance import FirstLogin
from node.libraries import create_library, get_local_library, set_toolkit_results
from node.measures import create_measure
from node.models import Following, Library
from node.settings import Settings

Echo = Callable[[str], None]


@dataclass
class DemoNode:
    """One running demo node."""

    library: DemoLibrary
    settings: Settings
    app: web.Application
    runner: web.AppRunner


async def _start(library: DemoLibrary, data_dir: Path, port: int, host: str) -> DemoNode:
    settings = Settings(
        data_dir=data_dir / library.handle,
        host=host,
        port=port,
        public_url=f"http://{host}:{port}",
        node_name=library.profile["name"],
        allow_private_peers=True,  # the demo federates over plain http on loopback
    )
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return DemoNode(library, settings, app, runner)


async def _seed(node: DemoNode) -> bool:
    """Create the library, its Toolkit results and measures once; whether it was new."""
    vocab = node.app[keys.VOCAB]
    async with unit_of_work(node.app[keys.SESSIONMAKER]) as session:
        exists = await session.scalar(
            select(Library.id).where(Library.is_local, Library.handle == node.library.handle)
        )
        if exists:
            return False
        library = await create_library(session, vocab, node.library.handle, node.library.profile)
        toolkit = DEMO_TOOLKIT.get(node.library.handle)
        if toolkit:
            await set_toolkit_results(session, vocab, library, toolkit)
        for measure in node.library.measures:
            await create_measure(session, vocab, library, measure)
    return True


async def _follow_everyone(nodes: list[DemoNode], echo: Echo) -> None:
    """Every library follows every other one (the association brings in the region)."""
    for node in nodes:
        fed = node.app[FEDERATION]
        for other in nodes:
            if other is node:
                continue
            account = f"{other.library.handle}@{other.settings.domain}"
            result = await follow(fed, node.library.handle, account)
            if not result.already:
                echo(f"  @{node.library.handle} follows @{account}")


async def _accepted(node: DemoNode) -> int:
    async with node.app[keys.SESSIONMAKER]() as session:
        library = await get_local_library(session, node.library.handle)
        rows = await session.scalars(
            select(Following.id).where(
                Following.library_id == library.id, Following.state == "accepted"
            )
        )
        return len(rows.all())


async def run_demo(
    data_dir: Path, *, host: str = "127.0.0.1", base_port: int = 8701, echo: Echo = print
) -> None:
    """Start the demo network, seed it on the first run, and serve until interrupted."""
    nodes: list[DemoNode] = []
    try:
        for offset, library in enumerate(DEMO_LIBRARIES):
            nodes.append(await _start(library, data_dir, base_port + offset, host))
        echo(f"Starting the bibnetz demo in {data_dir} …")
        for node in nodes:
            if await _seed(node):
                echo(f"  created {node.library.profile['name']} with "
                     f"{len(node.library.measures)} measures")  # fmt: skip
        await _follow_everyone(nodes, echo)
        expected = len(nodes) - 1
        for _ in range(200):
            if all([await _accepted(n) == expected for n in nodes]):
                break
            await asyncio.sleep(0.1)
        echo("\nThe demo network is running. Open:")
        for node in nodes:
            logins: list[FirstLogin] = node.app[keys.FIRST_LOGIN]
            login = f"  (admin: {logins[0].email} / {logins[0].password})" if logins else ""
            echo(f"  {node.settings.public_url}/  {node.library.profile['name']}{login}")
        echo("Stop with Ctrl-C.")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        for node in nodes:
            await node.runner.cleanup()

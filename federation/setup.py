"""Wires federation into an app: runtime context, background workers, routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import ClientSession, ClientTimeout, web

from federation.delivery import DeliveryQueue
from federation.outgoing import Renderer
from federation.processor import run_processor
from federation.runtime import FEDERATION, Federation, instance_signer
from federation.safety import make_connector
from federation.spool import InboxSpool
from node import keys, migrate
from node.db import create_engine, create_sessionmaker, unit_of_work
from node.instance import ensure_instance
from node.settings import Settings
from node.vocab import load_vocabularies


async def federation_ctx(app: web.Application) -> AsyncIterator[None]:
    """Build the runtime context and run the inbox processor and the delivery queue."""
    settings = app[keys.SETTINGS]
    sessionmaker = app[keys.SESSIONMAKER]
    async with unit_of_work(sessionmaker) as session:
        instance = await ensure_instance(session, settings.node_name)
    fed = Federation(
        settings=settings,
        vocab=app[keys.VOCAB],
        sessionmaker=sessionmaker,
        client=app[keys.HTTP_CLIENT],
        signer=instance_signer(settings, instance),
    )
    lock = fed.write_lock if settings.is_sqlite else None
    try:
        fed.spool = InboxSpool(
            settings.data_dir / "inbox-spool",
            app[keys.ENGINE],
            on_stored=fed.wake_inbox.set,
            lock=lock,
            thread_engine=app.get(keys.THREAD_ENGINE),  # disposed by database_ctx, after us
            settle=settings.inbox_settle_seconds,
            max_delay=settings.inbox_max_delay_seconds,
        )
        fed.spool.start()
        app[FEDERATION] = fed
        queue = DeliveryQueue(
            sessionmaker,
            fed.client,
            settings,
            Renderer(settings, fed.vocab),
            wake=fed.wake_delivery,
            thread_engine=app.get(keys.THREAD_ENGINE),
        )
        fed.spawn(run_processor(fed), name="inbox-processor")
        try:
            async with queue:
                yield
        finally:
            await fed.spool.stop()
    finally:
        await fed.close()


@contextlib.asynccontextmanager
async def standalone(settings: Settings) -> AsyncIterator[Federation]:
    """A federation context without a web server, for CLI commands (follow, unfollow)."""
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        sessionmaker = create_sessionmaker(engine)
        async with unit_of_work(sessionmaker) as session:
            instance = await ensure_instance(session, settings.node_name)
        async with ClientSession(
            connector=make_connector(allow_private=settings.allow_private_peers),
            timeout=ClientTimeout(total=30, connect=10),
        ) as client:
            fed = Federation(
                settings=settings,
                vocab=load_vocabularies(settings.vocab_dir),
                sessionmaker=sessionmaker,
                client=client,
                signer=instance_signer(settings, instance),
            )
            try:
                yield fed
            finally:
                await fed.close()
    finally:
        await engine.dispose()

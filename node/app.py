"""The composition root: ``create_app(settings)`` wires storage, federation and the web UI."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator

from aiohttp import ClientSession, ClientTimeout, web

from federation.routes import setup_routes as setup_federation_routes
from federation.safety import make_connector
from federation.setup import federation_ctx
from node import datadir, keys, migrate
from node.db import create_engine, create_sessionmaker, create_thread_engine, unit_of_work
from node.instance import ensure_admin, ensure_instance
from node.search import Searcher, index_is_stale, rebuild
from node.settings import Settings
from node.vocab import load_vocabularies
from web import views as web_views
from web.routes import setup_routes as setup_web_routes
from web.templating import setup_templates

log = logging.getLogger(__name__)


async def data_dir_ctx(app: web.Application) -> AsyncIterator[None]:
    """Hold the data directory's lock while serving (before touching anything in it)."""
    fd = datadir.lock(app[keys.SETTINGS].data_dir)
    try:
        yield
    finally:
        os.close(fd)


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    """Engine + sessionmaker for the app's lifetime; applies pending migrations on start."""
    settings = app[keys.SETTINGS]
    engine = create_engine(settings.database_url)
    thread_engine = create_thread_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        sessionmaker = create_sessionmaker(engine)
        async with unit_of_work(sessionmaker) as session:
            if await index_is_stale(session):
                # After the migration that added the index, or an interrupted rebuild.
                log.info("search index is incomplete: rebuilding it")
                count = await rebuild(session)
                log.info("search index rebuilt: %d measures", count)
        async with unit_of_work(sessionmaker) as session:
            await ensure_instance(session, settings.node_name)
            first = await ensure_admin(session, settings.domain)
        if first is not None:
            app[keys.FIRST_LOGIN].append(first)
        app[keys.ENGINE] = engine
        app[keys.SESSIONMAKER] = sessionmaker
        if thread_engine is not None:
            app[keys.THREAD_ENGINE] = thread_engine
        searcher = Searcher(sessionmaker, thread_engine)
        app[keys.SEARCHER] = searcher
        try:
            yield
        finally:
            searcher.close()
    finally:
        if thread_engine is not None:
            thread_engine.dispose()
        await engine.dispose()


async def http_client_ctx(app: web.Application) -> AsyncIterator[None]:
    """One ClientSession for every outgoing request of the app."""
    settings = app[keys.SETTINGS]
    async with ClientSession(
        connector=make_connector(allow_private=settings.allow_private_peers),
        timeout=ClientTimeout(total=30, connect=10),
        headers={"User-Agent": f"bibnetz/0.1 (+{settings.public_url})"},
    ) as client:
        app[keys.HTTP_CLIENT] = client
        yield


def create_app(settings: Settings) -> web.Application:
    """Build the node's aiohttp application from its settings."""
    app = web.Application(client_max_size=settings.max_inbox_bytes)
    app[keys.SETTINGS] = settings
    app[keys.VOCAB] = load_vocabularies(settings.vocab_dir)
    app[keys.FIRST_LOGIN] = []
    app.cleanup_ctx.append(data_dir_ctx)
    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(http_client_ctx)
    app.cleanup_ctx.append(federation_ctx)
    setup_templates(app)
    setup_web_routes(app)
    setup_federation_routes(
        app, library_page=web_views.library_page, measure_page=web_views.measure_page
    )
    return app

"""Thin handlers of the librarians' UI: parse, call one service, render."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from node import keys
from node.db import ping
from node.libraries import list_local_libraries
from node.models import Library, Measure
from web.templating import render


async def index(request: web.Request) -> web.Response:
    """Start page: the node's libraries and the newest measures."""
    async with request.app[keys.SESSIONMAKER]() as session:
        libraries = await list_local_libraries(session)
        rows = await session.execute(
            select(Measure, Library)
            .join(Library, Library.id == Measure.library_id)
            .order_by(Measure.published_at.desc(), Measure.id.desc())
            .limit(20)
        )
        latest = [(m, lib) for m, lib in rows]
    return render(request, "index.html", {"libraries": libraries, "latest": latest})


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise (for monitoring and start scripts)."""
    if await ping(request.app[keys.ENGINE]):
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database unreachable"}, status=503)

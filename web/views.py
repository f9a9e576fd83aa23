"""Thin handlers of the librarians' UI: parse, call one service, render."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select

from node import keys
from node.db import ping
from node.libraries import NotFound, get_local_library, list_local_libraries
from node.markup import render_markdown
from node.models import Library, Measure, Reply
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


async def library_page(request: web.Request) -> web.Response:
    """A library's profile page with its measures (the HTML side of its actor URL)."""
    handle = request.match_info["handle"]
    async with request.app[keys.SESSIONMAKER]() as session:
        try:
            library = await get_local_library(session, handle)
        except NotFound:
            return render(request, "not_found.html", {"what": handle}, status=404)
        measures = (
            await session.scalars(
                select(Measure)
                .where(Measure.library_id == library.id)
                .order_by(Measure.published_at.desc(), Measure.id.desc())
                .limit(100)
            )
        ).all()
    return render(request, "library.html", {"library": library, "measures": measures})


async def measure_page(request: web.Request) -> web.Response:
    """A measure's page (local or received), with questions and answers under it."""
    uid = request.match_info["uid"]
    async with request.app[keys.SESSIONMAKER]() as session:
        measure = await session.scalar(select(Measure).where(Measure.uid == uid))
        if measure is None:
            return render(request, "not_found.html", {"what": uid}, status=404)
        library = await session.get_one(Library, measure.library_id)
        replies = (
            await session.scalars(
                select(Reply).where(Reply.measure_id == measure.id).order_by(Reply.published_at)
            )
        ).all()
    return render(
        request,
        "measure.html",
        {
            "measure": measure,
            "library": library,
            "replies": replies,
            # render_markdown sanitises its output with nh3, so it is safe to mark as markup.
            "body_html": Markup(render_markdown(measure.body)),  # noqa: S704
        },
    )

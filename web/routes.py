"""Every route of the librarians' UI, named, in one place."""

from __future__ import annotations

from aiohttp import web

from web import views


def setup_routes(app: web.Application) -> None:
    """Register the UI routes."""
    app.router.add_get("/", views.index, name="web.index")
    app.router.add_get("/healthz", views.healthz, name="web.healthz")

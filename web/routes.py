"""Every route of the librarians' UI and the JSON API, named, in one place."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from web import api, views

STATIC_DIR = Path(__file__).parent / "static"


def setup_routes(app: web.Application) -> None:
    """Register the UI and API routes (actor/measure pages are registered by federation)."""
    app.router.add_get("/", views.index, name="web.index")
    app.router.add_get("/healthz", views.healthz, name="web.healthz")
    app.router.add_get("/api/v1/measures", api.measures, name="api.measures")
    app.router.add_static("/static", STATIC_DIR, name="static")

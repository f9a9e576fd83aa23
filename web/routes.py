"""Every route of the librarians' UI and the JSON API, named, in one place."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from web import api, feeds, openapi, views

STATIC_DIR = Path(__file__).parent / "static"


def setup_routes(app: web.Application) -> None:
    """Register the UI and API routes (actor/measure pages are registered by federation)."""
    app.router.add_get("/", views.index, name="web.index")
    app.router.add_get("/healthz", views.healthz, name="web.healthz")
    app.router.add_get("/api/v1/measures", api.measures, name="api.measures")
    app.router.add_get("/api/v1/measures.atom", feeds.atom, name="api.measures_atom")
    app.router.add_get("/api/v1/measures.csv", feeds.csv_export, name="api.measures_csv")
    app.router.add_get("/api/v1/libraries", api.libraries, name="api.libraries")
    app.router.add_get("/api/v1/openapi.json", openapi.openapi, name="api.openapi")
    app.router.add_static("/static", STATIC_DIR, name="static")

"""Every ActivityPub and discovery route, named, in one place."""

from __future__ import annotations

from aiohttp import web

from federation import inbox, views
from federation.negotiation import Handler, negotiated


def setup_routes(app: web.Application, *, library_page: Handler, measure_page: Handler) -> None:
    """Register federation routes; actor and measure URLs negotiate with the given HTML pages."""
    r = app.router
    r.add_get("/.well-known/webfinger", views.webfinger, name="ap.webfinger")
    r.add_get("/.well-known/nodeinfo", views.nodeinfo_index, name="ap.nodeinfo_index")
    r.add_get("/nodeinfo/{version:2\\.[01]}", views.nodeinfo, name="ap.nodeinfo")
    r.add_get("/ns/bibnetz", views.context_view, name="ap.context")
    r.add_get("/actor", views.instance_actor_view, name="ap.instance_actor")
    r.add_post("/actor/inbox", inbox.inbox, name="ap.instance_inbox")
    r.add_post("/inbox", inbox.inbox, name="ap.shared_inbox")
    r.add_get(
        "/libraries/{handle}",
        negotiated(library_page, views.library_actor_view),
        name="ap.library",
    )
    r.add_post("/libraries/{handle}/inbox", inbox.inbox, name="ap.inbox")
    r.add_get("/libraries/{handle}/outbox", views.outbox_view, name="ap.outbox")
    r.add_get("/libraries/{handle}/followers", views.followers_view, name="ap.followers")
    r.add_get("/libraries/{handle}/following", views.following_view, name="ap.following")
    r.add_get("/measures/{uid}", negotiated(measure_page, views.measure_view), name="ap.measure")

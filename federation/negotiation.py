"""Content negotiation: one URL, ActivityStreams JSON for servers and HTML for browsers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_AS_TYPES = ("application/activity+json", "application/ld+json", "application/json")


def wants_activity_json(request: web.Request) -> bool:
    """Whether the client prefers ActivityStreams/JSON over HTML (by q-value, then order)."""
    best_json = best_html = -1.0
    for position, part in enumerate(request.headers.get("Accept", "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        score = q - position * 1e-6  # earlier wins among equal q
        media = media.lower()
        if media in _AS_TYPES:
            best_json = max(best_json, score)
        elif media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, score)
    return best_json > 0 and best_json > best_html


def negotiated(html: Handler, activity: Handler) -> Handler:
    """A handler that serves ``activity`` to servers and ``html`` to everyone else."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = await (activity(request) if wants_activity_json(request) else html(request))
        response.headers["Vary"] = "Accept"
        return response

    return handler

"""The JSON API: measures and libraries this node knows (its own and its peers')."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node import keys
from node.models import Library, Measure
from node.search import CursorError, newest_measures
from node.settings import Settings


def _bad_parameter(name: str, message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=f'{{"error": "invalid parameter", "parameter": "{name}", "message": "{message}"}}',
        content_type="application/json",
    )


def measure_json(settings: Settings, measure: Measure, library: Library) -> dict[str, Any]:
    """A measure as the API shows it, with where it comes from."""
    local_url = f"{settings.public_url}/measures/{measure.uid}"
    library_id = library.ap_id or f"{settings.public_url}/libraries/{library.handle}"
    return {
        "id": measure.uid,
        "ap_id": measure.ap_id or local_url,
        "url": measure.url or local_url,
        "local": measure.is_local,
        "kind": measure.kind,
        "title": measure.title,
        "summary": measure.summary,
        "fields_of_action": measure.fields_of_action,
        "target_groups": measure.target_groups,
        "formats": measure.formats,
        "partners": measure.partners,
        "tags": measure.tags,
        "effort": measure.effort,
        "cost_band": measure.cost_band,
        "status": measure.status,
        "licence": measure.licence,
        "published": measure.published_at.isoformat(),
        "updated": measure.updated_at.isoformat(),
        "snapshot": {
            "population": measure.snapshot_population,
            "public_area_m2": measure.snapshot_area_m2,
            "staff_fte": measure.snapshot_fte,
        },
        "library": {
            "id": library_id,
            "handle": library.handle,
            "domain": library.domain or settings.domain,
            "name": library.name,
            "local": library.is_local,
        },
    }


async def measures(request: web.Request) -> web.Response:
    """GET /api/v1/measures: newest first, keyset-paged (`limit`, `cursor`)."""
    raw_limit = request.query.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise _bad_parameter("limit", "must be a whole number from 1 to 100")
    settings = request.app[keys.SETTINGS]
    async with request.app[keys.SESSIONMAKER]() as session:
        try:
            page = await newest_measures(
                session, limit=int(raw_limit), cursor=request.query.get("cursor") or None
            )
        except CursorError:
            raise _bad_parameter("cursor", "is not a cursor this node gave out") from None
    return web.json_response(
        {
            "items": [measure_json(settings, m, lib) for m, lib in page.items],
            "total": page.total,
            "next_cursor": page.next_cursor,
        }
    )

"""ActivityPub documents served to other servers: actors, objects, collections, discovery."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation import urls
from federation.documents import (
    collection_page,
    context_document,
    instance_actor,
    iso,
    library_actor,
    measure_article,
    ordered_collection,
    tombstone,
)
from federation.runtime import FEDERATION
from node.db import unit_of_work
from node.libraries import NotFound, get_keys, get_local_library
from node.models import (
    Follower,
    Following,
    Instance,
    Library,
    Measure,
    RemoteActor,
    Tombstone,
    ToolkitResult,
)

PAGE_SIZE = 20
SOFTWARE_VERSION = "0.1.0"


def activity_response(request: web.Request, doc: dict[str, Any], status: int = 200) -> web.Response:
    """JSON in the media type the client asked for (activity+json unless it wants plain JSON)."""
    accept = request.headers.get("Accept", "")
    if "application/activity+json" in accept:
        content_type = urls.AS_MEDIA_TYPE
    elif "application/ld+json" in accept:
        content_type = "application/ld+json"
    elif "application/json" in accept:
        content_type = "application/json"
    else:
        content_type = urls.AS_MEDIA_TYPE
    body = json.dumps(doc, ensure_ascii=False).encode()
    response = web.Response(body=body, status=status, content_type=content_type)
    if content_type == "application/ld+json":
        response.headers["Content-Type"] = urls.LD_MEDIA_TYPE
    return response


def _not_found(what: str) -> web.HTTPNotFound:
    return web.HTTPNotFound(
        text=json.dumps({"error": f"{what} not found"}), content_type="application/json"
    )


async def _library(session: AsyncSession, request: web.Request) -> Library:
    """The local library named in the URL, or a JSON 404."""
    try:
        return await get_local_library(session, request.match_info["handle"])
    except NotFound:
        raise _not_found("library") from None


async def library_actor_view(request: web.Request) -> web.StreamResponse:
    """The actor document of a local library."""
    fed = request.app[FEDERATION]
    async with fed.sessionmaker() as session:
        library = await _library(session, request)
        keys = await get_keys(session, library)
        toolkit = await session.get(ToolkitResult, library.id)
    return activity_response(
        request, library_actor(fed.settings, fed.vocab, library, keys, toolkit)
    )


async def measure_view(request: web.Request) -> web.StreamResponse:
    """A local measure as an Article; 410 with a Tombstone once it was deleted."""
    fed = request.app[FEDERATION]
    uid = request.match_info["uid"]
    async with fed.sessionmaker() as session:
        measure = await session.scalar(
            select(Measure).where(Measure.uid == uid, Measure.is_local.is_(True))
        )
        if measure is None:
            stone = await session.scalar(select(Tombstone).where(Tombstone.uid == uid))
            if stone is not None:
                return activity_response(
                    request, tombstone(fed.settings, uid, stone.deleted_at), status=410
                )
            raise _not_found("measure")
        library = await session.get_one(Library, measure.library_id)
        keys = await get_keys(session, library)
    return activity_response(
        request, measure_article(fed.settings, fed.vocab, measure, library, keys)
    )


async def outbox_view(request: web.Request) -> web.StreamResponse:
    """The library's outbox: Create activities of its measures, newest first, paged by id."""
    fed = request.app[FEDERATION]
    s = fed.settings
    async with fed.sessionmaker() as session:
        library = await _library(session, request)
        collection = urls.outbox(s, library.handle)
        if "page" not in request.query:
            total = await session.scalar(
                select(func.count()).select_from(Measure).where(Measure.library_id == library.id)
            )
            return activity_response(
                request, ordered_collection(collection, int(total or 0), collection + "?page=1")
            )
        query = select(Measure).where(Measure.library_id == library.id)
        max_id = request.query.get("max_id", "")
        if max_id.isdigit():
            query = query.where(Measure.id < int(max_id))
        measures = (
            await session.scalars(query.order_by(Measure.id.desc()).limit(PAGE_SIZE + 1))
        ).all()
        keys = await get_keys(session, library)
    more = len(measures) > PAGE_SIZE
    measures = measures[:PAGE_SIZE]
    items = []
    for measure in measures:
        article = measure_article(s, fed.vocab, measure, library, keys)
        items.append(
            {
                "id": article["id"] + "#create",
                "type": "Create",
                "actor": article["attributedTo"],
                "published": iso(measure.published_at),
                "to": article["to"],
                "cc": article["cc"],
                "object": article,
            }
        )
    page_id = collection + "?" + request.query_string
    next_page = f"{collection}?page=1&max_id={measures[-1].id}" if more and measures else None
    return activity_response(request, collection_page(page_id, collection, items, next_page))


async def followers_view(request: web.Request) -> web.StreamResponse:
    """Only the number of followers: they may be private persons on other servers."""
    fed = request.app[FEDERATION]
    async with fed.sessionmaker() as session:
        library = await _library(session, request)
        total = await session.scalar(
            select(func.count())
            .select_from(Follower)
            .where(Follower.library_id == library.id, Follower.state == "accepted")
        )
    collection = urls.followers(fed.settings, library.handle)
    return activity_response(request, ordered_collection(collection, int(total or 0), None))


async def following_view(request: web.Request) -> web.StreamResponse:
    """Whom the library follows (institutions), in one page per 100."""
    fed = request.app[FEDERATION]
    async with fed.sessionmaker() as session:
        library = await _library(session, request)
        rows = (
            await session.scalars(
                select(RemoteActor.ap_id)
                .join(Following, Following.remote_actor_id == RemoteActor.id)
                .where(Following.library_id == library.id, Following.state == "accepted")
                .order_by(Following.id)
            )
        ).all()
    collection = urls.following(fed.settings, library.handle)
    if "page" not in request.query:
        return activity_response(
            request, ordered_collection(collection, len(rows), collection + "?page=1")
        )
    return activity_response(
        request, collection_page(collection + "?page=1", collection, list(rows), None)
    )


async def instance_actor_view(request: web.Request) -> web.StreamResponse:
    """The node's Application actor."""
    fed = request.app[FEDERATION]
    async with unit_of_work(fed.sessionmaker) as session:
        instance = await session.get_one(Instance, 1)
    return activity_response(request, instance_actor(fed.settings, instance))


async def context_view(request: web.Request) -> web.StreamResponse:
    """The bibnetz JSON-LD context."""
    return web.json_response(context_document(), content_type="application/ld+json")


async def webfinger(request: web.Request) -> web.StreamResponse:
    """WebFinger for acct:handle@domain (or the actor URL itself)."""
    fed = request.app[FEDERATION]
    s = fed.settings
    resource = request.query.get("resource", "").strip()
    if not resource:
        raise web.HTTPBadRequest(text="the 'resource' parameter is required")
    handle: str | None = None
    if resource.startswith("acct:"):
        name, _, host = resource[5:].lstrip("@").rpartition("@")
        if host.lower() != s.domain.lower():
            raise _not_found("account")
        handle = name
    elif resource.startswith(urls.actor_id(s, "")):
        handle = resource[len(urls.actor_id(s, "")) :]
    if not handle:
        raise _not_found("account")
    async with fed.sessionmaker() as session:
        try:
            library = await get_local_library(session, handle)
        except NotFound:
            raise _not_found("account") from None
    actor = urls.actor_id(s, library.handle)
    doc = {
        "subject": f"acct:{library.handle}@{s.domain}",
        "aliases": [actor],
        "links": [
            {"rel": "self", "type": urls.AS_MEDIA_TYPE, "href": actor},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor},
        ],
    }
    return web.json_response(
        doc, content_type="application/jrd+json", headers={"Access-Control-Allow-Origin": "*"}
    )


async def nodeinfo_index(request: web.Request) -> web.StreamResponse:
    """/.well-known/nodeinfo: where the NodeInfo documents are."""
    base = request.app[FEDERATION].settings.public_url
    return web.json_response(
        {
            "links": [
                {
                    "rel": f"http://nodeinfo.diaspora.software/ns/schema/{v}",
                    "href": f"{base}/nodeinfo/{v}",
                }
                for v in ("2.0", "2.1")
            ]
        }
    )


async def nodeinfo(request: web.Request) -> web.StreamResponse:
    """NodeInfo 2.0 / 2.1: software, protocol and usage counts."""
    fed = request.app[FEDERATION]
    version = request.match_info["version"]
    async with fed.sessionmaker() as session:
        libraries = await session.scalar(
            select(func.count()).select_from(Library).where(Library.is_local.is_(True))
        )
        measures = await session.scalar(
            select(func.count()).select_from(Measure).where(Measure.is_local.is_(True))
        )
    software: dict[str, Any] = {"name": "bibnetz", "version": SOFTWARE_VERSION}
    if version == "2.1":
        software["homepage"] = fed.settings.public_url + "/"
    users = int(libraries or 0)
    doc = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0"]},
        "openRegistrations": False,
        "usage": {
            "users": {"total": users, "activeMonth": users, "activeHalfyear": users},
            "localPosts": int(measures or 0),
        },
        "metadata": {"nodeName": fed.settings.node_name},
    }
    profile = f"http://nodeinfo.diaspora.software/ns/schema/{version}#"
    response = web.json_response(doc)
    response.headers["Content-Type"] = f'application/json; profile="{profile}"'
    return response

"""Inbox POST: size limit → parse → verify signature → origin checks → store → 202.

Processing happens afterwards (``federation.processor``): what is stored has been verified,
so a crash between the 202 and processing loses nothing.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from federation.actors import ActorError, public_key_for
from federation.fetch import FetchError, GoneError
from federation.httpsig import (
    InvalidSignature,
    MalformedSignature,
    ParsedSignature,
    PublicKey,
    parse_signature,
    verify_signature,
)
from federation.ingest import CachedKey
from federation.parsing import host_of, object_id
from federation.runtime import FEDERATION, Federation
from node.db import unit_of_work
from node.models import InboxActivity, RemoteActor

log = logging.getLogger(__name__)

ACCEPTED_TYPES = ("application/activity+json", "application/ld+json", "application/json")
# Activities whose object must live on the actor's own server.
ORIGIN_BOUND = {"Create", "Update", "Delete"}


def reject(status: int, reason: str) -> web.Response:
    """A 4xx answer whose body tells the remote server's operator what was wrong."""
    return web.json_response({"error": reason}, status=status)


def _check_document(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return "the body must be a JSON object"
    if not isinstance(doc.get("type"), str):
        return "the activity has no type"
    if not isinstance(doc.get("id"), str):
        return "the activity has no id"
    actor = object_id(doc.get("actor"))
    if actor is None:
        return "the activity has no actor"
    if len(doc["id"]) > 2048 or len(actor) > 2048 or not host_of(doc["id"]) or not host_of(actor):
        return "the activity's id or actor is not a usable URL (at most 2048 characters)"
    return None


def _origin_problem(doc: dict[str, Any], actor: str) -> str | None:
    """Objects created, changed or deleted by an activity must live on the actor's host."""
    actor_host = host_of(actor)
    if host_of(doc["id"]) != actor_host:
        return "the activity id is not on the actor's host"
    if doc["type"] not in ORIGIN_BOUND:
        return None
    obj = doc.get("object")
    target = object_id(obj)
    if target is None:
        return "the activity has no object"
    if host_of(target) != actor_host:
        return "the object lives on another host than the actor"
    if isinstance(obj, dict):
        author = object_id(obj.get("attributedTo"))
        if author is not None and author != actor and doc["type"] != "Delete":
            return "the object is attributed to another actor"
    return None


async def _key(fed: Federation, key_id: str, *, force_refetch: bool) -> tuple[str, PublicKey]:
    cached = fed.caches.keys.get(key_id)
    if cached is not None and not force_refetch:
        return cached.actor, cached.key
    fed.caches.forget_key(key_id)
    async with unit_of_work(fed.sessionmaker) as session:
        remote, key = await public_key_for(
            session,
            fed.client,
            fed.settings,
            key_id,
            signer=fed.signer,
            force_refetch=force_refetch,
        )
        actor = remote.ap_id
    fed.caches.keys[key_id] = CachedKey(actor, key)
    return actor, key


async def _verify(fed: Federation, parsed: ParsedSignature) -> str:
    """Verify with the cached key; on mismatch refetch it once (keys rotate). The key's actor."""
    window = timedelta(seconds=fed.settings.signature_window_seconds)
    actor, key = await _key(fed, parsed.key_id, force_refetch=False)
    try:
        verify_signature(parsed, key, fed.now(), window)
    except InvalidSignature:
        actor, key = await _key(fed, parsed.key_id, force_refetch=True)
        verify_signature(parsed, key, fed.now(), window)
    return actor


async def _known_actor(fed: Federation, actor: str) -> bool:
    if any(cached.actor == actor for cached in fed.caches.keys.values()):
        return True
    async with fed.sessionmaker() as session:
        found = await session.scalar(select(RemoteActor.id).where(RemoteActor.ap_id == actor))
    return found is not None


async def inbox(request: web.Request) -> web.Response:
    """Receive an activity for a library (or the shared inbox)."""
    fed = request.app[FEDERATION]
    settings = fed.settings
    handle = request.match_info.get("handle")
    media_type = request.content_type.lower()
    if media_type not in ACCEPTED_TYPES:
        return reject(415, f"unsupported content type {media_type!r}")
    body = await request.read()
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):  # includes JSONDecodeError and over-long numbers
        return reject(400, "the body is not valid JSON")
    problem = _check_document(doc)
    if problem:
        return reject(400, problem)
    actor = str(object_id(doc["actor"]))

    headers = request.headers
    if not any(h in headers for h in ("Signature", "Signature-Input", "Authorization")):
        return reject(401, "unsigned requests are not accepted")
    try:
        parsed = parse_signature(
            request.method, settings.public_url + request.path_qs, headers, body
        )
    except MalformedSignature as exc:
        return reject(400, f"malformed signature: {exc}")
    except InvalidSignature as exc:  # the body does not match its digest
        return reject(401, f"signature does not verify: {exc}")

    if host_of(actor) in await fed.caches.blocked_hosts(fed.sessionmaker):
        return reject(403, "this server does not accept activities from your host")
    library_id = None
    if handle is not None:
        library_id = await fed.caches.library_id(fed.sessionmaker, handle)
        if library_id is None:
            return reject(404, f"no library {handle!r} here")
    if doc["type"] == "Delete" and not await _known_actor(fed, actor):
        # Servers send Deletes of every account to everyone; we never knew this actor.
        return web.Response(status=202)

    try:
        key_owner = await _verify(fed, parsed)
    except GoneError:
        if doc["type"] == "Delete":
            return web.Response(status=202)
        return reject(401, "the signing key is gone")
    except (FetchError, ActorError) as exc:
        return reject(401, f"cannot get the signing key {parsed.key_id}: {exc}")
    except InvalidSignature as exc:
        return reject(401, f"signature does not verify: {exc}")
    if key_owner != actor:
        return reject(401, "the signing key does not belong to the activity's actor")
    problem = _origin_problem(doc, actor)
    if problem:
        return reject(403, problem)

    row = {
        "ap_id": doc["id"],
        "activity_type": doc["type"][:32],
        "actor": actor,
        "library_id": library_id,
        "payload": doc,
        "received_at": fed.now(),
        "attempts": 0,
    }
    if fed.writer is not None:
        try:
            await fed.writer.store(row)  # returns once committed, together with its batch
        except Exception:
            log.exception("could not store activity %s", doc["id"])
            return reject(503, "the activity could not be stored; please retry later")
    else:
        async with unit_of_work(fed.sessionmaker) as session:
            if not await session.scalar(
                select(InboxActivity.id).where(InboxActivity.ap_id == doc["id"])
            ):
                session.add(InboxActivity(**row))
        fed.wake_inbox.set()
    return web.Response(status=202)

"""Inbox POST: size limit → parse → verify signature → origin checks → spool → 202.

Storing in the table and processing happen afterwards (``federation.spool``,
``federation.processor``): what is spooled has been verified and is on disk before the 202,
so a crash between the 202 and processing loses nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from federation.actors import ActorError, public_key_for
from federation.caches import CachedKey
from federation.fetch import FetchError, GoneError
from federation.httpsig import (
    InvalidSignature,
    MalformedSignature,
    ParsedSignature,
    PublicKey,
    parse_signature,
    verify_signature,
)
from federation.parsing import host_of, loads_exact, object_id, storable
from federation.runtime import FEDERATION, Federation
from federation.spool import SpoolError
from node.db import unit_of_work
from node.models import RemoteActor

log = logging.getLogger(__name__)

ACCEPTED_TYPES = ("application/activity+json", "application/ld+json", "application/json")
# Activities whose object must live on the actor's own server.
ORIGIN_BOUND = {"Create", "Update", "Delete"}
USABLE_URL = "the activity's id or actor is not a usable URL (at most 2048 bytes of UTF-8)"


def reject(status: int, reason: str) -> web.Response:
    """A 4xx answer whose body tells the remote server's operator what was wrong."""
    return web.json_response({"error": reason}, status=status)


def _parse_json(body: bytes) -> Any:
    try:
        return loads_exact(body)
    except ValueError:  # includes JSONDecodeError, UnicodeDecodeError and too deep nesting
        raise _Rejected(400, "the body is not valid JSON") from None


class _Rejected(Exception):
    """The request is answered with ``status`` and ``reason`` (see ``reject``)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class _Envelope:
    """The parts of an activity the inbox checks, each host computed once."""

    doc: dict[str, Any]
    actor: str
    actor_host: str
    id_host: str


def _envelope(doc: Any) -> _Envelope:
    if not isinstance(doc, dict):
        raise _Rejected(400, "the body must be a JSON object")
    if not isinstance(doc.get("type"), str):
        raise _Rejected(400, "the activity has no type")
    activity_id = doc.get("id")
    if not isinstance(activity_id, str):
        raise _Rejected(400, "the activity has no id")
    actor = object_id(doc.get("actor"))
    if actor is None:
        raise _Rejected(400, "the activity has no actor")
    if not (storable(activity_id) and storable(actor)):
        raise _Rejected(400, USABLE_URL)
    if not storable(doc["type"], 10_000):
        raise _Rejected(400, "the activity's type is not text")
    actor_host, id_host = host_of(actor), host_of(activity_id)
    if not actor_host or not id_host:
        raise _Rejected(400, USABLE_URL)
    return _Envelope(doc, actor, actor_host, id_host)


def _check_origin(envelope: _Envelope) -> None:
    """Objects created, changed or deleted by an activity must live on the actor's host."""
    doc, actor_host = envelope.doc, envelope.actor_host
    if envelope.id_host != actor_host:
        raise _Rejected(403, "the activity id is not on the actor's host")
    if doc["type"] not in ORIGIN_BOUND:
        return
    obj = doc.get("object")
    target = object_id(obj)
    if target is None:
        raise _Rejected(403, "the activity has no object")
    if host_of(target) != actor_host:
        raise _Rejected(403, "the object lives on another host than the actor")
    if isinstance(obj, dict):
        author = object_id(obj.get("attributedTo"))
        if author is not None and author != envelope.actor and doc["type"] != "Delete":
            raise _Rejected(403, "the object is attributed to another actor")


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
    try:
        return await _receive(request)
    except _Rejected as rejected:
        return reject(rejected.status, rejected.reason)
    except SQLAlchemyError as exc:  # a look-up the caches could not answer, database away
        log.warning("inbox: the database did not answer (%s)", type(exc).__name__)
        return reject(503, "this server cannot check activities right now; please retry later")


async def _receive(request: web.Request) -> web.Response:
    fed = request.app[FEDERATION]
    settings = fed.settings
    handle = request.match_info.get("handle")
    media_type = request.content_type.lower()
    if media_type not in ACCEPTED_TYPES:
        raise _Rejected(415, f"unsupported content type {media_type!r}")
    body = await request.read()
    envelope = _envelope(_parse_json(body))
    doc, actor = envelope.doc, envelope.actor

    headers = request.headers
    if not any(h in headers for h in ("Signature", "Signature-Input", "Authorization")):
        raise _Rejected(401, "unsigned requests are not accepted")
    try:
        parsed = parse_signature(
            request.method, settings.public_url + request.path_qs, headers, body
        )
    except MalformedSignature as exc:
        raise _Rejected(400, f"malformed signature: {exc}") from None
    except InvalidSignature as exc:  # the body does not match its digest
        raise _Rejected(401, f"signature does not verify: {exc}") from None

    if envelope.actor_host in await fed.caches.blocked_hosts(fed.sessionmaker):
        raise _Rejected(403, "this server does not accept activities from your host")
    library_id = None
    if handle is not None:
        library_id = await fed.caches.library_id(fed.sessionmaker, handle)
        if library_id is None:
            raise _Rejected(404, f"no library {handle!r} here")
    if doc["type"] == "Delete" and not await _known_actor(fed, actor):
        # Servers send Deletes of every account to everyone; we never knew this actor.
        return web.Response(status=202)

    try:
        key_owner = await _verify(fed, parsed)
    except GoneError:
        if doc["type"] == "Delete":
            return web.Response(status=202)
        raise _Rejected(401, "the signing key is gone") from None
    except (FetchError, ActorError) as exc:
        raise _Rejected(401, f"cannot get the signing key {parsed.key_id}: {exc}") from None
    except InvalidSignature as exc:
        raise _Rejected(401, f"signature does not verify: {exc}") from None
    if key_owner != actor:
        raise _Rejected(401, "the signing key does not belong to the activity's actor")
    _check_origin(envelope)

    if fed.spool is None:
        raise _Rejected(503, "this node does not take activities right now")
    meta = {
        "id": doc["id"],
        "type": doc["type"][:32],
        "actor": actor,
        "library": library_id,
        "received": fed.now().isoformat(),
    }
    try:
        fed.spool.append(meta, body)  # stored in the table a moment later
    except SpoolError as exc:
        log.error("could not spool activity %s: %s", doc["id"], exc)
        raise _Rejected(503, "the activity could not be stored; please retry later") from None
    return web.Response(status=202)

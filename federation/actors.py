"""The remote actor cache: fetch, validate and store other servers' actors and their keys.

Services receive the session and flush; the caller owns the transaction. Errors:
``FetchError``/``GoneError`` (network, refused URL, HTTP status) and ``ActorError`` (the
document is not an acceptable actor).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urldefrag, urlsplit

import aiohttp
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from federation.fetch import Fetched, Signer, fetch_document
from federation.httpsig import MalformedSignature, PublicKey, load_public_key_pem
from federation.proofs import ProofError, decode_multikey
from federation.urls import PUBLIC
from node.models.federation import RemoteActor
from node.models.types import utcnow
from node.settings import Settings

ACTOR_TYPES = frozenset({"Person", "Service", "Organization", "Group", "Application"})
PUBLIC_IRIS = frozenset({PUBLIC, "as:Public", "Public"})
# FEP-521a: multibase base58btc ("z") of multicodec ed25519-pub always starts like this.
MULTIKEY_PREFIX = "z6Mk"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_URL = 2048  # the width of the URL columns


class ActorError(Exception):
    """A remote actor document is unacceptable, or the actor is not where it claims to be."""


@dataclass(frozen=True)
class ActorFields:
    """The validated contents of an actor document, one attribute per RemoteActor column."""

    ap_id: str
    type: str
    preferred_username: str
    domain: str
    name: str
    inbox: str
    shared_inbox: str | None
    outbox: str | None
    url: str | None
    public_key_id: str
    public_key_pem: str
    multikeys: dict[str, str]
    indexable: bool
    is_bibnetz: bool
    document: dict[str, Any]


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def _authority(url: str) -> str:
    """``host[:port]`` with the default port dropped, for comparing servers."""
    origin = _origin(url)
    if origin is None:
        raise ActorError(f"{url!r} is not an absolute http(s) URL")
    scheme, host, port = origin
    host = f"[{host}]" if ":" in host else host
    return host if port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"


def _required_url(value: object, what: str) -> str:
    if not isinstance(value, str) or _origin(value) is None:
        raise ActorError(f"actor {what} must be an absolute http(s) URL, got {value!r:.100}")
    if len(value) > _MAX_URL:
        raise ActorError(f"actor {what} is longer than {_MAX_URL} characters")
    return value


def _optional_url(value: object) -> str | None:
    # Optional fields are informational: a malformed one is dropped, not fatal.
    if isinstance(value, str) and _origin(value) is not None and len(value) <= _MAX_URL:
        return value
    return None


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _actor_type(value: object) -> str:
    # JSON-LD allows a list of types; the first actor type wins.
    for candidate in value if isinstance(value, list) else [value]:
        if candidate in ACTOR_TYPES:
            return str(candidate)
    raise ActorError(f"type {value!r:.100} is not an actor type ({', '.join(sorted(ACTOR_TYPES))})")


def _public_key(value: object, ap_id: str) -> tuple[str, str]:
    """The (key id, PEM) of the publicKey owned by the actor."""
    candidates = value if isinstance(value, list) else [value]
    key = next((c for c in candidates if isinstance(c, dict) and c.get("owner") == ap_id), None)
    if key is None:
        raise ActorError(f"actor {ap_id} has no publicKey object whose owner is the actor")
    key_id, pem = key.get("id"), key.get("publicKeyPem")
    if not isinstance(key_id, str) or len(key_id) > _MAX_URL:
        raise ActorError(f"publicKey of {ap_id} has no usable id")
    if _origin(key_id) != _origin(ap_id):
        raise ActorError(f"publicKey id {key_id} is not on the host of actor {ap_id}")
    if not isinstance(pem, str):
        raise ActorError(f"publicKey {key_id} has no publicKeyPem")
    try:
        load_public_key_pem(pem)
    except MalformedSignature as exc:
        raise ActorError(f"publicKey {key_id} is not a usable key: {exc}") from exc
    return key_id, pem


def _multikeys(value: object, ap_id: str) -> dict[str, str]:
    """FEP-521a Ed25519 keys from ``assertionMethod``; unusable entries are skipped."""
    keys: dict[str, str] = {}
    for entry in value if isinstance(value, list) else [value]:
        if not isinstance(entry, dict) or entry.get("type") != "Multikey":
            continue
        key_id, multibase = entry.get("id"), entry.get("publicKeyMultibase")
        if entry.get("controller") != ap_id or not isinstance(key_id, str):
            continue
        if _origin(key_id) != _origin(ap_id) or len(key_id) > _MAX_URL:
            continue
        if not isinstance(multibase, str) or not multibase.startswith(MULTIKEY_PREFIX):
            continue
        try:
            decode_multikey(multibase)
        except ProofError:
            continue
        keys[key_id] = multibase
    return keys


def _profile_url(value: object) -> str | None:
    """``url`` as a string, a Link object or a list of either: the first usable href."""
    for item in value if isinstance(value, list) else [value]:
        href = item.get("href") if isinstance(item, dict) else item
        if (url := _optional_url(href)) is not None:
            return url
    return None


def _publicly_searchable(doc: dict[str, Any]) -> bool:
    """FEP-268d: without ``searchableBy`` nothing is restricted; with it, Public must be listed."""
    value = doc.get("searchableBy")
    if value is None:
        return True
    items = value if isinstance(value, list) else [value]
    ids = [item.get("id") if isinstance(item, dict) else item for item in items]
    return any(isinstance(i, str) and i in PUBLIC_IRIS for i in ids)


def parse_actor(doc: dict[str, Any], fetched_from: str) -> ActorFields:
    """Validate an actor document fetched from ``fetched_from`` and extract its columns."""
    if not isinstance(doc, dict):
        raise ActorError("actor document is not a JSON object")
    ap_id = _required_url(doc.get("id"), "id")
    if _origin(ap_id) != _origin(fetched_from):
        raise ActorError(f"actor id {ap_id} is not on the server it came from ({fetched_from})")
    domain = _authority(ap_id)
    if len(domain) > 255:  # longer than any DNS name, and than the column
        raise ActorError(f"actor host {domain[:50]}… is too long")
    actor_type = _actor_type(doc.get("type"))
    inbox = _required_url(doc.get("inbox"), "inbox")
    key_id, pem = _public_key(doc.get("publicKey"), ap_id)
    endpoints = doc.get("endpoints")
    shared_inbox = (
        _optional_url(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else None
    )
    is_bibnetz = doc.get("bibnetzNode") is True
    # FEP-5feb: bibnetz nodes exist to share, so their actors are indexable unless they opt out;
    # everyone else must opt in explicitly.
    opted_in = doc.get("indexable", True) is True if is_bibnetz else doc.get("indexable") is True
    return ActorFields(
        ap_id=ap_id,
        type=actor_type,
        preferred_username=_text(doc.get("preferredUsername"), 255),
        domain=domain,
        name=_text(doc.get("name"), 500),
        inbox=inbox,
        shared_inbox=shared_inbox,
        outbox=_optional_url(doc.get("outbox")),
        url=_profile_url(doc.get("url")),
        public_key_id=key_id,
        public_key_pem=pem,
        multikeys=_multikeys(doc.get("assertionMethod"), ap_id),
        indexable=opted_in and _publicly_searchable(doc),
        is_bibnetz=is_bibnetz,
        document=doc,
    )


def _refuse_own(settings: Settings, url: str) -> None:
    if _authority(url) == _authority(settings.public_url):
        raise ActorError(f"{url} is on this node's own host; local actors are not fetched")


async def _fetch(
    client: aiohttp.ClientSession, settings: Settings, url: str, signer: Signer | None
) -> Fetched:
    return await fetch_document(
        client,
        url,
        allow_private=settings.allow_private_peers,
        signer=signer,
        max_bytes=settings.fetch_max_bytes,
    )


async def _fetch_actor(
    client: aiohttp.ClientSession,
    settings: Settings,
    ap_id: str,
    signer: Signer | None,
    fetched: Fetched | None = None,
) -> ActorFields:
    """Fetch (unless given) and validate the actor document at ``ap_id``."""
    if fetched is None:
        fetched = await _fetch(client, settings, ap_id, signer)
    doc_id = fetched.data.get("id")
    if doc_id != ap_id:
        if not isinstance(doc_id, str) or not doc_id:
            raise ActorError(f"the document at {ap_id} has no id")
        _refuse_own(settings, doc_id)
        # Only the id's own server speaks for it: fetch it from there once (as Mastodon does).
        fetched = await _fetch(client, settings, doc_id, signer)
        if fetched.data.get("id") != doc_id:
            raise ActorError(
                f"{doc_id} serves a document with another id, {fetched.data.get('id')!r}"
            )
    return parse_actor(fetched.data, fetched.url)


async def _store(session: AsyncSession, fields: ActorFields) -> RemoteActor:
    """Insert or update the actor's row; an upsert, so concurrent first contacts do not clash."""
    values = {f.name: getattr(fields, f.name) for f in dataclasses.fields(fields)}
    values["fetched_at"] = utcnow()
    updates = {k: v for k, v in values.items() if k != "ap_id"}
    await session.flush()
    if session.get_bind().dialect.name == "postgresql":
        pg = pg_insert(RemoteActor).values(**values)
        await session.execute(pg.on_conflict_do_update(index_elements=["ap_id"], set_=updates))
    else:
        lite = sqlite_insert(RemoteActor).values(**values)
        await session.execute(lite.on_conflict_do_update(index_elements=["ap_id"], set_=updates))
    # populate_existing: a row already in the session must show what was just written.
    query = select(RemoteActor).where(RemoteActor.ap_id == fields.ap_id)
    result = await session.execute(query.execution_options(populate_existing=True))
    return result.scalar_one()


async def get_actor(
    session: AsyncSession,
    client: aiohttp.ClientSession,
    settings: Settings,
    ap_id: str,
    *,
    signer: Signer | None,
    refresh: bool = False,
) -> RemoteActor:
    """Return the cached actor, fetching and storing it when missing, stale or ``refresh``."""
    _refuse_own(settings, ap_id)
    row = await _cached_actor(session, ap_id)
    max_age = timedelta(seconds=settings.actor_cache_seconds)
    if row is not None and not refresh and utcnow() - row.fetched_at < max_age:
        return row
    return await _store(session, await _fetch_actor(client, settings, ap_id, signer))


def _refetched_within(actor: RemoteActor, interval: timedelta) -> bool:
    last = actor.key_refetched_at
    return last is not None and utcnow() - last < interval


async def _cached_actor(session: AsyncSession, ap_id: str) -> RemoteActor | None:
    query = select(RemoteActor).where(RemoteActor.ap_id == ap_id)
    return (await session.execute(query)).scalar_one_or_none()


async def _cached_key_holder(session: AsyncSession, key_id: str) -> RemoteActor | None:
    base = urldefrag(key_id).url
    rows = (
        (await session.execute(select(RemoteActor).where(RemoteActor.public_key_id == key_id)))
        .scalars()
        .all()
    )
    if rows:
        # Prefer the actor the key id points into, should two actors of one host claim it.
        return next((r for r in rows if r.ap_id == base), rows[0])
    # Multikeys are stored as JSON, which cannot be searched portably; their ids normally
    # point into the actor document (``actor#ed25519-key``), so look there.
    row = await _cached_actor(session, base)
    return row if row is not None and key_id in row.multikeys else None


async def _fetch_key_holder(
    session: AsyncSession,
    client: aiohttp.ClientSession,
    settings: Settings,
    key_id: str,
    signer: Signer | None,
) -> RemoteActor:
    """Fetch the document a key id points at and store the actor that owns the key."""
    url = urldefrag(key_id).url
    _refuse_own(settings, url)
    fetched = await _fetch(client, settings, url, signer)
    data = fetched.data
    owner = data.get("owner", data.get("controller"))
    if "inbox" not in data and isinstance(owner, str):
        # A standalone key document. Its owner claim is never trusted on its own: _key_of
        # requires the owner's actor document to list this key id.
        return await get_actor(session, client, settings, owner, signer=signer, refresh=True)
    return await _store(session, await _fetch_actor(client, settings, url, signer, fetched))


def _key_of(actor: RemoteActor, key_id: str) -> PublicKey:
    try:
        if actor.public_key_id == key_id:
            return load_public_key_pem(actor.public_key_pem)
        if key_id in actor.multikeys:
            return decode_multikey(actor.multikeys[key_id])
    except (MalformedSignature, ProofError) as exc:
        raise ActorError(f"key {key_id} of {actor.ap_id} cannot be loaded: {exc}") from exc
    raise ActorError(f"actor {actor.ap_id} does not publish the key {key_id}")


async def public_key_for(
    session: AsyncSession,
    client: aiohttp.ClientSession,
    settings: Settings,
    key_id: str,
    *,
    signer: Signer | None,
    force_refetch: bool = False,
) -> tuple[RemoteActor, PublicKey]:
    """Find the actor owning ``key_id`` and its key; ``force_refetch`` after a failed check.

    Cached keys are used whatever their age. When a signature fails, the caller asks again
    with ``force_refetch`` so rotated keys are picked up; the actor is fetched for its key at
    most once per ``key_refetch_interval_seconds`` (``key_refetched_at``), so bad signatures
    cannot make the node hammer a peer.
    """
    interval = timedelta(seconds=settings.key_refetch_interval_seconds)
    actor = await _cached_key_holder(session, key_id)
    fetched = False
    if actor is None:
        known = await _cached_actor(session, urldefrag(key_id).url)
        if known is not None and key_id in (known.public_key_id, *known.multikeys):
            # A concurrent first contact stored the actor between our two queries.
            return known, _key_of(known, key_id)
        if known is not None and _refetched_within(known, interval):
            # Unknown key ids of a freshly fetched actor must not each trigger a fetch.
            raise ActorError(f"actor {known.ap_id} does not publish the key {key_id}")
        actor = await _fetch_key_holder(session, client, settings, key_id, signer)
        fetched = True
    elif force_refetch and not _refetched_within(actor, interval):
        actor = await get_actor(session, client, settings, actor.ap_id, signer=signer, refresh=True)
        fetched = True
    if fetched:
        # A key fetched just now counts as refetched: a failed check right after this
        # fetch would only get the same document again.
        actor.key_refetched_at = utcnow()
        await session.flush()
    return actor, _key_of(actor, key_id)

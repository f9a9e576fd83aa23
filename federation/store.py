"""Storing what peers publish: mirror their libraries, verify and keep their measures."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import ActorError, get_actor
from federation.fetch import FetchError, fetch_document
from federation.parsing import (
    ObjectError,
    host_of,
    library_fields,
    measure_fields,
    object_id,
    storable_id,
)
from federation.proofs import ProofError, decode_multikey, proof_verification_method, verify_proof
from federation.runtime import Federation
from node import remote as remote_store
from node.models import Following, Library, Measure, RemoteActor

log = logging.getLogger(__name__)


async def mirror_library(fed: Federation, session: AsyncSession, actor: RemoteActor) -> Library:
    """The local mirror row of a remote actor's library profile (created or refreshed)."""
    fields = library_fields(actor.document, fed.vocab)
    library = await remote_store.upsert_library(
        session,
        ap_id=actor.ap_id,
        handle=actor.preferred_username or actor.ap_id.rsplit("/", 1)[-1],
        domain=actor.domain,
        url=actor.url,
        fields=fields,
    )
    actor.library_id = library.id
    return library


def check_proof(doc: dict[str, Any], actor: RemoteActor) -> bool:
    """Verify an object's FEP-8b32 proof against the author's multikeys; False if it has none."""
    if "proof" not in doc:
        return False
    method = proof_verification_method(doc)
    multibase = actor.multikeys.get(method)
    if multibase is None:
        raise ProofError(f"proof key {method} is not a key of {actor.ap_id}")
    verify_proof(doc, decode_multikey(multibase))
    return True


async def is_followed(session: AsyncSession, actor: RemoteActor) -> bool:
    """Whether any local library follows this actor (and was accepted)."""
    row = await session.scalar(
        select(Following.id).where(
            Following.remote_actor_id == actor.id, Following.state == "accepted"
        )
    )
    return row is not None


async def store_article(
    fed: Federation, session: AsyncSession, author: RemoteActor, doc: dict[str, Any]
) -> tuple[Measure, bool] | None:
    """Validate and store an Article by ``author``; None if it must not be indexed."""
    ap_id = storable_id(doc)
    if ap_id is None or doc.get("type") != "Article":
        raise ObjectError("not an Article with an id of at most 2048 bytes of UTF-8")
    if host_of(ap_id) != host_of(author.ap_id):
        raise ObjectError(f"{ap_id} does not live on its author's host")
    if object_id(doc.get("attributedTo")) != author.ap_id:
        raise ObjectError(f"{ap_id} is not attributed to {author.ap_id}")
    if not author.indexable:
        log.info("not indexing %s: its author opted out (indexable/searchableBy)", ap_id)
        return None
    check_proof(doc, author)
    fields = measure_fields(doc, fed.vocab)
    library = await mirror_library(fed, session, author)
    return await remote_store.upsert_measure(session, library, ap_id, fields)


async def fetch_article(
    fed: Federation, session: AsyncSession, url: str
) -> tuple[RemoteActor, dict[str, Any]]:
    """Fetch an object from its origin (e.g. one an association announced) and its author."""
    try:
        fetched = await fetch_document(
            fed.client,
            url,
            allow_private=fed.settings.allow_private_peers,
            signer=fed.signer,
            max_bytes=fed.settings.fetch_max_bytes,
        )
    except FetchError as exc:
        raise ObjectError(f"cannot fetch {url}: {exc}") from exc
    doc = fetched.data
    # Trust is in where the document really came from (after redirects), not what was asked.
    if doc.get("id") != url or host_of(fetched.url) != host_of(url):
        raise ObjectError(f"{url} answered with a document of another id or host")
    author_id = object_id(doc.get("attributedTo"))
    if author_id is None or host_of(author_id) != host_of(url):
        raise ObjectError(f"{url} is not attributed to an actor of its own host")
    try:
        author = await get_actor(session, fed.client, fed.settings, author_id, signer=fed.signer)
    except (FetchError, ActorError) as exc:
        raise ObjectError(f"cannot fetch the author of {url}: {exc}") from exc
    return author, doc

"""Following other libraries: Follow / Undo, and the backfill of their existing measures."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from federation.actors import get_actor
from federation.fetch import FetchError, fetch_json, fetch_webfinger
from federation.outgoing import pair_ref
from federation.parsing import ObjectError, object_id
from federation.runtime import Federation
from federation.store import store_article
from node import outbox
from node import remote as remote_store
from node.db import unit_of_work
from node.libraries import get_local_library
from node.models import Following, Library, Measure, RemoteActor, utcnow
from node.validation import ValidationError

log = logging.getLogger(__name__)

MAX_BACKFILL_PAGES = 200
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class FollowResult:
    """What `follow` did."""

    actor: str
    state: str
    already: bool


async def resolve(fed: Federation, account: str) -> str:
    """An actor id from ``name@host`` (via WebFinger) or an actor URL."""
    account = account.strip()
    if account.startswith(("http://", "https://")):
        return account
    if "@" not in account.lstrip("@"):
        raise ValidationError.single("account", "give name@host or an actor URL")
    return await fetch_webfinger(
        fed.client,
        account,
        allow_private=fed.settings.allow_private_peers,
        max_bytes=fed.settings.fetch_max_bytes,
    )


async def follow(fed: Federation, handle: str, account: str) -> FollowResult:
    """Let a local library follow a remote actor; the Follow is queued for delivery."""
    async with fed.sessionmaker() as session:
        await get_local_library(session, handle)  # a typo in the handle fails before the network
    actor_id = await resolve(fed, account)
    async with unit_of_work(fed.sessionmaker) as session:
        library = await get_local_library(session, handle)
        remote = await get_actor(session, fed.client, fed.settings, actor_id, signer=fed.signer)
        existing = await session.scalar(
            select(Following).where(
                Following.library_id == library.id, Following.remote_actor_id == remote.id
            )
        )
        if existing is not None and existing.state in ("pending", "accepted"):
            return FollowResult(remote.ap_id, existing.state, already=True)
        record = await outbox.record(session, library.id, "Follow", "Actor", remote.ap_id)
        if existing is None:
            session.add(Following(uid=record.uid, library_id=library.id, remote_actor_id=remote.id))
        else:
            existing.uid, existing.state, existing.accepted_at = record.uid, "pending", None
    fed.wake_delivery.set()
    return FollowResult(remote.ap_id, "pending", already=False)


async def _known_actor_id(fed: Federation, account: str) -> str | None:
    """The actor id of ``name@host`` or a URL from the local cache (no network)."""
    account = account.strip()
    if account.startswith(("http://", "https://")):
        return account
    name, _, host = account.lstrip("@").partition("@")
    async with fed.sessionmaker() as session:
        return await session.scalar(
            select(RemoteActor.ap_id).where(
                RemoteActor.preferred_username == name, RemoteActor.domain == host.lower()
            )
        )


async def unfollow(fed: Federation, handle: str, account: str, *, drop: bool = False) -> bool:
    """Stop following (sends Undo); ``drop`` also forgets the measures received from it.

    Works without reaching the peer (it may be gone, which is when operators unfollow).
    """
    actor_id = await _known_actor_id(fed, account) or await resolve(fed, account)
    async with unit_of_work(fed.sessionmaker) as session:
        library = await get_local_library(session, handle)
        remote = await session.scalar(select(RemoteActor).where(RemoteActor.ap_id == actor_id))
        if remote is None:
            return False
        following = await session.scalar(
            select(Following).where(
                Following.library_id == library.id, Following.remote_actor_id == remote.id
            )
        )
        if following is None:
            return False
        await outbox.record(
            session, library.id, "Undo", "Follow", pair_ref(following.uid, remote.ap_id)
        )
        await session.delete(following)
        await session.flush()
        still_followed = await session.scalar(
            select(func.count())
            .select_from(Following)
            .where(Following.remote_actor_id == remote.id)
        )
        if drop and not still_followed and remote.library_id is not None:
            mirror = await session.get(Library, remote.library_id)
            if mirror is not None and not mirror.is_local:
                await remote_store.drop_library(session, mirror)
    fed.wake_delivery.set()
    return True


async def _page(fed: Federation, ref: Any) -> dict[str, Any] | None:
    if isinstance(ref, dict):
        return ref
    if not isinstance(ref, str):
        return None
    return await fetch_json(
        fed.client,
        ref,
        allow_private=fed.settings.allow_private_peers,
        signer=fed.signer,
        max_bytes=fed.settings.fetch_max_bytes,
    )


async def backfill(fed: Federation, following_id: int, progress: Progress | None = None) -> int:
    """Fetch the followed actor's outbox page by page and store its measures; returns count."""
    async with fed.sessionmaker() as session:
        following = await session.get(Following, following_id)
        remote = await session.get(RemoteActor, following.remote_actor_id) if following else None
    if following is None or remote is None or not remote.outbox:
        return 0
    stored = 0
    try:
        collection = await _page(fed, remote.outbox)
        total = collection.get("totalItems") if collection else None
        page = await _page(fed, collection.get("first")) if collection else None
        pages = 0
        while page is not None and pages < MAX_BACKFILL_PAGES:
            pages += 1
            items = page.get("orderedItems") or page.get("items") or []
            async with unit_of_work(fed.sessionmaker) as session:
                author = await session.get_one(RemoteActor, remote.id)
                for item in items if isinstance(items, list) else []:
                    obj = item.get("object") if isinstance(item, dict) else None
                    if not (isinstance(item, dict) and item.get("type") == "Create"):
                        continue
                    if not isinstance(obj, dict) or obj.get("type") != "Article":
                        continue
                    try:
                        if await store_article(fed, session, author, obj) is not None:
                            stored += 1
                    except (ObjectError, ValueError) as exc:
                        log.warning("backfill: skipping %s: %s", object_id(obj), exc)
            log.info("backfill of %s: %d of %s measures", remote.ap_id, stored, total or "?")
            if progress is not None:
                progress(stored, total if isinstance(total, int) else None)
            next_ref = page.get("next")
            page = await _page(fed, next_ref) if next_ref else None
    except FetchError as exc:
        log.warning("backfill of %s stopped: %s", remote.ap_id, exc)
    async with unit_of_work(fed.sessionmaker) as session:
        row = await session.get(Following, following_id)
        if row is not None:
            row.backfilled_at = utcnow()
    return stored


async def received_count(fed: Federation, remote: RemoteActor) -> int:
    """How many measures we hold from this actor."""
    if remote.library_id is None:
        return 0
    async with fed.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(Measure).where(Measure.library_id == remote.library_id)
        )
    return int(count or 0)

"""What each incoming activity type does: the ``HANDLERS`` dispatch table.

Every handler runs in one unit of work for one stored, verified activity. Work that must
happen after the commit (a backfill, waking the delivery queue) is returned as follow-ups.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation import urls
from federation.actors import parse_actor
from federation.outgoing import pair_ref
from federation.parsing import (
    ObjectError,
    host_of,
    object_id,
    reply_html,
    storable_id,
    web_url,
)
from federation.runtime import Federation
from federation.store import fetch_article, is_followed, mirror_library, store_article
from node import outbox
from node import remote as remote_store
from node.libraries import NotFound, get_local_library
from node.models import (
    Follower,
    Following,
    InboxActivity,
    Library,
    Measure,
    RemoteActor,
    Reply,
    utcnow,
)

log = logging.getLogger(__name__)

FollowUp = Callable[[], Coroutine[Any, Any, None]]
Handler = Callable[
    [Federation, AsyncSession, InboxActivity, RemoteActor], Awaitable[list[FollowUp]]
]
ACTOR_TYPES = {"Person", "Service", "Organization", "Group", "Application"}


async def _local_library(
    fed: Federation, session: AsyncSession, ap_id: str | None
) -> Library | None:
    prefix = urls.actor_id(fed.settings, "")
    if not ap_id or not ap_id.startswith(prefix) or "/" in ap_id[len(prefix) :]:
        return None
    try:
        return await get_local_library(session, ap_id[len(prefix) :])
    except NotFound:
        return None


def _wake(fed: Federation) -> list[FollowUp]:
    async def wake() -> None:
        fed.wake_delivery.set()

    return [wake]


async def on_follow(
    fed: Federation, session: AsyncSession, item: InboxActivity, actor: RemoteActor
) -> list[FollowUp]:
    """A remote actor follows a local library: accept (or wait for manual approval)."""
    library = await _local_library(fed, session, object_id(item.payload.get("object")))
    if library is None:
        return []
    follower = await session.scalar(
        select(Follower).where(
            Follower.library_id == library.id, Follower.remote_actor_id == actor.id
        )
    )
    state = "pending" if library.manually_approves_followers else "accepted"
    if follower is None:
        follower = Follower(library_id=library.id, remote_actor_id=actor.id)
        session.add(follower)
    elif follower.state == "accepted":
        state = "accepted"  # a repeated Follow of an accepted follower is accepted again
    follower.follow_ap_id = item.ap_id
    follower.state = state
    await session.flush()
    if state == "accepted":
        await outbox.record(
            session, library.id, "Accept", "Follow", pair_ref(item.ap_id, actor.ap_id)
        )
    return _wake(fed)


async def _following_for(
    fed: Federation, session: AsyncSession, item: InboxActivity, actor: RemoteActor
) -> Following | None:
    follow_id = object_id(item.payload.get("object"))
    prefix = urls.activity_id(fed.settings, "")
    if not follow_id or not follow_id.startswith(prefix):
        return None
    following = await session.scalar(
        select(Following).where(Following.uid == follow_id[len(prefix) :])
    )
    if following is None or following.remote_actor_id != actor.id:
        return None  # only the followed actor may answer a Follow
    return following


async def on_accept(
    fed: Federation, session: AsyncSession, item: InboxActivity, actor: RemoteActor
) -> list[FollowUp]:
    """Our Follow was accepted: start receiving, and backfill the actor's measures."""
    following = await _following_for(fed, session, item, actor)
    if following is None:
        return []
    following.state = "accepted"
    following.accepted_at = utcnow()
    await session.flush()
    following_id = following.id

    async def backfill_later() -> None:
        from federation.following import backfill

        await backfill(fed, following_id)

    return [backfill_later]


async def on_reject(
    fed: Federation, session: AsyncSession, item: InboxActivity, actor: RemoteActor
) -> list[FollowUp]:
    """Our Follow was rejected (or a follower was removed)."""
    following = await _following_for(fed, session, item, actor)
    if following is not None:
        following.state = "rejected"
    return []


async def on_undo(
    fed: Federation, session: AsyncSession, item: InboxActivity, actor: RemoteActor
) -> list[FollowUp]:
    """Undo(Follow): the actor stops following a local library. Other Undos are ignored."""
    obj = item.payload.get("object")
    follow_id = object_id(obj)
    if isinstance(obj, dict) and obj.get("type") not in (None, "Follow"):
        return []
    await session.execute(
        delete(Follower).where(
            Follower.remote_actor_id == actor.id, Follower.follow_ap_id == follow_id
        )
    )
    if isinstance(obj, dict):
        library = await _local_library(fed, session, object_id(obj.get("object")))
        if library is not None:
            await session.execute(
                delete(Follower).where(
                    Follower.remote_actor_id == actor.id, Follower.library_id == library.id
                )
            )
    return []


async def _store_reply(
    fed: Federation, session: AsyncSession, actor: RemoteActor, note: dict[str, Any]
) -> None:
    target = object_id(note.get("inReplyTo"))
    if target is None:
        return
    measure: Measure | None
    local_prefix = urls.measure_id(fed.settings, "")
    if target.startswith(local_prefix):
        uid = target[len(local_prefix) :]
        measure = await session.scalar(select(Measure).where(Measure.uid == uid))
    elif host_of(target) in await fed.caches.measure_hosts(fed.sessionmaker):
        measure = await remote_store.find_measure(session, target)
    else:
        return  # most replies a shared inbox sees answer posts that are not measures at all
    if measure is None:
        return
    note_id = storable_id(note)
    if note_id is None:
        raise ObjectError("a reply without an id of at most 2048 bytes of UTF-8")
    try:
        await _add_reply(session, measure, actor, note, note_id)
    except PermissionError as exc:
        log.warning("ignoring reply %s: %s", note_id, exc)


async def _add_reply(
    session: AsyncSession, measure: Measure, actor: RemoteActor, note: dict[str, Any], note_id: str
) -> None:
    await remote_store.add_reply(
        session,
        measure,
        ap_id=note_id,
        author=actor.ap_id,
        author_name=actor.name or actor.preferred_username,
        content_html=reply_html(note),
        url=web_url(note.get("url")),
        published=None,
    )


async def _announce_as_associations(
    session: AsyncSession, actor: RemoteActor, measure_ap_id: str
) -> bool:
    """Local associations re-share what their member libraries publish (FEP-1b12 style)."""
    rows = await session.scalars(
        select(Library.id)
        .join(Following, Following.library_id == Library.id)
        .where(
            Following.remote_actor_id == actor.id,
            Following.state == "accepted",
            Library.kind == "association",
            Library.is_local.is_(True),
        )
    )
    announced = False
    for library_id in rows.all():
        await outbox.record(session, library_id, "Announce", "Measure", measure_ap_id)
        announced = True
    return announced


async def on_create(
    fed: Federation, session: AsyncSession, item: InboxActivity, actor: RemoteActor
) -> list[FollowUp]:
    """A new measure from a followed library, or a reply under one of the measures we know."""
    obj = item.payload.get("object")
    if not isinstance(obj, dict):
        return []
    if obj.get("type") == "Article" and await is_followed(session, actor):
        stored = await store_article(fed, session, actor, obj)
        is_new = stored is not None and stored[1]
        if (
            is_new
            and stored
            and await _announce_as_associations(session, actor, stored[0].ap_id or "")
        ):
            return _wake(fed)
        return []
    if obj.get("inReplyTo") is not None:
        await _store_reply(fed, session, actor, obj)
    return []


async def on_update(
    fed: Federation, session: AsyncSession, item: InboxActivity, actor: RemoteActor
) -> list[FollowUp]:
    """An edited measure or reply, or a changed actor profile."""
    obj = item.payload.get("object")
    if not isinstance(obj, dict):
        return []
    if obj.get("type") in ACTOR_TYPES and obj.get("id") == actor.ap_id:
        fields = parse_actor(obj, actor.ap_id)
        for name, value in vars(fields).items():
            if hasattr(actor, name) and name not in ("id", "ap_id"):
                setattr(actor, name, value)
        actor.document = obj
        actor.fetched_at = utcnow()
        if actor.library_id is not None or (actor.is_bibnetz and await is_followed(session, actor)):
            await mirror_library(fed, session, actor)
        return []
    if obj.get("type") == "Article":
        known = await remote_store.find_measure(session, str(obj.get("id")))
        if known is not None or await is_followed(session, actor):
            await store_article(fed, session, actor, obj)
        return []
    if obj.get("inReplyTo") is not None:
        await _store_reply(fed, session, actor, obj)
    return []


async def on_delete(
    fed: Federation, session: AsyncSession, item: InboxActivity, actor: RemoteActor
) -> list[FollowUp]:
    """A deleted measure or reply, or a deleted actor (GDPR art. 17: drop what we hold)."""
    target = object_id(item.payload.get("object"))
    if target is None:
        return []
    if target == actor.ap_id:
        if actor.library_id is not None:
            library = await session.get(Library, actor.library_id)
            if library is not None and not library.is_local:
                await remote_store.drop_library(session, library)
        await session.delete(actor)
        return []
    measure = await remote_store.find_measure(session, target)
    if measure is not None:
        # Only the author's own library may delete it, not a neighbour on the same host.
        if actor.library_id is None or measure.library_id != actor.library_id:
            log.warning("ignoring Delete of %s by %s: not its author", target, actor.ap_id)
            return []
        await remote_store.delete_measure(session, target)
    else:
        await session.execute(
            delete(Reply).where(Reply.ap_id == target, Reply.author == actor.ap_id)
        )
    return []


async def on_announce(
    fed: Federation, session: AsyncSession, item: InboxActivity, actor: RemoteActor
) -> list[FollowUp]:
    """An association re-shares a measure: fetch it from its origin, verify, then index."""
    target = object_id(item.payload.get("object"))
    if target is None or not await is_followed(session, actor):
        return []
    if await remote_store.find_measure(session, target) is not None:
        return []
    author, doc = await fetch_article(fed, session, target)
    if doc.get("type") == "Article":
        await store_article(fed, session, author, doc)
    return []


HANDLERS: dict[str, Handler] = {
    "Follow": on_follow,
    "Accept": on_accept,
    "Reject": on_reject,
    "Undo": on_undo,
    "Create": on_create,
    "Update": on_update,
    "Delete": on_delete,
    "Announce": on_announce,
}

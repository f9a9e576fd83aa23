"""Outbox records → the ActivityStreams document to send and the inboxes to send it to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation import urls
from federation.delivery import Rendered
from federation.documents import activity, library_actor, measure_article, tombstone
from node.models import (
    Follower,
    Library,
    LibraryKeys,
    Measure,
    OutboxActivity,
    RemoteActor,
    Tombstone,
    ToolkitResult,
)
from node.settings import Settings
from node.vocab import Vocabularies

REF_SEPARATOR = " "


def pair_ref(first: str, second: str) -> str:
    """Encode two references (e.g. a Follow id and the actor it concerns) in object_ref."""
    return f"{first}{REF_SEPARATOR}{second}"


def split_ref(ref: str) -> tuple[str, str]:
    """Decode a reference made by ``pair_ref``."""
    first, _, second = ref.partition(REF_SEPARATOR)
    return first, second


async def follower_inboxes(session: AsyncSession, library_id: int) -> list[str]:
    """Inboxes of the library's accepted followers; shared inboxes preferred, deduplicated."""
    rows = await session.execute(
        select(RemoteActor.inbox, RemoteActor.shared_inbox)
        .join(Follower, Follower.remote_actor_id == RemoteActor.id)
        .where(Follower.library_id == library_id, Follower.state == "accepted")
    )
    return sorted({shared or inbox for inbox, shared in rows})


async def _actor_inbox(session: AsyncSession, ap_id: str) -> list[str]:
    remote = await session.scalar(select(RemoteActor).where(RemoteActor.ap_id == ap_id))
    return [remote.inbox] if remote is not None else []


class Renderer:
    """Renders outbox records for the delivery queue (bound to the node's settings)."""

    def __init__(self, settings: Settings, vocab: Vocabularies) -> None:
        self.settings = settings
        self.vocab = vocab

    async def __call__(self, session: AsyncSession, record: OutboxActivity) -> Rendered | None:
        """The document and recipients of one record; None when there is nothing to send."""
        library = await session.get(Library, record.library_id)
        keys = await session.get(LibraryKeys, record.library_id)
        if library is None or keys is None:
            return None
        s = self.settings
        actor = urls.actor_id(s, library.handle)
        followers = urls.followers(s, library.handle)

        def public(activity_type: str, obj: Any) -> dict[str, Any]:
            return activity(
                s, activity_type, record.uid, actor, obj,
                to=[urls.PUBLIC], cc=[followers], published=record.created_at,
            )  # fmt: skip

        kind = (record.activity_type, record.object_type)
        obj: Any
        if kind in (("Create", "Measure"), ("Update", "Measure")):
            measure = await session.scalar(
                select(Measure).where(Measure.uid == record.object_ref, Measure.is_local)
            )
            if measure is None:
                return None  # deleted before it could be sent; the Delete follows
            obj = measure_article(s, self.vocab, measure, library, keys)
            doc = public(record.activity_type, obj)
            return Rendered(doc, await follower_inboxes(session, library.id))
        if kind == ("Delete", "Measure"):
            stone = await session.scalar(
                select(Tombstone).where(Tombstone.uid == record.object_ref)
            )
            deleted = stone.deleted_at if stone is not None else record.created_at
            obj = tombstone(s, record.object_ref, deleted)
            doc = public("Delete", obj)
            return Rendered(doc, await follower_inboxes(session, library.id))
        if kind == ("Update", "Library"):
            toolkit = await session.get(ToolkitResult, library.id)
            obj = library_actor(s, self.vocab, library, keys, toolkit)
            doc = public("Update", obj)
            return Rendered(doc, await follower_inboxes(session, library.id))
        if kind == ("Announce", "Measure"):
            doc = public("Announce", record.object_ref)
            return Rendered(doc, await follower_inboxes(session, library.id))
        if kind == ("Follow", "Actor"):
            target = record.object_ref
            doc = activity(s, "Follow", record.uid, actor, target, to=[target])
            return Rendered(doc, await _actor_inbox(session, target))
        if kind == ("Undo", "Follow"):
            follow_uid, target = split_ref(record.object_ref)
            follow = activity(s, "Follow", follow_uid, actor, target, to=[target])
            follow.pop("@context")
            doc = activity(s, "Undo", record.uid, actor, follow, to=[target])
            return Rendered(doc, await _actor_inbox(session, target))
        if kind in (("Accept", "Follow"), ("Reject", "Follow")):
            follow_id, follower = split_ref(record.object_ref)
            follow_obj = {"id": follow_id, "type": "Follow", "actor": follower, "object": actor}
            doc = activity(s, record.activity_type, record.uid, actor, follow_obj, to=[follower])
            return Rendered(doc, await _actor_inbox(session, follower))
        return None

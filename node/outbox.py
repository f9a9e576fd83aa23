"""What local libraries publish: services record activities here, federation delivers them.

``node`` never imports ``federation``: a service only records that, say, a measure was
created; the federation package turns the record into an ActivityPub activity and fans it
out to followers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import utcnow
from node.models.outbox import OutboxActivity


async def record(
    session: AsyncSession, library_id: int, activity_type: str, object_type: str, object_ref: str
) -> OutboxActivity:
    """Record an activity in the same transaction as the change it announces."""
    activity = OutboxActivity(
        uid=str(uuid.uuid4()),
        library_id=library_id,
        activity_type=activity_type,
        object_type=object_type,
        object_ref=object_ref,
    )
    session.add(activity)
    await session.flush()
    return activity


async def record_many(
    session: AsyncSession,
    library_id: int,
    activity_type: str,
    object_type: str,
    object_refs: Sequence[str],
) -> None:
    """Record one activity per object in a single statement (bulk imports)."""
    if not object_refs:
        return
    now = utcnow()
    await session.execute(
        insert(OutboxActivity),
        [
            {
                "uid": str(uuid.uuid4()),
                "library_id": library_id,
                "activity_type": activity_type,
                "object_type": object_type,
                "object_ref": ref,
                "created_at": now,
            }
            for ref in object_refs
        ],
    )

"""Service: libraries and measures received from peers (validated by the caller's parser)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import Library, Measure, Reply, utcnow
from node.search import index_measures, reindex_library


async def upsert_library(
    session: AsyncSession,
    *,
    ap_id: str,
    handle: str,
    domain: str,
    url: str | None,
    fields: Mapping[str, Any],
) -> Library:
    """Create or refresh the local mirror of a remote bibnetz library."""
    library = await session.scalar(select(Library).where(Library.ap_id == ap_id))
    if library is None:
        library = Library(
            ap_id=ap_id, handle=handle[:64], domain=domain, is_local=False, url=url, **fields
        )
        session.add(library)
    else:
        for name, value in fields.items():
            setattr(library, name, value)
        library.url = url
    await session.flush()
    await reindex_library(session, library.id)
    return library


async def upsert_measure(
    session: AsyncSession, library: Library, ap_id: str, fields: Mapping[str, Any]
) -> tuple[Measure, bool]:
    """Store a received measure (insert or update by its id); whether it was new."""
    measure = await session.scalar(select(Measure).where(Measure.ap_id == ap_id))
    values = {k: v for k, v in fields.items() if k != "uid"}
    if measure is None:
        now = utcnow()
        values.setdefault("published_at", now)
        measure = Measure(
            uid=str(uuid.uuid4()),
            ap_id=ap_id,
            is_local=False,
            library_id=library.id,
            created_at=now,
            updated_at=now,
            **values,
        )
        session.add(measure)
        await session.flush()
        await index_measures(session, [measure.id])
        return measure, True
    if measure.library_id != library.id:
        raise PermissionError(f"{ap_id} belongs to another library")
    for name, value in values.items():
        setattr(measure, name, value)
    measure.updated_at = utcnow()
    await session.flush()
    await index_measures(session, [measure.id])
    return measure, False


async def delete_measure(session: AsyncSession, ap_id: str) -> bool:
    """Remove a received measure (a peer deleted it); whether it existed."""
    result = await session.execute(
        delete(Measure).where(Measure.ap_id == ap_id, Measure.is_local.is_(False))
    )
    return bool(getattr(result, "rowcount", 0))


async def drop_library(session: AsyncSession, library: Library) -> None:
    """Forget a remote library and everything received from it (unfollow, block, Delete)."""
    if library.is_local:
        raise ValueError("refusing to drop a local library")
    await session.delete(library)
    await session.flush()


async def find_measure(session: AsyncSession, ap_id: str) -> Measure | None:
    """A received measure by its ActivityPub id."""
    return await session.scalar(select(Measure).where(Measure.ap_id == ap_id))


async def add_reply(
    session: AsyncSession,
    measure: Measure,
    *,
    ap_id: str,
    author: str,
    author_name: str,
    content_html: str,
    url: str | None,
    published: Any,
) -> Reply:
    """Store a question or answer under a measure (idempotent by id)."""
    reply = await session.scalar(select(Reply).where(Reply.ap_id == ap_id))
    if reply is not None and reply.author != author:
        raise PermissionError(f"reply {ap_id} belongs to another author")
    if reply is None:
        reply = Reply(ap_id=ap_id, measure_id=measure.id, author=author)
        session.add(reply)
    reply.author_name = author_name
    reply.content_html = content_html
    reply.url = url
    if published is not None:
        reply.published_at = published
    await session.flush()
    return reply

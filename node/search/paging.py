"""Keyset paging of the newest measures (the API's plain listing) and its cursors."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import Library, Measure


class CursorError(ValueError):
    """A page cursor that this node did not make."""


@dataclass(frozen=True)
class Page:
    """One page of measures with their libraries, the total, and the next cursor."""

    items: list[tuple[Measure, Library]]
    total: int
    next_cursor: str | None


def encode_cursor(measure: Measure) -> str:
    """An opaque cursor after this measure (newest-first order)."""
    raw = f"{measure.published_at.isoformat()}|{measure.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (published_at, id) position a cursor stands for."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, ident = raw.partition("|")
        return datetime.fromisoformat(stamp), int(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CursorError("invalid cursor") from exc


async def newest_measures(
    session: AsyncSession, *, limit: int = 20, cursor: str | None = None
) -> Page:
    """Measures newest first (by publication), with keyset pagination."""
    query = select(Measure, Library).join(Library, Library.id == Measure.library_id)
    if cursor:
        stamp, ident = decode_cursor(cursor)
        query = query.where(
            or_(
                Measure.published_at < stamp,
                and_(Measure.published_at == stamp, Measure.id < ident),
            )
        )
    rows = (
        await session.execute(
            query.order_by(Measure.published_at.desc(), Measure.id.desc()).limit(limit + 1)
        )
    ).all()
    total = int(await session.scalar(select(func.count()).select_from(Measure)) or 0)
    items = [(m, lib) for m, lib in rows[:limit]]
    next_cursor = encode_cursor(items[-1][0]) if len(rows) > limit and items else None
    return Page(items, total, next_cursor)

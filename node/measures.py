"""Service: create, update, delete and list a local library's measures."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node import outbox
from node.libraries import NotFound
from node.models import Library, Measure, Tombstone, utcnow
from node.search import index_measures
from node.validation import ValidationError, validate_measure
from node.vocab import Vocabularies


def _snapshot(library: Library) -> dict[str, Any]:
    return {
        "snapshot_population": library.population,
        "snapshot_area_m2": library.public_area_m2,
        "snapshot_fte": library.staff_fte,
    }


def new_measure_values(library: Library, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Column values of a new local measure: validated fields plus the library's snapshot."""
    now = utcnow()
    values = dict(fields)
    values.setdefault("uid", str(uuid.uuid4()))
    values.setdefault("published_at", now)
    values.update(library_id=library.id, is_local=True, created_at=now, updated_at=now)
    values.update(_snapshot(library))
    return values


def new_measure(library: Library, fields: Mapping[str, Any]) -> Measure:
    """Build (not add) a local measure from validated fields."""
    return Measure(**new_measure_values(library, fields))


async def create_measure(
    session: AsyncSession, vocab: Vocabularies, library: Library, data: Mapping[str, Any]
) -> Measure:
    """Validate, store and announce a new measure of a local library."""
    fields = validate_measure(data, vocab)
    if "uid" in fields and await session.scalar(
        select(Measure.id).where(Measure.uid == fields["uid"])
    ):
        raise ValidationError.single("id", f"a measure with id {fields['uid']} already exists")
    measure = new_measure(library, fields)
    session.add(measure)
    await session.flush()
    await index_measures(session, [measure.id])
    await outbox.record(session, library.id, "Create", "Measure", measure.uid)
    return measure


def apply_changes(measure: Measure, fields: Mapping[str, Any]) -> bool:
    """Set validated fields on a measure; whether anything changed."""
    changed = False
    for name, value in fields.items():
        if name == "uid":
            continue
        if getattr(measure, name) != value:
            setattr(measure, name, value)
            changed = True
    return changed


async def update_measure(
    session: AsyncSession, vocab: Vocabularies, measure: Measure, data: Mapping[str, Any]
) -> Measure:
    """Change the given fields of a local measure and announce the update."""
    if not measure.is_local:
        raise ValidationError.single("id", "measures of other nodes cannot be edited here")
    fields = validate_measure(data, vocab, partial=True)
    if apply_changes(measure, fields):
        measure.updated_at = utcnow()
        await session.flush()
        await index_measures(session, [measure.id])
        await outbox.record(session, measure.library_id, "Update", "Measure", measure.uid)
    return measure


async def delete_measure(session: AsyncSession, measure: Measure) -> None:
    """Delete a local measure and announce the deletion (peers drop it too)."""
    if not measure.is_local:
        raise ValidationError.single("id", "measures of other nodes cannot be deleted here")
    await outbox.record(session, measure.library_id, "Delete", "Measure", measure.uid)
    # The tombstone lets the measure's URL answer 410 Gone instead of 404 (peers drop it).
    session.add(Tombstone(uid=measure.uid, library_id=measure.library_id))
    await session.delete(measure)
    await session.flush()


async def get_measure(session: AsyncSession, uid: str) -> Measure:
    """A measure (local or received) by its uid, or NotFound."""
    measure = await session.scalar(select(Measure).where(Measure.uid == uid))
    if measure is None:
        raise NotFound(f"no measure {uid!r}")
    return measure


async def list_library_measures(session: AsyncSession, library: Library) -> Sequence[Measure]:
    """A library's measures, oldest first (the order of an export)."""
    rows = await session.scalars(
        select(Measure)
        .where(Measure.library_id == library.id)
        .order_by(Measure.published_at, Measure.id)
    )
    return rows.all()

"""Write side of the index: keep measure_search / measure_text (and thus FTS) in step.

Services call these in the same transaction as their measure writes. Deleting a measure
(or a library) needs no call: foreign keys cascade into the index, and on SQLite the
measure_text triggers remove the FTS5 entries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import Library, Measure, MeasureSearch, MeasureText
from node.search import schema
from node.search.facets import (
    BUCKET_CODES,
    DIMENSIONS,
    LIST_DIMENSIONS,
    SCALAR_DIMENSIONS,
    bucket_token,
    facet_dimension,
    facet_token,
    list_facet_text,
)
from node.search.similarity import profile_log
from node.search.text import token_text

Progress = Callable[[int, int], None]
# Core tables: executemany without ORM bookkeeping (an import or rebuild writes thousands).
_SEARCH = cast(Table, MeasureSearch.__table__)
_TEXT = cast(Table, MeasureText.__table__)
CHUNK = 500
PROBE = 64  # free keys looked for at once when two measures' keys collide

_SOURCE = (
    Measure.id,
    Measure.published_at,
    Measure.library_id,
    Measure.is_local,
    Measure.kind,
    Measure.title,
    Measure.summary,
    Measure.body,
    Measure.tags,
    Measure.fields_of_action,
    Measure.target_groups,
    Measure.formats,
    Measure.cost_band,
    Measure.effort,
    Measure.status,
    Measure.snapshot_population,
    Measure.snapshot_area_m2,
    Measure.snapshot_fte,
    Library.federal_state,
    Library.kind.label("org_kind"),
    Library.population,
    Library.public_area_m2,
    Library.staff_fte,
)


def _library_columns(state: Any, org: Any, pop: Any, area: Any, fte: Any) -> dict[str, Any]:
    return {
        "federal_state": state,
        "org_kind": org,
        "cur_population": pop,
        "cur_area_m2": area,
        "cur_fte": fte,
        "cur_ln_population": profile_log("population", pop),
        "cur_ln_area": profile_log("area", area),
        "cur_ln_fte": profile_log("fte", fte),
    }


def index_rows(row: Mapping[Any, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The measure_search and measure_text rows of one source row."""
    key = schema.sort_key(row["published_at"], row["id"])
    search = {
        "sort_key": key,
        "measure_id": row["id"],
        "library_id": row["library_id"],
        "is_local": row["is_local"],
        "kind": row["kind"],
        "cost_band": row["cost_band"],
        "effort": row["effort"],
        "status": row["status"],
        "snap_population": row["snapshot_population"],
        "snap_area_m2": row["snapshot_area_m2"],
        "snap_fte": row["snapshot_fte"],
        "snap_ln_population": profile_log("population", row["snapshot_population"]),
        "snap_ln_area": profile_log("area", row["snapshot_area_m2"]),
        "snap_ln_fte": profile_log("fte", row["snapshot_fte"]),
        **_library_columns(
            row["federal_state"],
            row["org_kind"],
            row["population"],
            row["public_area_m2"],
            row["staff_fte"],
        ),
    }
    tags = " ".join(row["tags"] or ())
    texts = {
        "sort_key": key,
        "title_terms": token_text(row["title"] or ""),
        # Tags are keywords the author chose: they count like the summary.
        "summary_terms": token_text(f"{row['summary'] or ''} {tags}"),
        "body_terms": token_text(row["body"] or ""),
    }
    for name in LIST_DIMENSIONS:
        texts[name] = list_facet_text(row[name] or ())
    facets = [(name, term) for name in LIST_DIMENSIONS for term in row[name] or ()]
    facets.extend((name, search[name]) for name in SCALAR_DIMENSIONS if search[name] is not None)
    terms = [facet_token(n, str(t)) for n, t in facets]
    terms.extend(
        _buckets("snapshot", search["snap_population"], search["snap_area_m2"], search["snap_fte"])
    )
    terms.extend(_current_buckets(search))
    texts["facet_terms"] = " ".join(dict.fromkeys(terms))
    return search, texts


def _buckets(numbers: str, population: Any, area: Any, fte: Any) -> list[str]:
    found = [
        bucket_token(numbers, dim, value)
        for dim, value in zip(("population", "area", "fte"), (population, area, fte), strict=True)
    ]
    return [token for token in found if token]


def _current_buckets(values: Mapping[Any, Any]) -> list[str]:
    return _buckets("current", values["cur_population"], values["cur_area_m2"], values["cur_fte"])


async def _write(session: AsyncSession, rows: Iterable[Mapping[Any, Any]]) -> int:
    pairs = [index_rows(row) for row in rows]
    if pairs:
        await _unique_keys(session, pairs)
        await session.execute(insert(_SEARCH), [search for search, _ in pairs])
        await session.execute(insert(_TEXT), [text_row for _, text_row in pairs])
    return len(pairs)


async def _unique_keys(
    session: AsyncSession, pairs: list[tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    """Give a measure whose key another one holds (published in the same millisecond, ids a
    multiple of 2**20 apart: date-only imports into a big node) a free key of the same
    millisecond; the order within one millisecond is arbitrary anyway. One look-up per
    batch; probing only where keys collide."""
    taken = await _held(session, [search["sort_key"] for search, _ in pairs])
    used: set[int] = set()
    for search, text_row in pairs:
        key = search["sort_key"]
        if key in taken or key in used:
            key = await _free_key(session, key, taken | used)
            search["sort_key"] = text_row["sort_key"] = key
        used.add(key)


async def _free_key(session: AsyncSession, key: int, used: set[int]) -> int:
    """The first key after ``key`` in the same millisecond that no measure holds."""
    floor, slot = key - key % schema.KEY_SHIFT, key % schema.KEY_SHIFT
    for start in range(1, schema.KEY_SHIFT, PROBE):
        steps = range(start, min(start + PROBE, schema.KEY_SHIFT))
        candidates = [floor + (slot + step) % schema.KEY_SHIFT for step in steps]
        held = await _held(session, candidates)
        free = next((c for c in candidates if c not in held and c not in used), None)
        if free is not None:
            return free
    raise ValueError(f"more than {schema.KEY_SHIFT} measures published in one millisecond")


async def _held(session: AsyncSession, keys: list[int]) -> set[int]:
    """Which of these keys indexed measures hold."""
    query = select(MeasureSearch.sort_key).where(MeasureSearch.sort_key.in_(keys))
    return set(await session.scalars(query))


async def _source_rows(session: AsyncSession, ids: Sequence[int]) -> list[Mapping[Any, Any]]:
    result = await session.execute(
        select(*_SOURCE).join(Library, Library.id == Measure.library_id).where(Measure.id.in_(ids))
    )
    return list(result.mappings())


async def index_measures(session: AsyncSession, measure_ids: Iterable[int]) -> None:
    """(Re-)index these measures from their current rows; unknown ids are unindexed."""
    ids = list(dict.fromkeys(measure_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        await session.flush()
        # Delete + insert: the sort key changes when published_at does, and the cascade
        # (and FTS trigger) removes the old facets and text with the old row.
        await session.execute(delete(MeasureSearch).where(MeasureSearch.measure_id.in_(chunk)))
        await _write(session, await _source_rows(session, chunk))


async def index_uids(session: AsyncSession, uids: Sequence[str]) -> None:
    """Index measures given by uid (bulk inserts know uids, not ids)."""
    for start in range(0, len(uids), CHUNK):
        chunk = uids[start : start + CHUNK]
        await index_measures(
            session, await session.scalars(select(Measure.id).where(Measure.uid.in_(chunk)))
        )


async def unindex_measures(session: AsyncSession, measure_ids: Iterable[int]) -> None:
    """Remove measures from the index (deleting the measure does this by cascade too)."""
    ids = list(measure_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        await session.execute(delete(MeasureSearch).where(MeasureSearch.measure_id.in_(chunk)))


async def reindex_library(session: AsyncSession, library_id: int) -> None:
    """Refresh what the index copies from a library profile (state, kind, current numbers)."""
    await session.flush()
    library = await session.get(Library, library_id)
    if library is None:
        return
    values = _library_columns(
        library.federal_state,
        library.kind,
        library.population,
        library.public_area_m2,
        library.staff_fte,
    )
    await session.execute(
        update(MeasureSearch).where(MeasureSearch.library_id == library_id).values(**values)
    )
    # State, organisation kind and current-size buckets are tokens too: swap them in each
    # measure's text row (the FTS5 update trigger re-indexes those rows).
    stale = {DIMENSIONS["federal_state"], DIMENSIONS["org_kind"]}
    stale.update(code for (numbers, _), code in BUCKET_CODES.items() if numbers == "current")
    fresh = [facet_token(n, values[n]) for n in ("federal_state", "org_kind") if values[n]]
    fresh.extend(_current_buckets(values))
    rows = await session.execute(
        select(MeasureText.sort_key, MeasureText.facet_terms)
        .join(MeasureSearch, MeasureSearch.sort_key == MeasureText.sort_key)
        .where(MeasureSearch.library_id == library_id)
    )
    changes = []
    for key, terms in rows:
        kept = [t for t in terms.split() if facet_dimension(t) not in stale]
        new_terms = " ".join([*kept, *fresh])
        if new_terms != terms:
            changes.append({"key": key, "terms": new_terms})
    if changes:
        await session.execute(
            update(_TEXT)
            .where(_TEXT.c.sort_key == bindparam("key"))
            .values(facet_terms=bindparam("terms")),
            changes,
        )


async def rebuild(
    session: AsyncSession, progress: Progress | None = None, *, chunk: int = 2000
) -> int:
    """Re-index every measure (e.g. after an upgrade or a tokeniser change); the count."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Row-by-row trigger maintenance of FTS5 is slower than one 'rebuild' at the end.
        for name in schema.SQLITE_TRIGGERS:
            await session.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    await session.execute(delete(MeasureSearch))
    total = int(await session.scalar(select(func.count()).select_from(Measure)) or 0)
    done, last_id = 0, 0
    while True:
        ids = list(
            await session.scalars(
                select(Measure.id).where(Measure.id > last_id).order_by(Measure.id).limit(chunk)
            )
        )
        if not ids:
            break
        done += await _write(session, await _source_rows(session, ids))
        last_id = ids[-1]
        if progress:
            progress(done, total)
    if sqlite:
        await session.execute(text(schema.FTS_REBUILD))
        for ddl in schema.SQLITE_TRIGGERS.values():
            await session.execute(text(ddl))
    else:
        # Fresh statistics, or the planner may not pick the GIN index after a bulk load.
        await session.execute(text("ANALYZE measure_search"))
        await session.execute(text("ANALYZE measure_text"))
    return done


async def index_is_stale(session: AsyncSession) -> bool:
    """Whether some measures are missing from the index (e.g. right after migration 0003)."""
    measures = await session.scalar(select(func.count()).select_from(Measure))
    indexed = await session.scalar(select(func.count()).select_from(MeasureSearch))
    return measures != indexed

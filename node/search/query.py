"""The search service: filters, full text, facet counts, ranking and paging in one call."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Float, Integer, bindparam, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from node.models import Library, utcnow
from node.search import schema, sql
from node.search.direct import Prepared
from node.search.facets import (
    FACET_NAMES,
    LIBRARY,
    MAX_LIBRARIES,
    PUBLISHED,
    FacetCount,
    count_facets,
    count_years,
)
from node.search.hits import HitLibrary, HitMeasure, page_statement, split_row
from node.search.paging import CursorError
from node.search.plan import Plan, SearchQuery, resolve
from node.search.similarity import SearchError, similarity
from node.search.text import Source, highlight, indexed_snippet

# Facet counts read one short string per hit; beyond this many hits they are estimated
# from the first FACET_SAMPLE hits (newest first) and flagged approximate.
FACET_SAMPLE = 2000
# Scored orders page by offset; deeper than this nobody reads, and the sort gets costly.
MAX_OFFSET = 10_000
_FIRST_ORDER_COLUMN = 1  # sample rows: key, order terms…, facet values


@dataclass(frozen=True)
class Hit:
    """One result: the measure, its library, highlighted title and snippet (HTML), scores."""

    measure: HitMeasure
    library: HitLibrary
    title_html: str
    snippet: str
    score: float | None = None
    distance: float | None = None


@dataclass(frozen=True)
class SearchResult:
    """A page of hits, the exact total, facet counts per dimension and the next cursor."""

    items: list[Hit]
    total: int
    facets: dict[str, list[FacetCount]]
    facets_approximate: bool
    next_cursor: str | None
    order: str
    facet_sample: int = field(default=0)


def _encode(order: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"s1|{order}|{value}".encode()).decode().rstrip("=")


def _decode(cursor: str, order: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, cursor_order, value = raw.split("|")
        number = int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CursorError("invalid cursor") from exc
    if version != "s1" or cursor_order != order:
        raise CursorError("cursor belongs to another ordering")
    return number


def _effective_order(query: SearchQuery, plan: Plan) -> str:
    wanted = query.order
    if wanted == "similarity" and plan.profile is not None:
        return "similarity"
    if wanted == "relevance" and plan.filter.text:
        return "relevance"
    if wanted == "newest":
        return "newest"
    if plan.profile is not None:
        return "combined"
    return "relevance" if plan.filter.text else "newest"


@dataclass(frozen=True)
class _Ordering:
    """An order as SQL terms (column, descending?) ending in the key, and how a hit's
    score follows from its term values (each expression is selected and computed once)."""

    terms: tuple[tuple[ColumnElement[Any], bool], ...]
    score: Callable[[Sequence[Any]], float] | None = None

    def order_by(self) -> list[ColumnElement[Any]]:
        """ORDER BY clauses."""
        return [column.desc() if desc else column.asc() for column, desc in self.terms]

    def columns(self) -> list[ColumnElement[Any]]:
        """The term columns, selected so rows can be sorted and scored in Python."""
        return [column for column, _ in self.terms]

    def sort(self, rows: Sequence[Sequence[Any]], first: int) -> list[Sequence[Any]]:
        """Rows (whose term values start at index ``first``) in this order."""
        # Stable sorts from the last term to the first: each pass is one C-level sort.
        ordered = list(rows)
        for index in range(len(self.terms) - 1, -1, -1):
            ordered.sort(key=itemgetter(first + index), reverse=self.terms[index][1])
        return ordered

    def scored(self, row: Sequence[Any], first: int) -> tuple[int, float | None]:
        """(key, score) of a row whose term values start at index ``first``."""
        values = row[first : first + len(self.terms)]
        return int(row[0]), self.score(values) if self.score else None


@dataclass(frozen=True)
class _Shape:
    """Everything a search's statements depend on except values: the key of the cache of
    built statements (building one costs ~1 ms of Python; a reused one is executed with
    its parameters, and SQLAlchemy reuses its compiled form and result set-up too)."""

    dialect: str
    filter: sql.FilterShape
    order: str
    profile: tuple[str, ...]  # the dimensions "my library" has numbers for
    state: bool  # "my library" has a federal state
    numbers: str
    with_facets: bool


def _ordering(src: sql.Source, shape: _Shape) -> _Ordering:
    key = src.key
    if shape.order == "newest":
        return _Ordering(((key, True),))
    if shape.order == "relevance":
        return _Ordering(((src.relevance(), True), (key, True)), lambda v: float(v[0]))
    d2 = sql.distance2(shape.profile, shape.numbers)
    state = sql.same_state(shape.state)
    if shape.order == "similarity":
        return _Ordering(((d2, False), (state, True), (key, True)), lambda v: similarity(v[0]))
    sim = literal(1.0) / (literal(1.0) + d2)
    other = src.relevance() if shape.filter.terms else sql.recency(key)
    combined = (sim * 0.6 + other * 0.4).cast(Float)
    return _Ordering(((combined, True), (state, True), (key, True)), lambda v: float(v[0]))


@dataclass(frozen=True)
class _Statements:
    """A shape's sample statement (row = key, order terms…, facet values), its ordering,
    where the facet values start, and the source for the page and count statements."""

    sample: Prepared
    ordering: _Ordering
    first_facet: int
    source: sql.Source


@lru_cache(maxsize=512)
def _statements(shape: _Shape) -> _Statements:
    sampler = sql.Source(
        shape.dialect, shape.filter, with_facets=shape.with_facets, numbers=shape.numbers
    )
    ordering = _ordering(sampler, shape)
    columns = [sampler.key]
    if shape.order != "newest":
        columns.extend(ordering.columns())
    first_facet = len(columns)
    if shape.with_facets:
        columns.extend(sampler.facet_columns())
    # The limit is bound too (FACET_SAMPLE + 1, see run_search), so the statement holds
    # nothing that could change while it is cached.
    limit = bindparam("sample_limit", type_=Integer)
    sample = sampler.select(*columns).order_by(sampler.key.desc()).limit(limit)
    # The order terms read only the key and measure_text, which both sources share.
    source = sql.Source(shape.dialect, shape.filter)
    return _Statements(Prepared(sample), ordering, first_facet, source)


def _page(
    session: Session,
    src: sql.Source,
    order: str,
    ordering: _Ordering,
    query: SearchQuery,
    params: dict[str, Any],
    sample: Sequence[Sequence[Any]],
    complete: bool,
) -> tuple[list[tuple[int, float | None]], str | None, int | None]:
    """One page of (key, score), the next cursor and, when the page query counted them
    anyway, the total: sliced from the sample when it holds every hit, else queried
    (keyset after a key for newest, offset for scored orders)."""
    limit = query.limit
    if order == "newest":
        after = _decode(query.cursor, order) if query.cursor else None
        if after is None and (complete or len(sample) > limit):
            keys = [row[0] for row in sample[: limit + 1]]
        else:
            stmt = src.select(src.key).order_by(src.key.desc()).limit(limit + 1)
            if after is not None:
                stmt = stmt.where(src.key < after)
            keys = list(session.connection().scalars(stmt, params).all())
        more = len(keys) > limit
        page: list[tuple[int, float | None]] = [(int(k), None) for k in keys[:limit]]
        return page, _encode(order, page[-1][0]) if more and page else None, None
    offset = _decode(query.cursor, order) if query.cursor else 0
    if offset > MAX_OFFSET:
        raise CursorError("too deep for this ordering; narrow the search")
    total = None
    if complete:
        rows = ordering.sort(sample, _FIRST_ORDER_COLUMN)[offset : offset + limit + 1]
        found = [ordering.scored(row, _FIRST_ORDER_COLUMN) for row in rows]
    else:
        # The sort has to see every hit anyway: count them in the same pass.
        counted = func.count().over()
        stmt = src.select(src.key, *ordering.columns(), counted).order_by(*ordering.order_by())
        result = session.connection().execute(stmt.limit(limit + 1).offset(offset), params).all()
        found = [ordering.scored(row, 1) for row in result]
        total = int(result[0][-1]) if result else None
    page = found[:limit]
    more = len(found) > limit and offset + limit <= MAX_OFFSET
    return page, _encode(order, offset + limit) if more else None, total


def _load(session: Session, page: list[tuple[int, float | None]], plan: Plan) -> list[Hit]:
    if not page:
        return []
    rows = page_statement(plan.numbers).rows(session.connection(), {"keys": [k for k, _ in page]})
    found = {hit.key: hit for hit in map(split_row, rows)}
    text = plan.filter.text
    hits = []
    for key, score in page:
        row = found.get(key)
        if row is None:
            continue  # deleted between the two queries
        distance = None
        if plan.profile is not None:
            distance = math.sqrt(plan.profile.distance2(row.coordinates))
        sources = [
            Source(row.measure.summary, row.summary_terms, trailing=True),
            Source(row.body, row.body_terms),
        ]
        hits.append(
            Hit(
                measure=row.measure,
                library=row.library,
                title_html=highlight(row.measure.title, text),
                snippet=indexed_snippet(sources, text),
                score=score,
                distance=distance,
            )
        )
    return hits


def _empty_facets() -> dict[str, list[FacetCount]]:
    return {name: [] for name in FACET_NAMES}


# The libraries of the library facet, always MAX_LIBRARIES ids (padded by repeating one),
# so the statement is compiled once and runs on the sqlite3 cursor (node.search.direct).
_LIBRARY_NAMES = Prepared(
    select(Library.id, Library.handle, Library.domain, Library.name, Library.is_local).where(
        Library.id.in_(bindparam("ids", expanding=True))
    )
)


def _name_libraries(session: Session, counts: list[FacetCount]) -> list[FacetCount]:
    """Library facet terms as the ``libraries`` filter takes them (handle, or handle@domain
    for a peer's library), labelled with the library's name."""
    ids = [int(count.term) for count in counts]
    ids += ids[-1:] * (MAX_LIBRARIES - len(ids))
    rows = _LIBRARY_NAMES.rows(session.connection(), {"ids": ids})
    refs = {
        library_id: (handle if is_local else f"{handle}@{domain}", name)
        for library_id, handle, domain, name, is_local in rows
    }
    return [
        FacetCount(refs[int(c.term)][0], c.count, refs[int(c.term)][1])
        for c in counts
        if int(c.term) in refs  # deleted since the sample was read
    ]


async def search(session: AsyncSession, query: SearchQuery) -> SearchResult:
    """``run_search`` on an async session (see ``node.search.searcher`` for the fast path)."""
    return await session.run_sync(run_search, query)


def run_search(session: Session, query: SearchQuery) -> SearchResult:
    """Run a query: one newest-first sample gives total and facets, then the page.

    Raises SearchError (unknown library, bad range) or CursorError (foreign cursor).
    """
    if not 1 <= query.limit <= 100:
        raise SearchError("limit must be between 1 and 100", "limit")
    plan = resolve(session, query)
    order = _effective_order(query, plan)
    if plan.nothing:
        return SearchResult([], 0, _empty_facets(), False, None, order)
    dialect = session.get_bind().dialect.name
    profile = plan.profile
    shape = _Shape(
        dialect,
        plan.filter.shape,
        order,
        profile.known if profile else (),
        bool(profile and profile.federal_state),
        plan.numbers,
        query.with_facets,
    )
    built = _statements(shape)
    params = plan.filter.parameters(dialect)
    params.update(sql.profile_parameters(profile, schema.key_floor(utcnow())))
    params["sample_limit"] = FACET_SAMPLE + 1
    # One newest-first sample gives the total, the facets and (when it holds every hit)
    # the page in any order. Plain columns: run on the connection, without the ORM's
    # per-row loading machinery.
    rows = built.sample.rows(session.connection(), params)
    complete = len(rows) <= FACET_SAMPLE
    src, ordering = built.source, built.ordering
    page, next_cursor, counted = _page(session, src, order, ordering, query, params, rows, complete)
    total = len(rows) if complete else counted
    if total is None:
        total = int(session.connection().scalar(src.select(func.count()), params) or 0)
    facets = _empty_facets()
    if query.with_facets:
        sample = rows[:FACET_SAMPLE]
        scale = 1.0 if complete else total / len(sample)
        # Transposed in one C-level pass: one column of values per facet dimension.
        columns = list(zip(*sample, strict=True))
        facets = count_facets(columns[built.first_facet :], scale)
        facets[LIBRARY] = _name_libraries(session, facets[LIBRARY]) if facets[LIBRARY] else []
        facets[PUBLISHED] = count_years(columns[0] if columns else (), total)
    items = _load(session, page, plan)
    sampled = min(total, FACET_SAMPLE) if query.with_facets else 0
    return SearchResult(items, total, facets, not complete, next_cursor, order, sampled)

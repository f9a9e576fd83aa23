"""What a search asks for (SearchQuery) and its resolution into SQL-ready parts (Plan).

Resolution looks up the libraries a query names: "my library" for similarity, the one
whose numbers ±N % become ranges, the one whose Toolkit priorities become a filter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from node.models import ToolkitResult
from node.search import schema
from node.search.facets import bucket_tokens, facet_token
from node.search.similarity import (
    DIMENSIONS,
    LIBRARY_COLUMNS,
    LibraryRef,
    Profile,
    SearchError,
    find_library,
)
from node.search.sql import RANGE_COLUMNS, Condition, Filter
from node.search.text import parse_query

Order = Literal["default", "relevance", "newest", "similarity"]


@dataclass(frozen=True)
class Range:
    """An inclusive numeric range; either end may be open."""

    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise SearchError(f"range {self.min}–{self.max} is empty")

    def intersect(self, other: Range | None) -> Range:
        """The range both allow (an empty one raises SearchError)."""
        if other is None:
            return self
        lows = [v for v in (self.min, other.min) if v is not None]
        highs = [v for v in (self.max, other.max) if v is not None]
        return Range(max(lows) if lows else None, min(highs) if highs else None)


@dataclass(frozen=True)
class Around:
    """Within ±percent of a library's *current* numbers, for the given dimensions
    ("population", "area", "fte"); a dimension the library has no number for is skipped."""

    library: LibraryRef
    percent: float
    dimensions: tuple[str, ...] = DIMENSIONS


@dataclass(frozen=True)
class SearchQuery:
    """What to find; every filter is optional and all combine with AND.

    Within one multi-valued filter (e.g. two fields of action) any term matches (OR).
    Size ranges apply to the snapshot at publication unless ``numbers="current"``.
    """

    text: str = ""
    kinds: tuple[str, ...] = ()
    fields_of_action: tuple[str, ...] = ()
    target_groups: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    cost_bands: tuple[str, ...] = ()
    efforts: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    federal_states: tuple[str, ...] = ()
    org_kinds: tuple[str, ...] = ()
    published_from: date | datetime | None = None
    published_to: date | datetime | None = None
    population: Range | None = None
    area_m2: Range | None = None
    fte: Range | None = None
    numbers: Literal["snapshot", "current"] = "snapshot"
    around: Around | None = None
    toolkit: LibraryRef | None = None
    toolkit_match: Literal["any", "all"] = "any"
    origin: Literal["all", "local", "remote"] = "all"
    libraries: tuple[LibraryRef, ...] = ()
    my_library: LibraryRef | None = None
    order: Order = "default"
    limit: int = 20
    cursor: str | None = None
    with_facets: bool = True


@dataclass(frozen=True)
class Plan:
    """A resolved query: the filter, whose numbers to use, and "my library"'s profile."""

    filter: Filter
    numbers: str
    profile: Profile | None
    nothing: bool = False  # a filter that can match nothing (no Toolkit priorities)


_FACET_FILTERS: Mapping[str, str] = {
    "kinds": "kind",
    "fields_of_action": "fields_of_action",
    "target_groups": "target_groups",
    "formats": "formats",
    "cost_bands": "cost_band",
    "efforts": "effort",
    "statuses": "status",
    "federal_states": "federal_state",
    "org_kinds": "org_kind",
}


def _moment(value: date | datetime, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise SearchError("published dates need a timezone")
        return value + timedelta(milliseconds=1) if end else value
    start = datetime.combine(value, time(), tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def _ranges(session: Session, query: SearchQuery) -> dict[str, Range]:
    ranges = {
        dim: given
        for dim, given in zip(DIMENSIONS, (query.population, query.area_m2, query.fte), strict=True)
        if given is not None
    }
    if query.around is not None:
        percent = query.around.percent
        if not 0 <= percent <= 1000:
            raise SearchError("±percent must be between 0 and 1000", "around_percent")
        library = find_library(session, query.around.library)
        for dim in query.around.dimensions:
            if dim not in LIBRARY_COLUMNS:
                raise SearchError(f"unknown dimension {dim!r}", "around_dims")
            value = getattr(library, LIBRARY_COLUMNS[dim])
            if value is not None:
                span = Range(value * (1 - percent / 100), value * (1 + percent / 100))
                try:
                    ranges[dim] = span.intersect(ranges.get(dim))
                except SearchError:
                    raise SearchError(
                        f"±{percent:g} % of {library.handle}'s {dim} ({value:g}) lies outside "
                        f"the {dim} range asked for",
                        "around",
                    ) from None
    return ranges


def _toolkit_groups(session: Session, query: SearchQuery) -> tuple[tuple[str, ...], ...] | None:
    """Facet token groups for "matches our Toolkit priorities"; None: can match nothing."""
    library = find_library(session, query.toolkit)  # type: ignore[arg-type]
    result = session.get(ToolkitResult, library.id)
    fields = [
        facet_token("fields_of_action", t) for t in (result.priority_fields if result else ())
    ]
    groups = [
        facet_token("target_groups", t) for t in (result.priority_target_groups if result else ())
    ]
    if query.toolkit_match == "all":
        chosen = tuple(tuple(g) for g in (fields, groups) if g)
        return chosen or None
    return (tuple(fields + groups),) if fields or groups else None


def resolve(session: Session, query: SearchQuery) -> Plan:
    """Turn a query into a Plan, looking up the libraries it names."""
    groups = [
        tuple(dict.fromkeys(facet_token(dim, t) for t in getattr(query, name)))
        for name, dim in _FACET_FILTERS.items()
        if getattr(query, name)
    ]
    nothing = False
    if query.toolkit is not None:
        toolkit = _toolkit_groups(session, query)
        nothing = toolkit is None
        groups.extend(toolkit or ())
    conditions: list[Condition] = []
    for dim, span in _ranges(session, query).items():
        # Bucket tokens narrow the hits inside the full-text engine; the comparison below
        # stays exact.
        buckets = bucket_tokens(query.numbers, dim, span.min, span.max)
        if buckets:
            groups.append(buckets)
        column = RANGE_COLUMNS[(query.numbers, dim)]
        low, high = span.min, span.max
        if dim == "population":
            # Whole numbers against an INTEGER column: PostgreSQL would otherwise cast the
            # column to numeric and lose its statistics (and the plan).
            low = None if low is None else math.ceil(low)
            high = None if high is None else math.floor(high)
        if low is not None:
            conditions.append(Condition(column, ">=", low))
        if high is not None:
            conditions.append(Condition(column, "<=", high))
    if query.published_from is not None:
        start = _moment(query.published_from, end=False)
        conditions.append(Condition("sort_key", ">=", schema.key_floor(start)))
    if query.published_to is not None:
        end = _moment(query.published_to, end=True)
        conditions.append(Condition("sort_key", "<", schema.key_floor(end)))
    if query.origin != "all":
        conditions.append(Condition("is_local", "==", query.origin == "local"))
    if query.libraries:
        ids = tuple(find_library(session, ref).id for ref in query.libraries)
        conditions.append(Condition("library_id", "in", ids))
    profile = None
    if query.my_library is not None:
        profile = Profile.of(find_library(session, query.my_library))
    return Plan(
        Filter(parse_query(query.text), tuple(groups), tuple(conditions)),
        query.numbers,
        profile,
        nothing,
    )

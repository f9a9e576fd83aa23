"""SQL for a resolved filter, per database: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

Both engines match the same token text with the same expression tree, and relevance is
computed by the same SQL on both, so hits, counts and orders are identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from typing import cast as typed

from sqlalchemy import (
    Float,
    FromClause,
    Select,
    String,
    Table,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
)
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from node.models import MeasureSearch, MeasureText
from node.search import schema
from node.search.facets import LIST_DIMENSIONS, SCALAR_DIMENSIONS, SIZE_BANDS
from node.search.similarity import MISSING_PENALTY, Profile
from node.search.text import TextQuery

_S = MeasureSearch.__table__.c
_TEXT = typed(Table, MeasureText.__table__)
_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")
# Log coordinate columns per numbers basis and dimension.
_LOG_COLUMNS = {
    ("snapshot", "population"): _S.snap_ln_population,
    ("snapshot", "area"): _S.snap_ln_area,
    ("snapshot", "fte"): _S.snap_ln_fte,
    ("current", "population"): _S.cur_ln_population,
    ("current", "area"): _S.cur_ln_area,
    ("current", "fte"): _S.cur_ln_fte,
}

# measure_search's size column per numbers basis and dimension (range filters, size bands).
RANGE_COLUMNS = {
    ("snapshot", "population"): "snap_population",
    ("snapshot", "area"): "snap_area_m2",
    ("snapshot", "fte"): "snap_fte",
    ("current", "population"): "cur_population",
    ("current", "area"): "cur_area_m2",
    ("current", "fte"): "cur_fte",
}


def _band(column: ColumnElement[Any], dimension: str) -> ColumnElement[Any]:
    """The number of the size band (``facets.SIZE_BANDS``) a value falls in; NULL stays."""
    bounds = SIZE_BANDS[dimension]
    whens = [(column < bound, index) for index, bound in enumerate(bounds)]
    return case((column.is_(None), null()), *whens, else_=len(bounds))


ConditionOp = Literal[">=", "<=", "<", "==", "in"]


@dataclass(frozen=True)
class Condition:
    """A plain column condition ``measure_search.<column> <op> value`` ("in": a tuple)."""

    column: str
    op: ConditionOp
    value: Any


@dataclass(frozen=True)
class FilterShape:
    """What a filter's SQL looks like without its values: statements are built once per
    shape with bound parameters (``Filter.parameters``) and reused."""

    fulltext: bool = False
    terms: int = 0
    conditions: tuple[tuple[str, ConditionOp], ...] = ()


@dataclass(frozen=True)
class Filter:
    """A resolved query: text, facet token groups (AND of ORs), plain column conditions."""

    text: TextQuery
    facet_groups: tuple[tuple[str, ...], ...] = ()
    conditions: tuple[Condition, ...] = field(default=())

    @property
    def fulltext(self) -> bool:
        """Whether the full-text engine takes part (words or facet filters)."""
        return bool(self.text) or bool(self.facet_groups)

    @property
    def shape(self) -> FilterShape:
        """The filter without its values."""
        return FilterShape(
            self.fulltext,
            len(self.text.terms),
            tuple((c.column, c.op) for c in self.conditions),
        )

    def parameters(self, dialect: str) -> dict[str, Any]:
        """The values of the bound parameters of ``Source`` statements for this filter."""
        params: dict[str, Any] = {
            f"c{i}": list(c.value) if c.op == "in" else c.value
            for i, c in enumerate(self.conditions)
        }
        if self.fulltext:
            params["match"] = self.fts5() if dialect == "sqlite" else self.tsquery()
        params.update((f"like{i}", p) for i, p in enumerate(self.text.like_patterns()))
        return params

    def fts5(self) -> str:
        """The FTS5 MATCH expression: words in the text columns, tokens in facet_terms."""
        parts = [f"{schema.TEXT_COLUMNS} : ({self.text.fts5()})"] if self.text else []
        parts.extend(f"{schema.FACET_COLUMN} : ({' OR '.join(g)})" for g in self.facet_groups)
        return " AND ".join(parts)

    def tsquery(self) -> str:
        """The same tree as a tsquery.

        No weight restrictions (words → A-C, facets → D) although FTS5 has column filters:
        GIN stores no weights, so they would force a recheck of every candidate's tsvector.
        Words and facet tokens cannot collide (``text.parse_query`` drops facet-like input).
        """
        parts = [self.text.tsquery()] if self.text else []
        parts.extend("(" + " | ".join(f"'{t}'" for t in g) + ")" for g in self.facet_groups)
        return " & ".join(parts)


def _condition(index: int, column: str, op: ConditionOp) -> ColumnElement[bool]:
    value: BindParameter[Any] = bindparam(f"c{index}", expanding=op == "in")
    target = _S[column]
    if op == ">=":
        return target >= value
    if op == "<=":
        return target <= value
    if op == "<":
        return target < value
    if op == "==":
        return target == value
    return target.in_(value)


@dataclass(frozen=True)
class Source:
    """FROM clause and key/facet/relevance columns of one filter shape's hits on one
    database; values are bound parameters (``Filter.parameters``)."""

    dialect: str
    filter: FilterShape
    with_facets: bool = False
    numbers: str = "snapshot"  # whose size bands the facet columns hold

    @property
    def key(self) -> ColumnElement[int]:
        """The sort key; on SQLite the FTS5 rowid, so FTS5 itself delivers date order."""
        if self.dialect == "sqlite" and self.filter.fulltext:
            return schema.fts_table.c.rowid
        return _S.sort_key

    @property
    def _text(self) -> Table:
        """measure_text as this source joins it (PostgreSQL: with its tsvector column)."""
        if self.dialect != "sqlite" and self.filter.fulltext:
            return schema.pg_text_table
        return _TEXT

    def facet_columns(self) -> list[ColumnElement[Any]]:
        """A hit's facet values in ``facets.COUNTED`` order (the list facets need
        ``with_facets``): measure_search's scalar columns, measure_text's list JSON,
        is_local, library_id and the number of each size band (computed here: small
        integers are cheap to fetch and count)."""
        return [
            *(_S[name] for name in SCALAR_DIMENSIONS),
            *(self._text.c[name] for name in LIST_DIMENSIONS),
            _S.is_local,
            _S.library_id,
            *(_band(_S[RANGE_COLUMNS[(self.numbers, dim)]], dim) for dim in SIZE_BANDS),
        ]

    def from_clause(self) -> FromClause:
        """measure_search joined with what the filter and columns need."""
        base: FromClause = MeasureSearch.__table__
        if self.filter.fulltext and self.dialect == "sqlite":
            base = schema.fts_table.join(base, _S.sort_key == schema.fts_table.c.rowid)
        # PostgreSQL matches on measure_text's tsvector; relevance and facets read its terms.
        if (
            (self.filter.fulltext and self.dialect != "sqlite")
            or self.with_facets
            or self.filter.terms
        ):
            base = base.join(self._text, self._text.c.sort_key == _S.sort_key)
        return base

    def where(self) -> list[ColumnElement[bool]]:
        """Match condition (if any) plus the column conditions."""
        conditions = [_condition(i, *spec) for i, spec in enumerate(self.filter.conditions)]
        match = bindparam("match", type_=Text)
        if self.filter.fulltext and self.dialect == "sqlite":
            conditions.append(schema.fts_table.c[schema.FTS_TABLE].match(match))
        elif self.filter.fulltext:
            query = func.to_tsquery(_SIMPLE, match)
            conditions.append(schema.pg_text_table.c.document.bool_op("@@")(query))
        return conditions

    def select(self, *columns: ColumnElement[Any]) -> Select[*tuple[Any, ...]]:
        """SELECT columns FROM the hits."""
        return select(*columns).select_from(self.from_clause()).where(*self.where())

    def relevance(self) -> ColumnElement[float]:
        """Relevance in (0, 1]: per query term 10 points in the title, 4 in summary or
        tags, else 1 (it matched, so it is in the body), divided by 10 per term.

        Plain string tests on the stored token text, so both databases compute the very
        same score (bm25 and ts_rank differ, and bm25 costs most of a query at 1,000,000
        measures); ties go to the newest.
        """
        title = literal(" ") + self._text.c.title_terms + literal(" ")
        summary = literal(" ") + self._text.c.summary_terms + literal(" ")
        total: ColumnElement[Any] = literal(0)
        for i in range(self.filter.terms):
            pattern = bindparam(f"like{i}", type_=Text)
            points = case((title.like(pattern), 10), (summary.like(pattern), 4), else_=1)
            total = total + points
        return cast(cast(total, Float) / (10.0 * self.filter.terms), Float)


def recency(key: ColumnElement[int]) -> ColumnElement[float]:
    """1 for today, 0.5 after a year, 1/3 after two: how fresh a hit is ("now" is bound,
    see ``profile_parameters``)."""
    now = bindparam("now", type_=Float)
    days = (now - cast(key, Float)) / float(schema.KEY_SHIFT * schema.MS_PER_DAY)
    return literal(1.0) / (literal(1.0) + days / 365.0)


def distance2(dimensions: tuple[str, ...], numbers: str) -> ColumnElement[float]:
    """Squared log distance of each hit's library numbers to a profile's (bound as
    "mine_<dimension>") over the dimensions it knows (SQL, both DBs)."""
    total: ColumnElement[float] = literal(0.0)
    for dim in dimensions:
        diff = _LOG_COLUMNS[(numbers, dim)] - bindparam(f"mine_{dim}", type_=Float)
        total = total + func.coalesce(diff * diff, MISSING_PENALTY)
    return total


def same_state(known: bool) -> ColumnElement[int]:
    """1 when a hit's library is in the profile's federal state (bound as "state"; a
    tie-breaker), else 0; ``known``: the profile has a state."""
    if not known:
        return literal(0)
    return case((_S.federal_state == bindparam("state", type_=String), 1), else_=0)


def profile_parameters(profile: Profile | None, now_key: int) -> dict[str, Any]:
    """The values of ``distance2``, ``same_state`` and ``recency``'s bound parameters."""
    params: dict[str, Any] = {"now": float(now_key)}
    if profile is not None:
        params.update((f"mine_{dim}", profile.logs[dim]) for dim in profile.known)
        params["state"] = profile.federal_state
    return params

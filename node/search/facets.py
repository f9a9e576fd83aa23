"""Facet dimensions, their index tokens, and facet counting over a set of hits.

A measure's facets (kind, fields of action, …) are stored as opaque tokens next to its
words, so the full-text engine filters by them (fast doclist / GIN intersection). Counting
reads plain values instead: measure_search's scalar columns and measure_text's list-facet
JSON (see ``count_facets``).
"""

from __future__ import annotations

import heapq
import json
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from node.search.schema import KEY_SHIFT, key_floor
from node.search.similarity import profile_log

# API name → short code inside the tokens (kept short: every measure carries ~12 tokens).
DIMENSIONS: Mapping[str, str] = {
    "kind": "kind",
    "fields_of_action": "field",
    "target_groups": "group",
    "formats": "format",
    "cost_band": "cost",
    "effort": "effort",
    "status": "status",
    "federal_state": "state",
    "org_kind": "org",
}
LIST_DIMENSIONS = ("fields_of_action", "target_groups", "formats")
SCALAR_DIMENSIONS = ("kind", "cost_band", "effort", "status", "federal_state", "org_kind")
# The size bands shown as facets of the population, area and FTE filters: the class
# boundaries of the BIX (15, 30, 50, 100 thousand inhabitants) and of Saxony-Anhalt's
# statistics (5, 10, 15, 25, 35 thousand), doublings for area (m²) and staff (FTE). A band
# holds its lower boundary, not its upper one; the last is open.
SIZE_BANDS: Mapping[str, tuple[int, ...]] = {
    "population": (5_000, 10_000, 15_000, 25_000, 30_000, 35_000, 50_000, 100_000),
    "area": (100, 200, 400, 800, 1_600),
    "fte": (1, 2, 4, 8, 16),
}
# Facets of the other filters: whose measures, which library, the size bands (counted
# from the band number each hit's row carries), and the year of publication.
ORIGIN, LIBRARY, PUBLISHED = "origin", "library", "published"
OTHER_DIMENSIONS = (ORIGIN, LIBRARY, *SIZE_BANDS, PUBLISHED)
FACET_NAMES = (*DIMENSIONS, *OTHER_DIMENSIONS)  # every facet of a search result, in order
# At most this many libraries in the library facet, the most frequent (as a search
# engine's terms facet shows ten by default).
MAX_LIBRARIES = 10
_PREFIX = "zz"  # + hex: alphanumeric for FTS5 and PostgreSQL alike, never a stemmed word


# Size buckets: one token per number and basis, each bucket a factor of 1.25 wide on the
# same log scale as similarity. A range filter ORs the buckets it spans, so the full-text
# engine narrows the hits before the exact comparison on measure_search.
BUCKET_WIDTH = math.log(1.25)
BUCKET_CODES: Mapping[tuple[str, str], str] = {
    ("snapshot", "population"): "sp",
    ("snapshot", "area"): "sa",
    ("snapshot", "fte"): "sf",
    ("current", "population"): "cp",
    ("current", "area"): "ca",
    ("current", "fte"): "cf",
}
# Wider ranges (e.g. open-ended ones) are left to the exact comparison alone.
MAX_BUCKETS = 12


@dataclass(frozen=True)
class FacetCount:
    """How many results carry this term (estimated when the facets are approximate);
    ``label``: a library's name (the API labels the other terms)."""

    term: str
    count: int
    label: str | None = None


@lru_cache(maxsize=4096)
def facet_token(dimension: str, term: str) -> str:
    """The index token of one (API dimension name, term)."""
    return _token(DIMENSIONS[dimension], term)


def _token(code: str, term: str) -> str:
    return _PREFIX + f"{code}:{term}".encode().hex()


def bucket_token(numbers: str, dimension: str, value: float | None) -> str | None:
    """The size-bucket token of one number ("snapshot"/"current", "population"/…)."""
    log = profile_log(dimension, value)
    if log is None:
        return None
    return _token(BUCKET_CODES[(numbers, dimension)], str(math.floor(log / BUCKET_WIDTH)))


def bucket_tokens(
    numbers: str, dimension: str, low: float | None, high: float | None
) -> tuple[str, ...] | None:
    """Tokens of every bucket a range touches, or None when that is too many to help."""
    low_log = profile_log(dimension, max(low or 0.0, 0.0))
    high_log = profile_log(dimension, high)
    if low_log is None or high_log is None:
        return None
    # A hair of slack so rounding in log() can never drop a boundary value's bucket.
    first = math.floor(low_log / BUCKET_WIDTH - 1e-9)
    last = math.floor(high_log / BUCKET_WIDTH + 1e-9)
    if last - first + 1 > MAX_BUCKETS:
        return None
    code = BUCKET_CODES[(numbers, dimension)]
    return tuple(_token(code, str(b)) for b in range(first, last + 1))


def facet_dimension(token: str) -> str | None:
    """The short dimension (or bucket) code of a token (None for foreign tokens)."""
    try:
        code, _, _ = bytes.fromhex(token[len(_PREFIX) :]).decode().partition(":")
    except ValueError:
        return None
    return code


def list_facet_text(terms: Iterable[object]) -> str:
    """A list facet as measure_text stores it for counting: its distinct terms, sorted, as
    compact JSON (sorted so equal sets are equal strings)."""
    return json.dumps(sorted({str(t) for t in terms}), separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=8192)
def stored_list(text: str) -> tuple[str, ...]:
    """The terms of a list stored as JSON text (list facets here, a measure's lists in
    search hits); JSON null is empty. Cached: the same few lists recur in every search."""
    value = json.loads(text)
    return tuple(value) if value else ()


# The facet values a search selects per hit, in this order (node.search.sql.Source):
# measure_search's scalar columns, measure_text's list-facet JSON, then whether the hit is
# local, its library's id and its size band numbers.
COUNTED = (*SCALAR_DIMENSIONS, *LIST_DIMENSIONS, ORIGIN, LIBRARY, *SIZE_BANDS)


def band_term(dimension: str, band: int) -> str:
    """The term of a size band: "5000-10000", or "100000-" for the open last one."""
    bounds = (0, *SIZE_BANDS[dimension])
    low = bounds[band]
    return f"{low}-{bounds[band + 1]}" if band + 1 < len(bounds) else f"{low}-"


def key_year(key: int) -> int:
    """The year (UTC) a sort key was published in."""
    return datetime.fromtimestamp(key // KEY_SHIFT / 1000, UTC).year


@lru_cache(maxsize=256)
def _year_key(year: int) -> int:
    return key_floor(datetime(year, 1, 1, tzinfo=UTC))


def count_years(keys: Sequence[int], total: int) -> list[FacetCount]:
    """Hits per year of publication, newest year first, from the sort keys of the newest
    hits (descending). Where those are not all ``total`` hits, the sample's oldest year may
    go on beyond it: that year and all before it become one term "-YEAR" (total minus the
    newer years), so every count stays exact."""
    if not keys:
        return []
    ascending = keys[::-1]
    newest, oldest = key_year(keys[0]), key_year(keys[-1])
    counts = []
    for year in range(newest, oldest - 1, -1):
        low = bisect_left(ascending, _year_key(year))
        high = bisect_left(ascending, _year_key(year + 1))
        counts.append(FacetCount(str(year), high - low))
    if len(keys) < total:
        counts.pop()
        counts.append(FacetCount(f"-{oldest}", total - sum(c.count for c in counts)))
    return [c for c in counts if c.count]


def count_facets(
    columns: Sequence[Sequence[str | None]], scale: float = 1.0
) -> dict[str, list[FacetCount]]:
    """Count terms per dimension over the hits' facet values, most frequent first: one
    column of values per dimension, in ``COUNTED`` order (none at all: no hits). ``scale``
    (total / sample size) turns counts over a sample into estimates.

    Each column is counted whole first (C speed; a result set has few distinct values per
    dimension), then a list facet's distinct values are split into their terms.
    """
    columns = columns or [()] * len(COUNTED)
    counted: dict[str, Counter[str]] = {}
    for name, values in zip(COUNTED, columns, strict=True):
        counts: Counter[Any] = Counter(values)
        counts.pop(None, None)
        if name in LIST_DIMENSIONS:
            terms: Counter[str] = Counter()
            for value, number in counts.items():
                for term in stored_list(value or "[]"):
                    terms[term] += number
            counted[name] = terms
        elif name == ORIGIN:  # 1/0 on SQLite, booleans on PostgreSQL
            counted[name] = Counter({"local" if v else "remote": n for v, n in counts.items()})
        elif name == LIBRARY:  # library ids, named by the search
            top = heapq.nsmallest(MAX_LIBRARIES, counts.items(), key=lambda vn: (-vn[1], vn[0]))
            counted[name] = Counter({str(v): n for v, n in top})
        elif name in SIZE_BANDS:
            counted[name] = Counter({band_term(name, int(v)): n for v, n in counts.items()})
        else:
            counted[name] = counts
    return {
        name: sorted(
            (FacetCount(term, round(number * scale)) for term, number in counted[name].items()),
            key=_ORDERS.get(name, _by_term),
        )
        for name in FACET_NAMES
        if name in counted
    }


def _by_term(item: FacetCount) -> tuple[int, int | str]:
    return -item.count, item.term


def _by_library_id(item: FacetCount) -> tuple[int, int | str]:
    return -item.count, int(item.term)


def _by_band(item: FacetCount) -> tuple[int, int | str]:
    return 0, int(item.term.partition("-")[0])


# Libraries most frequent first (ties by id); size bands smallest first, as a scale reads.
_ORDERS: dict[str, Callable[[FacetCount], tuple[int, int | str]]] = {
    LIBRARY: _by_library_id,
    **dict.fromkeys(SIZE_BANDS, _by_band),
}

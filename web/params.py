"""Query parameters of the search API: one table drives parsing, errors and the OpenAPI doc.

Keeping the parser and the documentation in one table is what keeps
``/api/v1/openapi.json`` true to the implementation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from multidict import MultiMapping

from node.search import Around, Range, SearchQuery
from node.vocab import Vocabularies


class ParameterError(ValueError):
    """A query parameter is invalid; ``name`` says which."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def _terms(vocab: Vocabularies, scheme: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string", "enum": list(vocab[scheme].ids)}}


# name → (vocabulary scheme, SearchQuery field, description)
TERM_FILTERS: dict[str, tuple[str, str, str]] = {
    "kind": ("measure-kinds", "kinds", "Kind of contribution"),
    "field": ("fields-of-action", "fields_of_action", "Field of action (Handlungsfeld)"),
    "target_group": ("target-groups", "target_groups", "Target group"),
    "format": ("formats", "formats", "Format"),
    "cost_band": ("cost-bands", "cost_bands", "Cost band"),
    "effort": ("effort", "efforts", "Staff effort"),
    "status": ("statuses", "statuses", "Status"),
    "state": ("federal-states", "federal_states", "Federal state of the publishing library"),
    "org_kind": ("organisation-kinds", "org_kinds", "Kind of publishing organisation"),
}
RANGES = {"population": "population", "area": "area_m2", "fte": "fte"}
MAX_NUMBER = 1e9  # far above any library, far below what floats and SQL integers mishandle
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2200, 12, 31)
LIBRARY_REF = {
    "type": "string",
    "pattern": r"^@?[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?(@[A-Za-z0-9.:\[\]-]+)?$",
}


def parameters(vocab: Vocabularies) -> list[dict[str, Any]]:
    """OpenAPI parameter objects of GET /api/v1/measures (and its feeds)."""
    params: list[dict[str, Any]] = [
        _p(
            "q",
            {"type": "string", "maxLength": 500},
            'Full text (German stemming, umlaut folding, "phrases", prefix*)',
        ),
    ]
    for name, (scheme, _field, description) in TERM_FILTERS.items():
        params.append(_p(name, _terms(vocab, scheme), f"{description}; repeat for OR", True))
    params += [
        _p(
            "published_from",
            {"type": "string", "format": "date"},
            f"Published on or after ({FIRST_DAY} to {LAST_DAY})",
        ),
        _p(
            "published_to",
            {"type": "string", "format": "date"},
            f"Published on or before ({FIRST_DAY} to {LAST_DAY})",
        ),
    ]
    for name in RANGES:
        for end in ("min", "max"):
            params.append(_p(f"{name}_{end}", {"type": "number", "minimum": 0}, f"{end} {name}"))
    params += [
        _p("numbers", {"type": "string", "enum": ["snapshot", "current"]},
           "Compare with the numbers at publication (default) or today's"),
        _p("around", LIBRARY_REF, "Within ±around_percent of this library's numbers"),
        _p("around_percent", {"type": "number", "minimum": 0, "maximum": 1000},
           "Percentage for 'around' (default 50)"),
        _p("around_dims", {"type": "array", "items": {"type": "string",
           "enum": ["population", "area", "fte"]}}, "Dimensions for 'around'", True),
        _p("toolkit", LIBRARY_REF, "Only measures matching this library's Toolkit priorities"),
        _p("toolkit_match", {"type": "string", "enum": ["any", "all"]}, "any (default) or all"),
        _p("origin", {"type": "string", "enum": ["all", "local", "remote"]}, "Whose measures"),
        _p("library", {"type": "array", "items": LIBRARY_REF}, "Only these libraries", True),
        _p("me", LIBRARY_REF, "My library: rank by similarity to it"),
        _p("order", {"type": "string", "enum": ["default", "relevance", "newest", "similarity"]},
           "Ranking"),
        _p("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size (default 20)"),
        _p("cursor", {"type": "string", "maxLength": 200}, "next_cursor of the previous page"),
        _p("facets", {"type": "boolean"}, "Include facet counts (default true)"),
    ]  # fmt: skip
    return params


def _p(
    name: str, schema: dict[str, Any], description: str, repeated: bool = False
) -> dict[str, Any]:
    param: dict[str, Any] = {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }
    if repeated:
        param["style"] = "form"
        param["explode"] = True
    return param


def _one(query: MultiMapping[str], name: str) -> str | None:
    values = query.getall(name, [])
    if len(values) > 1:
        raise ParameterError(name, "may be given only once")
    if values and values[0] == "" and name != "q":
        raise ParameterError(name, "is empty (leave it out instead)")
    return values[0] if values else None


def _number(query: MultiMapping[str], name: str) -> float | None:
    raw = _one(query, name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ParameterError(name, "must be a number") from None
    if value != value or not 0 <= value <= MAX_NUMBER:
        raise ParameterError(name, f"must be a number from 0 to {MAX_NUMBER:g}")
    return value


def _choice(query: MultiMapping[str], name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = _one(query, name)
    if raw is None:
        return default
    if raw not in allowed:
        raise ParameterError(name, f"must be one of {', '.join(allowed)}")
    return raw


def _date(query: MultiMapping[str], name: str) -> date | None:
    raw = _one(query, name)
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ParameterError(name, "must be a date like 2025-03-31") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ParameterError(name, f"must lie between {FIRST_DAY} and {LAST_DAY}")
    return day


def _library(query: MultiMapping[str], name: str) -> str | None:
    raw = _one(query, name)
    if raw is None:
        return None
    return _check_ref(name, raw)


def _check_ref(name: str, raw: str) -> str:
    if len(raw) > 320 or not re.fullmatch(LIBRARY_REF["pattern"], raw):
        raise ParameterError(name, "must be a library handle, or handle@domain for a peer")
    return raw


def parse_search(query: MultiMapping[str], vocab: Vocabularies) -> SearchQuery:
    """A SearchQuery from request parameters; ParameterError names the first bad one."""
    known = {p["name"] for p in parameters(vocab)}
    for name in query:
        if name not in known and name != "lang":
            raise ParameterError(name, "is not a parameter of this endpoint")
    values: dict[str, Any] = {}
    text = _one(query, "q") or ""
    if len(text) > 500:
        raise ParameterError("q", "is longer than 500 characters")
    values["text"] = text
    for name, (scheme, field, _description) in TERM_FILTERS.items():
        terms: list[str] = []
        for raw in query.getall(name, []):
            for part in raw.split(","):
                if not part.strip():
                    raise ParameterError(name, "is empty (leave it out instead)")
                term = vocab[scheme].resolve(part)
                if term is None:
                    raise ParameterError(name, f"unknown value {part!r}")
                terms.append(term)
        values[field] = tuple(dict.fromkeys(terms))
    start, end = _date(query, "published_from"), _date(query, "published_to")
    if start and end and start > end:
        raise ParameterError("published_from", "is later than published_to")
    values["published_from"], values["published_to"] = start, end
    for name, field in RANGES.items():
        low, high = _number(query, f"{name}_min"), _number(query, f"{name}_max")
        if low is not None and high is not None and low > high:
            raise ParameterError(f"{name}_min", f"is larger than {name}_max")
        if low is not None or high is not None:
            values[field] = Range(low, high)
    values["numbers"] = _choice(query, "numbers", ("snapshot", "current"), "snapshot")
    around = _library(query, "around")
    percent = _number(query, "around_percent")
    if percent is not None and percent > 1000:
        raise ParameterError("around_percent", "must be at most 1000")
    dims = tuple(part for raw in query.getall("around_dims", []) for part in raw.split(",")) or (
        "population",
        "area",
        "fte",
    )
    for dim in dims:
        if dim not in ("population", "area", "fte"):
            raise ParameterError("around_dims", f"unknown dimension {dim!r}")
    if around is not None:
        values["around"] = Around(around, 50.0 if percent is None else percent, dims)
    values["toolkit"] = _library(query, "toolkit")
    values["toolkit_match"] = _choice(query, "toolkit_match", ("any", "all"), "any")
    values["origin"] = _choice(query, "origin", ("all", "local", "remote"), "all")
    values["libraries"] = tuple(_check_ref("library", v) for v in query.getall("library", []))
    values["my_library"] = _library(query, "me")
    values["order"] = _choice(
        query, "order", ("default", "relevance", "newest", "similarity"), "default"
    )
    raw_limit = _one(query, "limit")
    if raw_limit is not None:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
            raise ParameterError("limit", "must be a whole number from 1 to 100")
        values["limit"] = int(raw_limit)
    cursor = _one(query, "cursor")
    if cursor is not None and len(cursor) > 200:
        raise ParameterError("cursor", "is not a cursor this node gave out")
    values["cursor"] = cursor
    values["with_facets"] = _choice(query, "facets", ("true", "false"), "true") == "true"
    return SearchQuery(**values)


def as_mapping(query: MultiMapping[str]) -> Mapping[str, list[str]]:
    """The parameters as name → values (for building links to other pages)."""
    return {name: query.getall(name) for name in dict.fromkeys(query)}

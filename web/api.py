"""The JSON API: search the measures this node knows (its own and its peers'), and libraries."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import orjson
from aiohttp import web

from node import keys
from node.libraries import list_known_libraries
from node.models import Library
from node.search import (
    CursorError,
    SearchError,
    SearchQuery,
    SearchResult,
    UnknownLibrary,
    similar_libraries,
)
from node.search.facets import LIBRARY, ORIGIN, PUBLISHED, FacetCount
from node.search.hits import HitLibrary, HitMeasure
from node.settings import Settings
from node.vocab import Vocabularies
from web.i18n import translator
from web.params import (
    FIRST_DAY,
    LAST_DAY,
    LIBRARY_REF,
    TERM_FILTERS,
    ParameterError,
    parse_search,
)

LIBRARY_REF_RE = re.compile(LIBRARY_REF["pattern"])
FACET_SCHEMES = {
    "kind": "measure-kinds",
    "fields_of_action": "fields-of-action",
    "target_groups": "target-groups",
    "formats": "formats",
    "cost_band": "cost-bands",
    "effort": "effort",
    "status": "statuses",
    "federal_state": "federal-states",
    "org_kind": "organisation-kinds",
}


def json_body(data: Any) -> web.Response:
    """A JSON response, encoded by orjson (a search result of 20 items with facets: about
    a tenth of the time ``json.dumps`` takes), as UTF-8."""
    return web.Response(body=orjson.dumps(data), content_type="application/json", charset="utf-8")


def bad_parameter(name: str, message: str) -> web.HTTPBadRequest:
    """A 400 that names the parameter."""
    body = {"error": "invalid parameter", "parameter": name, "message": message}
    return web.HTTPBadRequest(text=json.dumps(body), content_type="application/json")


def unknown_library(request: web.Request, message: str) -> web.HTTPNotFound:
    """A 404 naming the parameter that refers to a library this node does not know."""
    name = next(
        (n for n in ("me", "around", "toolkit", "library", "like") if n in request.query), "me"
    )
    body = {"error": "unknown library", "parameter": name, "message": message}
    return web.HTTPNotFound(text=json.dumps(body), content_type="application/json")


def library_json(settings: Settings, library: Library | HitLibrary) -> dict[str, Any]:
    """A library as the API shows it."""
    return {
        "id": library.ap_id or f"{settings.public_url}/libraries/{library.handle}",
        "handle": library.handle,
        "account": f"{library.handle}@{library.domain or settings.domain}",
        "domain": library.domain or settings.domain,
        "name": library.name,
        "local": library.is_local,
        "kind": library.kind,
        "town": library.town,
        "federal_state": library.federal_state,
        "population": library.population,
        "public_area_m2": library.public_area_m2,
        "staff_fte": library.staff_fte,
    }


def measure_json(settings: Settings, measure: HitMeasure, library: HitLibrary) -> dict[str, Any]:
    """A measure as the API shows it, with where it comes from (for ``json_body``: orjson
    writes the datetimes as ``isoformat()`` does, in C)."""
    local_url = f"{settings.public_url}/measures/{measure.uid}"
    return {
        "id": measure.uid,
        "ap_id": measure.ap_id or local_url,
        "url": measure.url or local_url,
        "local": measure.is_local,
        "kind": measure.kind,
        "title": measure.title,
        "summary": measure.summary,
        "fields_of_action": measure.fields_of_action,
        "target_groups": measure.target_groups,
        "formats": measure.formats,
        "partners": measure.partners,
        "tags": measure.tags,
        "effort": measure.effort,
        "cost_band": measure.cost_band,
        "status": measure.status,
        "licence": measure.licence,
        "published": measure.published_at,
        "updated": measure.updated_at,
        "snapshot": {
            "population": measure.snapshot_population,
            "public_area_m2": measure.snapshot_area_m2,
            "staff_fte": measure.snapshot_fte,
        },
        "library": library_json(settings, library),
    }


# The search parameter that selects a term of each term facet (derived from the parameter
# table, whose vocabulary scheme names the facet dimension).
_DIMENSION_OF_SCHEME = {scheme: dimension for dimension, scheme in FACET_SCHEMES.items()}
TERM_PARAMETERS = {
    _DIMENSION_OF_SCHEME[scheme]: name for name, (scheme, _field, _text) in TERM_FILTERS.items()
} | {ORIGIN: "origin", LIBRARY: "library"}
# Size facet → (the prefix of its _min/_max parameters, its SearchQuery field).
SIZE_PARAMETERS = {
    "population": ("population", "population"),
    "area": ("area", "area_m2"),
    "fte": ("fte", "fte"),
}


def facet_params(dimension: str, term: str, query: SearchQuery) -> dict[str, str] | None:
    """The search parameters that select a facet term: they replace that dimension's
    parameters in the current ``query``; None where the API cannot express the term (a
    year before 1900, a peer's account name the library parameter does not take).

    A size band or a year keeps what the query already asks of its dimension, so the
    parameters select exactly the hits counted. A band "5000-10000" holds 5,000 but not
    10,000, and its (inclusive) maximum is the largest number below the next band: 9999 for
    population, whole numbers, the largest float below the boundary for area and FTE
    ("1.9999999999999998" for "1-2"). A term of a dimension the query already filters was
    counted among that filter's hits, which one parameter cannot express: its parameters
    select the term alone."""
    if dimension == LIBRARY and not LIBRARY_REF_RE.fullmatch(term):
        return None
    if dimension in TERM_PARAMETERS:
        return {TERM_PARAMETERS[dimension]: term}
    low_text, _, high_text = term.partition("-")
    if dimension == PUBLISHED:  # "2025", or "-2023": that year and all before
        year = int(high_text or low_text)
        return _year_params(date(year, 1, 1) if low_text else None, date(year, 12, 31), query)
    name, field = SIZE_PARAMETERS[dimension]
    span = getattr(query, field)
    low, high = float(low_text), float(high_text) if high_text else None
    if high is not None:  # the largest number below the next band: a whole one, or a float
        high = high - 1 if dimension == "population" else math.nextafter(high, -math.inf)
    if span is not None and span.min is not None:
        low = max(low, span.min)
    if span is not None and span.max is not None:
        high = span.max if high is None else min(high, span.max)
    params = {f"{name}_min": _plain(low)}
    return params | ({f"{name}_max": _plain(high)} if high is not None else {})


def _year_params(first: date | None, last: date, query: SearchQuery) -> dict[str, str] | None:
    """published_from/_to for [first, last] (first None: open) within the query's dates."""
    given_first, given_last = query.published_from, query.published_to
    if given_first is not None and (first is None or given_first > first):
        first = given_first
    if given_last is not None and given_last < last:
        last = given_last
    if not FIRST_DAY <= last <= LAST_DAY or (first is not None and first < FIRST_DAY):
        return None  # outside the dates the API takes (a peer may send any year)
    params = {"published_to": last.isoformat()}
    return params | ({"published_from": first.isoformat()} if first is not None else {})


def _plain(value: float) -> str:
    """A number as a parameter: 5000, 2.5 (never 1e+06)."""
    return str(int(value)) if value == int(value) else repr(value)


def facet_label(dimension: str, count: FacetCount, lang: str, _: Callable[..., str]) -> str:
    """How a term of a facet without a vocabulary is shown: a library's name, whose
    measures, a number range or a year (``_``: the language's translator)."""
    if count.label is not None:
        return count.label
    if dimension == ORIGIN:
        return _("This node") if count.term == "local" else _("Other nodes")
    low, _dash, high = count.term.partition("-")
    if dimension == PUBLISHED:
        return low or _("{year} and before", year=high)
    if not high:
        return _("{low} and more", low=_number(int(low), lang))
    return f"{_number(int(low), lang)}–{_number(int(high), lang)}"


def _number(value: int, lang: str) -> str:
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "de" else text


def result_json(
    settings: Settings, vocab: Vocabularies, result: SearchResult, lang: str, query: SearchQuery
) -> dict[str, Any]:
    """The search result document for ``query``: items, total, facets and the next cursor."""
    gettext = translator(lang)
    items = []
    for hit in result.items:
        item = measure_json(settings, hit.measure, hit.library)
        item["title_html"] = hit.title_html
        item["snippet"] = hit.snippet
        item["score"] = hit.score
        item["distance"] = hit.distance
        items.append(item)
    facets: dict[str, list[dict[str, Any]]] = {}
    for dimension, counts in result.facets.items():
        if dimension in FACET_SCHEMES:  # most terms: vocabulary label, one parameter
            scheme, name = vocab[FACET_SCHEMES[dimension]], TERM_PARAMETERS[dimension]
            facets[dimension] = [
                {"term": fc.term, "label": scheme.label(fc.term, lang), "count": fc.count,
                 "params": {name: fc.term}}
                for fc in counts
            ]  # fmt: skip
            continue
        facets[dimension] = [
            {
                "term": fc.term,
                "label": facet_label(dimension, fc, lang, gettext),
                "count": fc.count,
                "params": facet_params(dimension, fc.term, query),
            }
            for fc in counts
        ]
    return {
        "items": items,
        "total": result.total,
        "facets": facets,
        "facets_approximate": result.facets_approximate,
        "order": result.order,
        "next_cursor": result.next_cursor,
    }


def parsed_query(request: web.Request) -> SearchQuery:
    """The request's filters as a query; bad input becomes a 400."""
    try:
        return parse_search(request.query, request.app[keys.VOCAB])
    except ParameterError as exc:
        raise bad_parameter(exc.name, exc.message) from None


async def searched(request: web.Request, query: SearchQuery) -> SearchResult:
    """Run a parsed query; what the query names wrongly becomes a 400 or 404 for the client."""
    try:
        return await request.app[keys.SEARCHER].search(query)
    except CursorError as exc:
        raise bad_parameter("cursor", str(exc)) from None
    except UnknownLibrary as exc:
        raise unknown_library(request, str(exc)) from None
    except SearchError as exc:
        raise bad_parameter(exc.parameter or "query", str(exc)) from None


def _lang(request: web.Request) -> str:
    lang = request.query.get("lang", "de")
    return lang if lang in ("de", "en") else "de"


async def measures(request: web.Request) -> web.Response:
    """GET /api/v1/measures: filtered, ranked, faceted and paged."""
    query = parsed_query(request)
    result = await searched(request, query)
    settings, vocab = request.app[keys.SETTINGS], request.app[keys.VOCAB]
    return json_body(result_json(settings, vocab, result, _lang(request), query))


async def libraries(request: web.Request) -> web.Response:
    """GET /api/v1/libraries: known libraries, or those most like ``like``."""
    settings = request.app[keys.SETTINGS]
    allowed = {"like", "limit", "kind", "lang"}
    for name in request.query:
        if name not in allowed:
            raise bad_parameter(name, "is not a parameter of this endpoint")
    raw_limit = request.query.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise bad_parameter("limit", "must be a whole number from 1 to 100")
    kinds = [k.strip() for raw in request.query.getall("kind", []) for k in raw.split(",")]
    for kind in kinds:
        if not kind:
            raise bad_parameter("kind", "is empty (leave it out instead)")
        if kind not in request.app[keys.VOCAB]["organisation-kinds"]:
            raise bad_parameter("kind", f"unknown value {kind!r}")
    like = request.query.get("like")
    if like is not None and not LIBRARY_REF_RE.fullmatch(like):
        raise bad_parameter("like", "must be a library handle, or handle@domain for a peer")
    if len(request.query.getall("like", [])) > 1 or len(request.query.getall("limit", [])) > 1:
        raise bad_parameter("like" if len(request.query.getall("like", [])) > 1 else "limit",
                            "may be given only once")  # fmt: skip
    async with request.app[keys.SESSIONMAKER]() as session:
        if like:
            try:
                ranked = await similar_libraries(session, like, limit=int(raw_limit), kinds=kinds)
            except UnknownLibrary as exc:
                raise unknown_library(request, str(exc)) from None
            except SearchError as exc:
                raise bad_parameter("like", str(exc)) from None
            items = [
                library_json(settings, s.library)
                | {
                    "measure_count": s.measure_count,
                    "similarity": round(s.similarity, 4),
                    "same_state": s.same_state,
                }
                for s in ranked
            ]
        else:
            rows = await list_known_libraries(session, limit=int(raw_limit), kinds=kinds)
            items = [library_json(settings, lib) | {"measure_count": n} for lib, n in rows]
    return json_body({"items": items, "total": len(items)})

"""The OpenAPI 3 document of the JSON API, built from the same tables the handlers use."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node import keys
from node.vocab import Vocabularies
from web.params import LIBRARY_REF, parameters

NULLABLE_STRING = {"type": ["string", "null"]}
NULLABLE_NUMBER = {"type": ["number", "null"]}
STRINGS = {"type": "array", "items": {"type": "string"}}

LIBRARY = {
    "type": "object",
    "required": ["id", "handle", "account", "domain", "name", "local", "kind"],
    "properties": {
        "id": {"type": "string", "format": "uri"},
        "handle": {"type": "string"},
        "account": {"type": "string"},
        "domain": {"type": "string"},
        "name": {"type": "string"},
        "local": {"type": "boolean"},
        "kind": {"type": "string"},
        "town": {"type": "string"},
        "federal_state": NULLABLE_STRING,
        "population": {"type": ["integer", "null"]},
        "public_area_m2": NULLABLE_NUMBER,
        "staff_fte": NULLABLE_NUMBER,
        "measure_count": {"type": "integer"},
        "similarity": {"type": "number"},
        "same_state": {"type": "boolean"},
    },
}

MEASURE = {
    "type": "object",
    "required": ["id", "ap_id", "url", "local", "kind", "title", "published", "library"],
    "properties": {
        "id": {"type": "string"},
        "ap_id": {"type": "string", "format": "uri"},
        "url": {"type": "string"},
        "local": {"type": "boolean"},
        "kind": {"type": "string"},
        "title": {"type": "string"},
        "title_html": {"type": "string"},
        "summary": {"type": "string"},
        "snippet": {"type": "string"},
        "fields_of_action": STRINGS,
        "target_groups": STRINGS,
        "formats": STRINGS,
        "partners": STRINGS,
        "tags": STRINGS,
        "effort": NULLABLE_STRING,
        "cost_band": NULLABLE_STRING,
        "status": {"type": "string"},
        "licence": {"type": "string"},
        "published": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
        "score": NULLABLE_NUMBER,
        "distance": NULLABLE_NUMBER,
        "snapshot": {
            "type": "object",
            "properties": {
                "population": {"type": ["integer", "null"]},
                "public_area_m2": NULLABLE_NUMBER,
                "staff_fte": NULLABLE_NUMBER,
            },
        },
        "library": {"$ref": "#/components/schemas/Library"},
    },
}

FACET = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["term", "label", "count", "params"],
        "properties": {
            "term": {"type": "string"},
            "label": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "params": {
                "type": ["object", "null"],
                "additionalProperties": {"type": "string"},
                "description": "The search parameters that select this term: they replace "
                "that dimension's parameters in the current search. Size bands and years keep "
                "the limits the search already sets for their dimension, so they select "
                "exactly the hits counted; a band holds its lower boundary, and its maximum is "
                "the largest number below the next band. A year term '-YEAR' (facets above "
                "2,000 hits) stands for that year and before. null: the API cannot select "
                "the term (a year before 1900, a peer's account name the library parameter "
                "does not take).",
            },
        },
    },
}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string"},
        "parameter": {"type": "string"},
        "message": {"type": "string"},
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document(vocab: Vocabularies, server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    bad = _json(
        {"$ref": "#/components/schemas/Error"},
        "An invalid parameter (it is named). A request line longer than 8190 bytes is refused "
        "by the HTTP server itself, before any parameter is read, in plain text.",
    )
    bad["content"]["text/plain"] = {"schema": {"type": "string"}}
    unknown = _json(
        {"$ref": "#/components/schemas/Error"}, "A library named by a parameter is not known here"
    )
    search_params = parameters(vocab)
    result = {
        "type": "object",
        "required": ["items", "total", "facets", "facets_approximate", "order", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Measure"}},
            "total": {"type": "integer", "minimum": 0},
            "facets": {
                "type": "object",
                "additionalProperties": FACET,
                "description": "Counts per filter dimension for the whole result: the nine "
                "vocabulary dimensions, origin (local/remote), library (the 10 most frequent), "
                "population, area and fte (size bands of the numbers the search compares) and "
                "published (years, newest first); the others most frequent first. Above "
                "2,000 hits they are estimated from the newest 2,000 (facets_approximate), "
                "except the years, which stay exact.",
            },
            "facets_approximate": {"type": "boolean"},
            "order": {"type": "string"},
            "next_cursor": NULLABLE_STRING,
        },
    }
    feed = {"description": "The same search", "content": {}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "bibnetz node API",
            "version": "1",
            "description": "Measures and libraries known to this bibnetz node.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/api/v1/measures": {
                "get": {
                    "operationId": "searchMeasures",
                    "summary": "Search measures (own and received)",
                    "parameters": search_params,
                    "responses": {
                        "200": _json(result, "A page of results with facet counts"),
                        "400": bad,
                        "404": unknown,
                    },
                }
            },
            "/api/v1/measures.atom": {
                "get": {
                    "operationId": "searchMeasuresAtom",
                    "summary": "The same search as an Atom feed (newest first)",
                    "parameters": search_params,
                    "responses": {
                        "200": feed | {"content": {"application/atom+xml": {}}},
                        "400": bad,
                        "404": unknown,
                    },
                }
            },
            "/api/v1/measures.csv": {
                "get": {
                    "operationId": "searchMeasuresCsv",
                    "summary": "The same search as CSV (up to 5,000 rows)",
                    "parameters": search_params,
                    "responses": {
                        "200": feed | {"content": {"text/csv": {}}},
                        "400": bad,
                        "404": unknown,
                    },
                }
            },
            "/api/v1/libraries": {
                "get": {
                    "operationId": "listLibraries",
                    "summary": "Known libraries, or those most like a given one",
                    "parameters": [
                        {
                            "name": "like",
                            "in": "query",
                            "schema": LIBRARY_REF,
                            "description": "Order by similarity to this library",
                        },
                        {
                            "name": "kind",
                            "in": "query",
                            "style": "form",
                            "explode": True,
                            "schema": {
                                "type": "array",
                                "items": {
                                    "type": "string",
                                    "enum": list(vocab["organisation-kinds"].ids),
                                },
                            },
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["items", "total"],
                                "properties": {
                                    "items": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Library"},
                                    },
                                    "total": {"type": "integer"},
                                },
                            },
                            "Libraries with their measure counts",
                        ),
                        "400": bad,
                        "404": unknown,
                    },
                }
            },
        },
        "components": {"schemas": {"Measure": MEASURE, "Library": LIBRARY, "Error": ERROR}},
    }


async def openapi(request: web.Request) -> web.Response:
    """GET /api/v1/openapi.json."""
    settings = request.app[keys.SETTINGS]
    return web.json_response(document(request.app[keys.VOCAB], settings.public_url))

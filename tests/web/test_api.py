"""The search API over HTTP: filters, facets, errors that name the parameter, feeds, CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application

from node import keys, remote
from node.app import create_app
from node.db import unit_of_work
from node.interchange import import_measures, read_rows, validate_rows
from node.libraries import create_library, set_toolkit_results
from node.search import Around, Range, SearchQuery, search
from node.settings import Settings
from tests.typing import ClientFactory
from web.api import facet_params

EXAMPLES = Path(__file__).parents[2] / "examples" / "measures.json"


@pytest.fixture
async def client(aiohttp_client: ClientFactory, settings: Settings) -> TestClient[Any, Application]:
    app = create_app(settings)
    client = await aiohttp_client(app)
    vocab = app[keys.VOCAB]
    async with unit_of_work(app[keys.SESSIONMAKER]) as session:
        small = await create_library(
            session, vocab, "heideloh",
            {"name": "Heideloh", "population": 6000, "staff_fte": 1.5, "public_area_m2": 250,
             "federal_state": "DE-NI"},
        )  # fmt: skip
        await create_library(
            session, vocab, "grossstadt",
            {"name": "Großstadt", "population": 600000, "staff_fte": 120, "public_area_m2": 9000},
        )  # fmt: skip
        await create_library(
            session, vocab, "nachbar",
            {"name": "Nachbarort", "population": 7000, "staff_fte": 2, "public_area_m2": 300,
             "federal_state": "DE-NI"},
        )  # fmt: skip
        await set_toolkit_results(
            session,
            vocab,
            small,
            {"priority_fields": ["reading-promotion"], "visibility": "public"},
        )
        clean = validate_rows(read_rows(EXAMPLES, "json"), vocab)
        await import_measures(session, small, clean)
    return client


async def get_json(client: TestClient[Any, Application], url: str, status: int = 200) -> Any:
    response = await client.get(url)
    assert response.status == status, await response.text()
    return await response.json()


async def test_search_returns_items_total_facets_and_cursor(
    client: TestClient[Any, Application],
) -> None:
    data = await get_json(client, "/api/v1/measures?limit=5")
    assert data["total"] == 22
    assert len(data["items"]) == 5
    assert data["next_cursor"]
    kinds = {f["term"]: f["count"] for f in data["facets"]["kind"]}
    assert sum(kinds.values()) == 22
    assert all(f["label"] for f in data["facets"]["fields_of_action"])
    second = await get_json(client, f"/api/v1/measures?limit=5&cursor={data['next_cursor']}")
    assert not {i["id"] for i in second["items"]} & {i["id"] for i in data["items"]}


async def test_filters_combine(client: TestClient[Any, Application]) -> None:
    everything = await get_json(client, "/api/v1/measures?limit=100")
    wanted_kinds = ("measure", "event-concept")
    expected = [
        i
        for i in everything["items"]
        if "reading-promotion" in i["fields_of_action"] and i["kind"] in wanted_kinds
    ]
    data = await get_json(
        client, "/api/v1/measures?field=reading-promotion&kind=measure&kind=event-concept&limit=100"
    )
    assert {i["id"] for i in data["items"]} == {i["id"] for i in expected}
    assert data["total"] == len(expected)
    by_label = await get_json(client, "/api/v1/measures?field=Leseförderung&limit=100")
    assert by_label["total"] >= data["total"]


async def test_size_filters_and_libraries_like_mine(client: TestClient[Any, Application]) -> None:
    small = await get_json(client, "/api/v1/measures?population_max=10000")
    assert small["total"] == 22
    big = await get_json(client, "/api/v1/measures?population_min=100000")
    assert big["total"] == 0
    near = await get_json(client, "/api/v1/measures?around=nachbar&around_percent=30")
    assert near["total"] == 22
    like = await get_json(client, "/api/v1/libraries?like=heideloh")
    assert [lib["handle"] for lib in like["items"]] == ["nachbar", "grossstadt"]
    assert like["items"][0]["same_state"] is True
    everyone = await get_json(client, "/api/v1/libraries")
    counts = {lib["handle"]: lib["measure_count"] for lib in everyone["items"]}
    assert counts == {"heideloh": 22, "grossstadt": 0, "nachbar": 0}


async def test_toolkit_and_text(client: TestClient[Any, Application]) -> None:
    toolkit = await get_json(client, "/api/v1/measures?toolkit=heideloh&limit=100")
    assert toolkit["total"] > 0
    assert all("reading-promotion" in i["fields_of_action"] for i in toolkit["items"])
    everything = await get_json(client, "/api/v1/measures?limit=100")
    word = everything["items"][0]["title"].split()[0]
    text = await get_json(client, f"/api/v1/measures?q={word}")
    assert text["total"] >= 1


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("kind=rakete", "kind"),
        ("field=Raketenbau", "field"),
        ("published_from=gestern", "published_from"),
        ("population_min=5000&population_max=10", "population_min"),
        ("population_min=-1", "population_min"),
        ("published_from=2025-02-01&published_to=2025-01-31", "published_from"),
        ("around=heideloh&around_percent=10&population_min=100000", "around"),
        ("around=heideloh&around_dims=area&area_max=10", "around"),
        ("numbers=yesterday", "numbers"),
        ("around=Bad Handle", "around"),
        ("cursor=xyz", "cursor"),
        ("colour=blue", "colour"),
        ("order=random", "order"),
    ],
)
async def test_invalid_parameters_are_named(
    client: TestClient[Any, Application], query: str, parameter: str
) -> None:
    data = await get_json(client, f"/api/v1/measures?{query}", status=400)
    assert data["parameter"] == parameter
    assert data["message"]


async def test_unknown_library_is_a_404_naming_the_parameter(
    client: TestClient[Any, Application],
) -> None:
    data = await get_json(client, "/api/v1/measures?me=niemand", status=404)
    assert data["parameter"] == "me"
    data = await get_json(client, "/api/v1/libraries?like=niemand@elsewhere.example", status=404)
    assert data["parameter"] == "like"
    for empty in ("kind=", "kind=library,"):  # found by schemathesis: was a silent 200
        data = await get_json(client, f"/api/v1/libraries?{empty}", status=400)
        assert data["parameter"] == "kind"


async def test_atom_feed_and_csv(client: TestClient[Any, Application]) -> None:
    response = await client.get("/api/v1/measures.atom?field=reading-promotion")
    assert response.status == 200
    assert response.content_type == "application/atom+xml"
    feed = ET.fromstring(await response.read())  # noqa: S314  (our own server's output)
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    filtered = await get_json(client, "/api/v1/measures?field=reading-promotion")
    assert len(entries) == filtered["total"]
    response = await client.get("/api/v1/measures.csv?field=reading-promotion")
    assert response.status == 200
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert len(rows) == filtered["total"]
    assert all("reading-promotion" in r["fields_of_action"] for r in rows)
    assert (await client.get("/api/v1/measures.csv?limit=0")).status == 400


async def test_openapi_documents_every_parameter_the_api_accepts(
    client: TestClient[Any, Application],
) -> None:
    doc = await get_json(client, "/api/v1/openapi.json")
    assert doc["openapi"].startswith("3.")
    params = doc["paths"]["/api/v1/measures"]["get"]["parameters"]
    names = {p["name"] for p in params}
    assert {"q", "field", "kind", "population_min", "around", "toolkit", "me", "cursor"} <= names
    for name in names:  # each documented parameter is accepted (not "is not a parameter")
        response = await client.get(f"/api/v1/measures?{name}=")
        body = await response.json()
        assert response.status == 200 or body.get("parameter") == name, (name, body)
    routes = {r.get_info().get("path") for r in client.app.router.routes()}
    assert set(doc["paths"]) <= routes


async def test_an_overlong_request_line_is_a_documented_400(
    client: TestClient[Any, Application],
) -> None:
    """The HTTP server refuses a request line beyond 8190 bytes before any handler runs,
    in plain text; the OpenAPI document says so (a fuzzer found the gap)."""
    response = await client.get("/api/v1/measures", params={"q": "ä" * 3000})
    assert response.status == 400
    assert response.content_type == "text/plain"
    doc = await get_json(client, "/api/v1/openapi.json")
    bad = doc["paths"]["/api/v1/measures"]["get"]["responses"]["400"]
    assert set(bad["content"]) == {"application/json", "text/plain"}


# Each API parameter and the SearchQuery field it must become, written out here (not taken
# from web.params, whose table is what this checks).
TERM_PARAMETERS = [
    ("kind", "kinds", "kind"),
    ("field", "fields_of_action", "fields_of_action"),
    ("target_group", "target_groups", "target_groups"),
    ("format", "formats", "formats"),
    ("cost_band", "cost_bands", "cost_band"),
    ("effort", "efforts", "effort"),
    ("status", "statuses", "status"),
    ("state", "federal_states", "federal_state"),
    ("org_kind", "org_kinds", "org_kind"),
]


async def _in_process(client: TestClient[Any, Application], query: SearchQuery) -> list[str]:
    async with client.app[keys.SESSIONMAKER]() as session:
        return [hit.measure.uid for hit in (await search(session, query)).items]


async def _over_http(client: TestClient[Any, Application], params: str) -> list[str]:
    data = await get_json(client, f"/api/v1/measures?limit=100&{params}")
    assert data["total"] == len(data["items"])
    return [item["id"] for item in data["items"]]


@pytest.mark.parametrize(("parameter", "field", "dimension"), TERM_PARAMETERS)
async def test_each_term_parameter_filters_what_its_field_filters(
    client: TestClient[Any, Application], parameter: str, field: str, dimension: str
) -> None:
    async with client.app[keys.SESSIONMAKER]() as session:
        facets = (await search(session, SearchQuery(limit=100))).facets[dimension]
    # the rarest term: a filter that keeps some measures and drops others, where one exists
    term = min(facets, key=lambda f: f.count).term
    expected = await _in_process(client, SearchQuery(limit=100, **{field: (term,)}))  # type: ignore[arg-type]
    assert expected
    assert await _over_http(client, f"{parameter}={term}") == expected


@pytest.mark.parametrize(
    ("params", "query"),
    [
        ("population_min=5000&population_max=6500", SearchQuery(population=Range(5000, 6500))),
        ("area_min=100&area_max=260", SearchQuery(area_m2=Range(100, 260))),
        ("fte_min=1&fte_max=2", SearchQuery(fte=Range(1, 2))),
        ("fte_min=1.6", SearchQuery(fte=Range(1.6, None))),
        ("numbers=current&population_max=6500",
         SearchQuery(numbers="current", population=Range(None, 6500))),
        ("origin=local", SearchQuery(origin="local")),
        ("origin=remote", SearchQuery(origin="remote")),
        ("library=heideloh", SearchQuery(libraries=("heideloh",))),
        ("library=nachbar", SearchQuery(libraries=("nachbar",))),
        ("me=nachbar&q=Kita", SearchQuery(my_library="nachbar", text="Kita")),
        ("order=newest&q=Kita", SearchQuery(order="newest", text="Kita")),
        ("order=similarity&me=grossstadt",
         SearchQuery(order="similarity", my_library="grossstadt")),
        ("around=nachbar&around_percent=20&around_dims=population",
         SearchQuery(around=Around("nachbar", 20, ("population",)))),
        ("toolkit=heideloh&toolkit_match=all",
         SearchQuery(toolkit="heideloh", toolkit_match="all")),
    ],
)  # fmt: skip
async def test_each_parameter_becomes_its_query_field(
    client: TestClient[Any, Application], params: str, query: SearchQuery
) -> None:
    expected = await _in_process(client, replace(query, limit=100))
    assert await _over_http(client, params) == expected


async def test_published_dates_include_their_own_day(client: TestClient[Any, Application]) -> None:
    everything = await get_json(client, "/api/v1/measures?limit=100")
    oldest = everything["items"][-1]
    day = oldest["published"][:10]
    assert oldest["id"] in await _over_http(client, f"published_from={day}&published_to={day}")
    later = await _over_http(client, f"published_from={date.fromisoformat(day) + timedelta(1)}")
    assert oldest["id"] not in later
    expected = await _in_process(
        client, SearchQuery(limit=100, published_from=date.fromisoformat(day))
    )
    assert await _over_http(client, f"published_from={day}") == expected


# Which parameters each facet dimension's terms replace in the current search.
FACET_PARAMETERS = {
    "kind": ("kind",), "fields_of_action": ("field",), "target_groups": ("target_group",),
    "formats": ("format",), "cost_band": ("cost_band",), "effort": ("effort",),
    "status": ("status",), "federal_state": ("state",), "org_kind": ("org_kind",),
    "origin": ("origin",), "library": ("library",),
    "population": ("population_min", "population_max"), "area": ("area_min", "area_max"),
    "fte": ("fte_min", "fte_max"), "published": ("published_from", "published_to"),
}  # fmt: skip


async def _add_peer_library(client: TestClient[Any, Application]) -> None:
    """A library received from a peer whose server spells its account with capitals."""
    async with unit_of_work(client.app[keys.SESSIONMAKER]) as session:
        library = await remote.upsert_library(
            session, ap_id="https://peer.example/users/Alice", handle="Alice",
            domain="peer.example", url=None,
            fields={"name": "Bücherei Alice", "population": 7200, "public_area_m2": 410.0,
                    "staff_fte": 2.0},
        )  # fmt: skip
        for n in range(3):
            await remote.upsert_measure(session, library, f"https://peer.example/m/{n}", {
                "title": f"Kita-Besuch {n}", "kind": "measure", "summary": "Mit der Kita.",
                "published_at": datetime(2024, 5, n + 1, tzinfo=UTC), "snapshot_population":
                7200, "snapshot_area_m2": 410.0, "snapshot_fte": 2.0,
            })  # fmt: skip


@pytest.mark.parametrize(
    "base",
    [
        {"q": "Kita"},
        # dimensions the search already narrows: bands and years keep those limits
        {"q": "Kita", "population_min": "5500", "area_max": "500", "published_from": "2024-05-02"},
    ],
)
async def test_every_facet_term_comes_with_the_parameters_that_select_it(
    client: TestClient[Any, Application], base: dict[str, str]
) -> None:
    await _add_peer_library(client)
    data = await get_json(client, "/api/v1/measures?limit=1&" + urlencode(base))
    assert not data["facets_approximate"]
    assert set(data["facets"]) == set(FACET_PARAMETERS)
    checked = 0
    for dimension, terms in data["facets"].items():
        for facet in terms:
            replaced = FACET_PARAMETERS[dimension]
            params = {k: v for k, v in base.items() if k not in replaced} | facet["params"]
            narrowed = await get_json(client, "/api/v1/measures?limit=1&" + urlencode(params))
            assert narrowed["total"] == facet["count"], (dimension, facet)
            assert facet["label"]
            checked += 1
    assert checked >= 20
    libraries = {f["term"]: f for f in data["facets"]["library"]}
    assert libraries["Alice@peer.example"]["label"] == "Bücherei Alice"
    assert libraries["heideloh"]["params"] == {"library": "heideloh"}
    assert {f["label"] for f in data["facets"]["origin"]} == {"Dieser Knoten", "Andere Knoten"}


async def test_facet_labels_and_bands(client: TestClient[Any, Application]) -> None:
    await _add_peer_library(client)
    german = await get_json(client, "/api/v1/measures?limit=1&population_min=5500")
    band = german["facets"]["population"][0]
    assert band | {"count": 0} == {
        "term": "5000-10000", "label": "5.000–10.000", "count": 0,
        "params": {"population_min": "5500", "population_max": "9999"},
    }  # fmt: skip
    assert {f["term"] for f in german["facets"]["area"]} == {"200-400", "400-800"}
    english = await get_json(client, "/api/v1/measures?limit=1&lang=en")
    assert english["facets"]["population"][0]["label"] == "5,000–10,000"
    assert {f["label"] for f in english["facets"]["origin"]} == {"This node", "Other nodes"}
    years = english["facets"]["published"]
    assert "2024" in {f["term"] for f in years}
    assert next(f for f in years if f["term"] == "2024")["params"] == {
        "published_from": "2024-01-01", "published_to": "2024-12-31"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("dimension", "term", "query", "params"),
    [
        ("published", "2025", SearchQuery(), {"published_from": "2025-01-01",
                                              "published_to": "2025-12-31"}),
        ("published", "-2023", SearchQuery(), {"published_to": "2023-12-31"}),
        ("published", "-2023", SearchQuery(published_from=date(2020, 3, 1)),
         {"published_from": "2020-03-01", "published_to": "2023-12-31"}),
        ("published", "1850", SearchQuery(), None),  # a peer's date the API cannot take
        ("published", "-1850", SearchQuery(), None),
        ("population", "100000-", SearchQuery(population=Range(None, 150000)),
         {"population_min": "100000", "population_max": "150000"}),
        ("population", "5000-10000", SearchQuery(), {"population_min": "5000",
                                                     "population_max": "9999"}),
        ("fte", "1-2", SearchQuery(fte=Range(1.5, None)), {"fte_min": "1.5",
                                                           "fte_max": "1.9999999999999998"}),
        ("library", "Alice@peer.example", SearchQuery(), {"library": "Alice@peer.example"}),
        ("library", "alice@[::1]:8080", SearchQuery(), {"library": "alice@[::1]:8080"}),
        ("library", "Alice Smith@peer.example", SearchQuery(), None),
    ],
)  # fmt: skip
def test_facet_params_of_edge_terms(
    dimension: str, term: str, query: SearchQuery, params: dict[str, str] | None
) -> None:
    assert facet_params(dimension, term, query) == params

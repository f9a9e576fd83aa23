"""Libraries like mine: similarity ranking, ±N %, Toolkit priorities, current numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node import remote
from node.db import unit_of_work
from node.libraries import set_toolkit_results, update_library
from node.search import (
    Around,
    Range,
    SearchError,
    SearchQuery,
    UnknownLibrary,
    query,
    resolve_library,
    search,
    similar_libraries,
)
from node.search.similarity import Profile
from node.vocab import Vocabularies
from tests.node.search_db import Record, all_uids, records

Sessions = async_sessionmaker[AsyncSession]


def _snapshot_logs(rec: Record) -> Mapping[str, float | None]:
    return Profile.of(rec.library).logs  # the corpus snapshots equal the profiles


async def test_similarity_order_with_state_tie_breaker(corpus: Sessions) -> None:
    async with corpus() as session:
        recs = await records(session)
        mine = Profile.of(await resolve_library(session, "heideloh"))
        found = await all_uids(session, SearchQuery(my_library="heideloh", order="similarity"))
        page = await search(session, SearchQuery(my_library="heideloh", order="similarity"))

    def rank(rec: Record) -> tuple[float, bool, float]:
        same = rec.library.federal_state == mine.federal_state
        return (mine.distance2(_snapshot_logs(rec)), not same, -rec.published.timestamp())

    assert found == [r.uid for r in sorted(recs, key=rank)]
    handles = [hit.library.handle for hit in page.items]
    assert handles[0] == "heideloh"
    assert page.items[0].distance == 0
    # Brückfeld and its twin in Baden-Württemberg are equally far: same state wins.
    order = [r.library.handle for r in sorted(recs, key=rank)]
    assert order.index("zwilling") > max(i for i, h in enumerate(order) if h == "brückfeld")


async def test_default_order_depends_on_the_query(corpus: Sessions) -> None:
    async with corpus() as session:
        plain = await search(session, SearchQuery())
        text = await search(session, SearchQuery(text="Ehrenamt"))
        mine = await search(session, SearchQuery(my_library="heideloh"))
        both = await search(session, SearchQuery(text="Ehrenamt", my_library=1))
        fallback = await search(session, SearchQuery(order="similarity"))
    assert (plain.order, text.order, mine.order, both.order) == (
        "newest", "relevance", "combined", "combined")  # fmt: skip
    assert fallback.order == "newest"
    for result in (mine, both):
        scores = [hit.score or 0.0 for hit in result.items]
        assert scores == sorted(scores, reverse=True)
        assert all(hit.distance is not None for hit in result.items)
    # Blending keeps the nearest libraries on top of the plain newest list.
    near = {"heideloh", "brückfeld", "moorbach", "zwilling", "wiesental"}
    assert sum(h.library.handle in near for h in mine.items) > sum(
        h.library.handle in near for h in plain.items
    )


async def test_combined_score_blends_similarity_with_relevance_or_recency(
    corpus: Sessions,
) -> None:
    """Written out here: 0.6 × similarity (1 / (1 + d²)) + 0.4 × relevance with words, or
    0.4 × recency (1 / (1 + age in years)) without."""
    async with corpus() as session:
        by_relevance = await search(session, SearchQuery(text="Ehrenamt", limit=100))
        relevance = {hit.measure.uid: hit.score for hit in by_relevance.items}
        with_text = await search(session, SearchQuery(text="Ehrenamt", my_library="heideloh"))
        without = await search(session, SearchQuery(my_library="heideloh"))
    assert with_text.order == without.order == "combined"
    assert with_text.items
    assert without.items
    for hit in with_text.items:
        assert hit.distance is not None
        expected = 0.6 / (1 + hit.distance**2) + 0.4 * (relevance[hit.measure.uid] or 0.0)
        assert hit.score == pytest.approx(expected, abs=1e-6)
    now = datetime.now(UTC)
    for hit in without.items:
        assert hit.distance is not None
        years = (now - hit.measure.published_at).total_seconds() / 86_400 / 365
        expected = 0.6 / (1 + hit.distance**2) + 0.4 / (1 + years)
        assert hit.score == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("percent", "dimensions"), [(10, ("population", "area", "fte")), (10, ("population",))]
)
async def test_within_percent_of_my_library(
    corpus: Sessions, percent: int, dimensions: tuple[str, ...]
) -> None:
    async with corpus() as session:
        recs = await records(session)
        query = SearchQuery(around=Around("heideloh", percent, dimensions))
        found = set(await all_uids(session, query))
        narrowed_query = replace(query, population=Range(None, 6050))
        narrowed = set(await all_uids(session, narrowed_query))
    base = {"population": 6000, "area": 250.0, "fte": 1.5}

    def inside(rec: Record) -> bool:
        return all(
            rec.snapshot[d] is not None
            and base[d] * (1 - percent / 100) <= rec.snapshot[d] <= base[d] * (1 + percent / 100)
            for d in dimensions
        )

    assert found == {r.uid for r in recs if inside(r)}
    handles = {r.library.handle for r in recs if r.uid in found}
    assert {"heideloh", "brückfeld", "moorbach"} <= handles
    assert "seeburg" not in handles
    assert ("wiesental" in handles) == (dimensions == ("population",))  # its area is +12 %
    assert narrowed == {r.uid for r in recs if inside(r) and r.snapshot["population"] <= 6050}


async def test_toolkit_priorities_filter(corpus: Sessions, vocab: Vocabularies) -> None:
    async with unit_of_work(corpus) as session:
        library = await resolve_library(session, "heideloh")
        await set_toolkit_results(session, vocab, library, {
            "priority_fields": ["reading-promotion", "third-place"],
            "priority_target_groups": ["children-0-5"],
        })  # fmt: skip
    async with corpus() as session:
        recs = await records(session)
        any_match = set(await all_uids(session, SearchQuery(toolkit="heideloh")))
        all_match = set(
            await all_uids(session, SearchQuery(toolkit="heideloh", toolkit_match="all"))
        )
        none = await search(session, SearchQuery(toolkit="wiesental"))

    def fields(r: Record) -> bool:
        return bool({"reading-promotion", "third-place"} & set(r.values["fields_of_action"]))

    def groups(r: Record) -> bool:
        return "children-0-5" in r.values["target_groups"]

    assert any_match == {r.uid for r in recs if fields(r) or groups(r)}
    assert all_match == {r.uid for r in recs if fields(r) and groups(r)}
    assert all_match < any_match
    assert none.total == 0
    assert none.items == []


async def test_current_numbers_follow_profile_changes(
    corpus: Sessions, vocab: Vocabularies
) -> None:
    async with unit_of_work(corpus) as session:
        heideloh = await resolve_library(session, "heideloh")
        await update_library(session, vocab, heideloh, {"population": "20000"})
        ostheim = await resolve_library(session, "ostheim@other.example")
        await remote.upsert_library(
            session, ap_id=ostheim.ap_id or "", handle="ostheim", domain="other.example",
            url=None, fields={"federal_state": "DE-BY", "population": 51000},
        )  # fmt: skip
    async with corpus() as session:
        recs = await records(session)
        own = {r.uid for r in recs if r.library.handle == "heideloh"}
        east = {r.uid for r in recs if r.library.handle == "ostheim"}
        snapshot = set(await all_uids(session, SearchQuery(population=Range(5900, 6100))))
        current = set(await all_uids(session, SearchQuery(
            population=Range(19500, 20500), numbers="current")))  # fmt: skip
        moved = set(await all_uids(session, SearchQuery(federal_states=("DE-TH",))))
        bavaria = await search(session, SearchQuery(federal_states=("DE-BY",), limit=1))
        big = set(
            await all_uids(session, SearchQuery(population=Range(50000, None), numbers="current"))
        )
    assert own <= snapshot  # the snapshot at publication does not follow the profile
    assert own == current
    assert not east & moved
    assert east <= set(await _ids_in(corpus, ("DE-BY",)))
    assert {f.term: f.count for f in bavaria.facets["federal_state"]}["DE-BY"] == bavaria.total
    assert big == east


async def _ids_in(corpus: Sessions, states: tuple[str, ...]) -> list[str]:
    async with corpus() as session:
        return await all_uids(session, SearchQuery(federal_states=states))


async def test_libraries_like_mine(corpus: Sessions) -> None:
    async with corpus() as session:
        recs = await records(session)
        mine = await resolve_library(session, "heideloh")
        ranked = await similar_libraries(session, "heideloh", limit=50)
        with_kind = await similar_libraries(session, "heideloh", kinds=["fachstelle"])
    counts: dict[str, int] = {}
    libraries = {}
    for rec in recs:
        counts[rec.library.handle] = counts.get(rec.library.handle, 0) + 1
        libraries[rec.library.handle] = rec.library
    profile = Profile.of(mine)
    expected = sorted(
        (lib for handle, lib in libraries.items() if handle != "heideloh"),
        key=lambda lib: (
            profile.distance2(Profile.of(lib).logs),
            lib.federal_state != mine.federal_state,
            -counts[lib.handle],
        ),
    )
    assert [s.library.handle for s in ranked] == [lib.handle for lib in expected]
    assert ranked[0].library.handle == "brückfeld"
    assert ranked[1].library.handle == "zwilling"
    assert ranked[0].same_state
    assert not ranked[1].same_state
    assert all(s.measure_count == counts[s.library.handle] for s in ranked)
    assert [s.similarity for s in ranked] == sorted((s.similarity for s in ranked), reverse=True)
    assert [s.library.handle for s in with_kind] == ["fachstelle-nord"]


@pytest.mark.parametrize(
    "given",
    [
        {"text": "Bücherei", "order": "relevance"},
        {"my_library": "heideloh", "order": "similarity"},
        {"my_library": "kleinau", "text": "lese*"},
        {"my_library": "seeburg"},
    ],
)
async def test_sorting_in_the_database_agrees_with_sorting_the_sample(
    corpus: Sessions, monkeypatch: pytest.MonkeyPatch, given: dict[str, object]
) -> None:
    # Small result sets are sorted in Python from the sample; large ones by the database.
    async with corpus() as session:
        in_python = await all_uids(session, SearchQuery(**given))  # type: ignore[arg-type]
        first = await search(session, SearchQuery(**given))  # type: ignore[arg-type]
        monkeypatch.setattr(query, "FACET_SAMPLE", 5)
        in_database = await all_uids(session, SearchQuery(**given))  # type: ignore[arg-type]
        again = await search(session, SearchQuery(**given))  # type: ignore[arg-type]
    assert in_python == in_database
    assert again.total == first.total == len(in_python)
    assert again.facets_approximate
    assert [h.score for h in first.items] == pytest.approx([h.score for h in again.items])


async def test_bad_input_is_a_search_error(corpus: Sessions) -> None:
    async with corpus() as session:
        with pytest.raises(UnknownLibrary):
            await search(session, SearchQuery(my_library="nobody"))
        with pytest.raises(UnknownLibrary):
            await search(session, SearchQuery(around=Around("lindenau@elsewhere.example", 10)))
        with pytest.raises(SearchError):
            await search(session, SearchQuery(population=Range(10, 5)))
        with pytest.raises(SearchError):
            await search(session, SearchQuery(limit=0))

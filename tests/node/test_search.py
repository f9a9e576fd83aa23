"""Search over the German corpus: full text, every filter, facet counts and paging.

Expectations are computed by brute force in Python over the same corpus, so both
databases must return exactly the same hits and counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.models import Measure
from node.search import CursorError, Range, SearchQuery, query, search
from node.search.text import TextQuery, parse_query
from tests.node.search_db import Record, all_uids, records

Sessions = async_sessionmaker[AsyncSession]


def _titles(recs: list[Record], uids: list[str]) -> set[str]:
    by_uid = {r.uid: r.title for r in recs}
    return {by_uid[u] for u in uids}


def _expected(recs: list[Record], text: str) -> set[str]:
    parsed = parse_query(text)
    return {r.uid for r in recs if r.text_match(parsed)}


async def _text_of(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(Measure.uid, Measure.title, Measure.summary, Measure.body))
    return {uid: f"{t} {s} {b}" for uid, t, s, b in rows}


@pytest.mark.parametrize(
    ("word", "finds", "absent"),
    [
        ("Sanierungen", "Sanierung der Bücherei im laufenden Betrieb", "Sanierungen"),
        ("Sanierung", "Energetische Sanierungen im Altbau planen", "Sanierung "),
        ("Veranstaltung", "Förderverein gründen", "Veranstaltung "),
        ("Veranstaltungen", "Veranstaltung planen mit wenig Personal", "Veranstaltungen"),
        ("Gebaude", "Neues Gebäude für die Gemeindebücherei", "Gebaude"),
        ("Gebäude", "Barrierefreier Zugang zum Gebaude", "Gebäude"),
        ("Strasse", "Büchereifest zum Jubiläum", "Strasse"),
        ("Straße", "Bücherflohmarkt an der Hauptstrasse", "Straße"),
    ],
)
async def test_stemming_and_folding_find_other_forms(
    corpus: Sessions, word: str, finds: str, absent: str
) -> None:
    async with corpus() as session:
        recs, raw = await records(session), await _text_of(session)
        found = await all_uids(session, SearchQuery(text=word))
    assert set(found) == _expected(recs, word)
    target = [r for r in recs if r.title == finds]
    assert target
    assert {r.uid for r in target} <= set(found)
    # The measure really spells it the other way: the match comes from stemming/folding.
    assert all(absent not in raw[r.uid] for r in target)


async def test_title_hit_ranks_above_body_hit(corpus: Sessions) -> None:
    async with corpus() as session:
        result = await search(session, SearchQuery(text="Podcast", order="relevance", limit=100))
    in_title = ["Podcast" in hit.measure.title for hit in result.items]
    assert any(in_title)  # some hits have the word in the title…
    assert not all(in_title)  # …and some only further down
    assert in_title == sorted(in_title, reverse=True)  # every title hit first
    scores = [hit.score or 0.0 for hit in result.items]
    assert scores == sorted(scores, reverse=True)
    assert 0 < scores[-1] < scores[0] == 1


@pytest.mark.parametrize("text", ["Bücherei Ehrenamtliche", '"Bibliothek der Dinge" lese*'])
async def test_relevance_order_matches_the_field_weights(corpus: Sessions, text: str) -> None:
    async with corpus() as session:
        recs = await records(session)
        found = await all_uids(session, SearchQuery(text=text, order="relevance"))
    terms = parse_query(text).terms

    def score(rec: Record) -> float:
        points = 0
        for term in terms:
            title, summary, _ = (bool(TextQuery((term,)).marks(f)) for f in rec.texts)
            points += 10 if title else 4 if summary else 1
        return points / (10 * len(terms))

    hits = [r for r in recs if r.uid in set(found)]
    expected = sorted(hits, key=lambda r: (-score(r), -r.published.timestamp()))
    assert found == [r.uid for r in expected]  # the same order on both databases


async def test_phrase_and_prefix_queries(corpus: Sessions) -> None:
    async with corpus() as session:
        recs = await records(session)
        phrase = await all_uids(session, SearchQuery(text='"Bibliothek der Dinge"'))
        words = await all_uids(session, SearchQuery(text="Bibliothek der Dinge"))
        prefix = await all_uids(session, SearchQuery(text="lese*"))
        mixed = await all_uids(session, SearchQuery(text='"Repair-Café" lese*'))
        # "…in der Kiste" ends a title, "Ein Makerspace…" starts its summary.
        across = await all_uids(session, SearchQuery(text='"Kiste Ein Makerspace"'))
    assert set(phrase) == _expected(recs, '"Bibliothek der Dinge"')
    assert set(phrase) < set(words) == _expected(recs, "Bibliothek der Dinge")
    assert set(prefix) == _expected(recs, "lese*")
    assert {"Lesesommer für Grundschulkinder", "Lesenacht in der Bücherei"} <= _titles(recs, prefix)
    assert set(mixed) == _expected(recs, '"Repair-Café" lese*')
    assert across == []  # phrases never run from one field into the next


async def test_hits_are_highlighted(corpus: Sessions) -> None:
    async with corpus() as session:
        result = await search(session, SearchQuery(text="Makerspace Roboter", limit=50))
    assert result.items
    for hit in result.items:
        assert "<mark>" in hit.snippet or "<mark>" in hit.title_html
        assert "<mark>Makerspace</mark>" in hit.title_html + hit.snippet


def _in(dimension: str, *terms: str) -> Callable[[Record], bool]:
    return lambda r: bool(set(r.values[dimension]) & set(terms))


def _between(name: str, low: float | None, high: float | None) -> Callable[[Record], bool]:
    def check(r: Record) -> bool:
        value = r.snapshot[name]
        return value is not None and (low is None or value >= low) and (
            high is None or value <= high)  # fmt: skip

    return check


FILTERS: list[tuple[dict[str, Any], Callable[[Record], bool]]] = [
    ({"kinds": ("idea", "solution")}, _in("kind", "idea", "solution")),
    ({"fields_of_action": ("sustainability",)}, _in("fields_of_action", "sustainability")),
    ({"target_groups": ("seniors-60", "migration")},
     _in("target_groups", "seniors-60", "migration")),
    ({"formats": ("space-equipment",)}, _in("formats", "space-equipment")),
    ({"cost_bands": ("0",)}, _in("cost_band", "0")),
    ({"efforts": ("XL",)}, _in("effort", "XL")),
    ({"statuses": ("planned",)}, _in("status", "planned")),
    ({"federal_states": ("DE-NI",)}, _in("federal_state", "DE-NI")),
    ({"org_kinds": ("fachstelle",)}, _in("org_kind", "fachstelle")),
    ({"origin": "remote"}, lambda r: not r.library.is_local),
    ({"origin": "local"}, lambda r: r.library.is_local),
    ({"libraries": ("heideloh", "lindenau@peer.example")},
     lambda r: r.library.handle in {"heideloh", "lindenau"}),
    ({"published_from": date(2023, 6, 1), "published_to": date(2023, 12, 31)},
     lambda r: datetime(2023, 6, 1, tzinfo=UTC) <= r.published < datetime(2024, 1, 1, tzinfo=UTC)),
    ({"population": Range(5000, 7000)}, _between("population", 5000, 7000)),
    ({"population": Range(6000, 6000), "area_m2": Range(250, 250), "fte": Range(1.5, 1.5)},
     lambda r: tuple(r.snapshot.values()) == (6000, 250, 1.5)),
    ({"area_m2": Range(None, 300)}, _between("area", None, 300)),
    ({"fte": Range(1.0, 2.0)}, _between("fte", 1.0, 2.0)),
    ({"text": "Ehrenamt*", "fields_of_action": ("volunteering", "cooperation"),
      "population": Range(1000, 10000), "efforts": ("M", "L")},
     lambda r: r.text_match(parse_query("Ehrenamt*"))
     and _in("fields_of_action", "volunteering", "cooperation")(r)
     and _between("population", 1000, 10000)(r) and _in("effort", "M", "L")(r)),
]  # fmt: skip


async def test_every_filter_alone_and_combined(corpus: Sessions) -> None:
    async with corpus() as session:
        recs = await records(session)
        for given, predicate in FILTERS:
            found = await all_uids(session, SearchQuery(**given))
            expected = {r.uid for r in recs if predicate(r)}
            assert expected, f"{given} selects nothing in the corpus"
            assert len(found) == len(set(found)), given
            assert set(found) == expected, given


async def test_statements_are_built_once_per_shape_and_bound_per_query(
    corpus: Sessions,
) -> None:
    words = parse_query("Bücherei")
    async with corpus() as session:
        recs = await records(session)
        before = query._statements.cache_info()
        for low, high in ((1000, 5000), (5000, 20000), (20000, 100000)):
            found = await all_uids(
                session, SearchQuery(text="Bücherei", population=Range(low, high))
            )
            expected = {
                r.uid for r in recs if r.text_match(words) and _between("population", low, high)(r)
            }
            assert expected
            assert set(found) == expected
        after = query._statements.cache_info()
    assert after.misses - before.misses <= 1  # the first may build it; the others reuse it
    assert after.hits - before.hits >= 2


# The size bands, written out: [low, high) in inhabitants, m² and FTE.
BANDS = {
    "population": ["0-5000", "5000-10000", "10000-15000", "15000-25000", "25000-30000",
                   "30000-35000", "35000-50000", "50000-100000", "100000-"],
    "area": ["0-100", "100-200", "200-400", "400-800", "800-1600", "1600-"],
    "fte": ["0-1", "1-2", "2-4", "4-8", "8-16", "16-"],
}  # fmt: skip


def _band(dimension: str, value: float) -> str:
    for band in BANDS[dimension]:
        low, _, high = band.partition("-")
        if float(low) <= value and (not high or value < float(high)):
            return band
    raise AssertionError(value)


def _brute_facets(recs: list[Record]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for rec in recs:
        for dimension, terms in rec.values.items():
            counts.setdefault(dimension, Counter()).update(set(terms))
        lib = rec.library
        ref = lib.handle if lib.is_local else f"{lib.handle}@{lib.domain}"
        counts.setdefault("library", Counter())[ref] += 1
        counts.setdefault("origin", Counter())["local" if lib.is_local else "remote"] += 1
        counts.setdefault("published", Counter())[str(rec.published.year)] += 1
        for dimension, value in rec.snapshot.items():
            if value is not None:
                counts.setdefault(dimension, Counter())[_band(dimension, value)] += 1
    return {d: dict(c) for d, c in counts.items()}


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"text": "lese*"},
        {"fields_of_action": ("reading-promotion",), "population": Range(2000, 20000)},
        {"text": "Ehrenamt", "federal_states": ("DE-NI", "DE-BW"), "statuses": ("established",)},
    ],
)
async def test_facet_counts_match_brute_force(corpus: Sessions, given: dict[str, Any]) -> None:
    async with corpus() as session:
        recs = await records(session)
        uids = set(await all_uids(session, SearchQuery(**given)))
        result = await search(session, SearchQuery(**given))
    assert result.total == len(uids)
    assert not result.facets_approximate
    got = {d: {f.term: f.count for f in items} for d, items in result.facets.items() if items}
    expected = _brute_facets([r for r in recs if r.uid in uids])
    # The library facet holds the ten most frequent.
    libraries, all_libraries = got.pop("library"), expected.pop("library")
    assert len(libraries) == min(10, len(all_libraries))
    assert libraries.items() <= all_libraries.items()
    left_out = set(all_libraries) - set(libraries)
    assert all(all_libraries[lib] <= min(libraries.values()) for lib in left_out)
    assert got == expected


async def test_large_result_sets_estimate_facets(
    corpus: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(query, "FACET_SAMPLE", 150)
    async with corpus() as session:
        recs = await records(session)
        result = await search(session, SearchQuery(statuses=("established", "done")))
    expected = [r for r in recs if _in("status", "established", "done")(r)]
    assert result.total == len(expected) > 150  # the total stays exact
    assert result.facets_approximate
    assert result.facet_sample == 150
    status = {f.term: f.count for f in result.facets["status"]}
    assert abs(sum(status.values()) - result.total) <= 2  # scaled up to the total
    # Years stay exact: those the newest 150 cover in full, then the rest in one term.
    years = Counter(r.published.year for r in expected)
    *whole, (rest, rest_count) = [(f.term, f.count) for f in result.facets["published"]]
    assert rest.startswith("-")
    assert whole == [(str(y), years[y]) for y in sorted(years, reverse=True) if y > -int(rest)]
    assert rest_count == sum(n for y, n in years.items() if y <= -int(rest))
    assert len(whole) >= 1


async def test_paging_newest_and_by_relevance(corpus: Sessions) -> None:
    async with corpus() as session:
        recs = await records(session)
        newest = await all_uids(session, SearchQuery())
        by_relevance = await all_uids(session, SearchQuery(text="Bücherei", order="relevance"))
        first = await search(session, SearchQuery(text="Bücherei", limit=5))
        bare = await search(session, SearchQuery(text="Bücherei", limit=5, with_facets=False))
        with pytest.raises(CursorError):
            await search(
                session, SearchQuery(text="Bücherei", order="newest", cursor=first.next_cursor)
            )
        with pytest.raises(CursorError):
            await search(session, SearchQuery(cursor="bm90IGEgY3Vyc29y"))
    published = {r.uid: r.published for r in recs}
    assert len(newest) == len(recs) == len(set(newest))
    assert [published[u] for u in newest] == sorted(published.values(), reverse=True)
    assert len(by_relevance) == len(set(by_relevance)) == len(_expected(recs, "Bücherei"))
    assert bare.total == first.total
    assert [h.measure.uid for h in bare.items] == [h.measure.uid for h in first.items]
    assert not any(bare.facets.values())

"""Searcher: SQLite searches run whole in a worker thread and give what the async path gives
(there, the hot statements run on the sqlite3 cursor, see node.search.direct)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from node.db import create_thread_engine, unit_of_work
from node.measures import create_measure, delete_measure
from node.models import Measure
from node.search import (
    CursorError,
    Range,
    Searcher,
    SearchQuery,
    SearchResult,
    UnknownLibrary,
    resolve_library,
    search,
)
from node.search import query as query_module
from node.search import searcher as searcher_module
from node.vocab import Vocabularies

Sessions = async_sessionmaker[AsyncSession]

QUERIES = [
    SearchQuery(text="Lesesommer", target_groups=("children-6-12",)),
    SearchQuery(text="Bücherei", population=Range(2000, 20000), my_library="heideloh"),
    SearchQuery(fields_of_action=("reading-promotion",), order="newest", limit=5),
    SearchQuery(text='"Bibliothek der Dinge"', order="relevance"),
    # facet tokens of one shape with several values, a date range, a boolean filter and
    # the current numbers basis (IN lists of several lengths: test_search_direct)
    SearchQuery(kinds=("measure",), federal_states=("DE-BY",)),
    SearchQuery(kinds=("measure", "idea"), federal_states=("DE-BY", "DE-TH", "DE-SN")),
    SearchQuery(
        text="lese*",
        published_from=date(2020, 1, 1),
        published_to=date(2030, 1, 1),
        origin="local",
        numbers="current",
        population=Range(1000, 50000),
    ),
]


def _summary(result: SearchResult) -> tuple[object, ...]:
    return (
        [(h.measure, h.library, h.title_html, h.snippet, h.score, h.distance)
         for h in result.items],
        result.total, result.facets, result.facets_approximate, result.next_cursor, result.order,
    )  # fmt: skip


def _url(corpus: Sessions) -> str:
    engine = corpus.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine.url.render_as_string(hide_password=False)


@pytest.mark.parametrize("query", QUERIES)
async def test_searcher_gives_what_the_session_gives(corpus: Sessions, query: SearchQuery) -> None:
    reader = create_thread_engine(_url(corpus))
    searcher = Searcher(corpus, reader)
    try:
        async with corpus() as session:
            expected = await search(session, query)
        found = await searcher.search(query)
        if reader is not None:  # SQLite: the worker thread's connection did the work
            assert reader.pool.checkedout() == 1  # type: ignore[attr-defined]  # and is kept
    finally:
        searcher.close()
        if reader is not None:
            assert reader.pool.checkedout() == 0  # type: ignore[attr-defined]
            reader.dispose()
    assert expected.total > 0
    assert _summary(found) == _summary(expected)
    # the page's measures and libraries stay readable after the worker's session closed
    assert all(h.measure.published_at and h.library.name for h in found.items)


async def test_errors_cross_the_thread_as_they_are(corpus: Sessions) -> None:
    reader = create_thread_engine(_url(corpus))
    searcher = Searcher(corpus, reader)
    try:
        with pytest.raises(UnknownLibrary):
            await searcher.search(SearchQuery(my_library="niemand"))
        with pytest.raises(CursorError):
            await searcher.search(SearchQuery(text="Bücherei", cursor="kaputt"))
    finally:
        searcher.close()
        if reader is not None:
            reader.dispose()


async def test_many_searches_at_once_give_each_its_own_answer(corpus: Sessions) -> None:
    reader = create_thread_engine(_url(corpus))
    searcher = Searcher(corpus, reader)
    try:
        alone = [await searcher.search(q) for q in QUERIES]
        together = await asyncio.gather(*(searcher.search(q) for q in QUERIES * 5))
    finally:
        searcher.close()
        if reader is not None:
            reader.dispose()
    assert [_summary(r) for r in together] == [_summary(r) for r in alone] * 5


def test_only_sqlite_files_get_a_reader(tmp_path: Path) -> None:
    assert create_thread_engine("postgresql+asyncpg://postgres@127.0.0.1/test") is None
    assert create_thread_engine("sqlite+aiosqlite:///:memory:") is None
    reader = create_thread_engine(f"sqlite+aiosqlite:///{tmp_path / 'node.sqlite3'}")
    assert reader is not None
    assert reader.url.drivername == "sqlite+pysqlite"
    reader.dispose()


async def test_a_thread_keeps_its_connection_unless_a_search_failed_on_it(
    corpus: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = create_thread_engine(_url(corpus))
    if reader is None:
        pytest.skip("PostgreSQL searches on the event loop")
    monkeypatch.setattr(Searcher, "THREADS", 1)
    searcher = Searcher(corpus, reader)
    opened: list[object] = []
    event.listen(reader, "connect", lambda conn, _record: opened.append(conn))
    broken = [sqlite3.OperationalError("disk I/O error")]

    def run_search(session: Session, query: SearchQuery) -> SearchResult:
        if broken:
            raise broken.pop()
        return query_module.run_search(session, query)

    try:
        await searcher.search(QUERIES[0])
        with pytest.raises(UnknownLibrary):  # the query's fault: the connection stays
            await searcher.search(SearchQuery(my_library="niemand"))
        await searcher.search(QUERIES[1])
        assert len(opened) == 1
        monkeypatch.setattr(searcher_module, "run_search", run_search)
        with pytest.raises(sqlite3.OperationalError):
            await searcher.search(QUERIES[0])
        assert reader.pool.checkedout() == 0  # type: ignore[attr-defined]
        found = await searcher.search(QUERIES[0])  # on a new connection
        assert found.total > 0
        assert len(opened) == 2
    finally:
        searcher.close()
        reader.dispose()


async def test_a_kept_connection_sees_what_was_written_after_its_last_search(
    corpus: Sessions, vocab: Vocabularies, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = create_thread_engine(_url(corpus))
    if reader is None:
        pytest.skip("PostgreSQL searches on the event loop")
    monkeypatch.setattr(Searcher, "THREADS", 1)  # one thread: one kept connection
    searcher = Searcher(corpus, reader)
    query = SearchQuery(text="Zauberwürfelturnier")
    try:
        assert (await searcher.search(query)).total == 0
        async with unit_of_work(corpus) as session:
            library = await resolve_library(session, "heideloh")
            measure = await create_measure(session, vocab, library, {
                "title": "Zauberwürfelturnier", "kind": "idea", "summary": "Für Familien.",
            })  # fmt: skip
        assert (await searcher.search(query)).total == 1
        async with unit_of_work(corpus) as session:
            await delete_measure(session, await session.get_one(Measure, measure.id))
        assert (await searcher.search(query)).total == 0
        assert reader.pool.checkedout() == 1  # type: ignore[attr-defined]  # the same one
    finally:
        searcher.close()
        reader.dispose()

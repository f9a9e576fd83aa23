"""The index stays in step with every write path, and can be rebuilt."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node import remote
from node.db import unit_of_work
from node.interchange import Row, import_measures, validate_rows
from node.measures import create_measure, delete_measure, update_measure
from node.models import Measure, MeasureSearch
from node.search import (
    SearchQuery,
    index_is_stale,
    index_measures,
    rebuild,
    resolve_library,
    schema,
    search,
    unindex_measures,
)
from node.vocab import Vocabularies
from tests.node.search_db import all_uids

Sessions = async_sessionmaker[AsyncSession]


async def _total(corpus: Sessions, **given: object) -> int:
    async with corpus() as session:
        return (await search(session, SearchQuery(**given))).total  # type: ignore[arg-type]


async def _fts_is_consistent(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "sqlite":
        # Raises if the FTS5 index and its content table (measure_text) disagree.
        await session.execute(
            text("INSERT INTO measure_fts(measure_fts) VALUES ('integrity-check')")
        )


async def test_local_create_update_delete_show_up_at_once(
    corpus: Sessions, vocab: Vocabularies
) -> None:
    async with unit_of_work(corpus) as session:
        library = await resolve_library(session, "heideloh")
        measure = await create_measure(session, vocab, library, {
            "title": "Zauberwürfelturnier", "kind": "idea", "summary": "Für Familien.",
            "fields_of_action": ["events-culture"], "target_groups": ["children-6-12"],
        })  # fmt: skip
    assert await _total(corpus, text="Zauberwurfel*") == 1
    assert await _total(corpus, text="Zauberwürfelturnier", kinds=("idea",)) == 1

    async with unit_of_work(corpus) as session:
        measure = await session.get_one(Measure, measure.id)
        await update_measure(session, vocab, measure, {"title": "Schachturnier", "kind": "measure"})
    assert await _total(corpus, text="Zauberwürfelturnier") == 0
    assert await _total(corpus, text="Schachturnier", kinds=("measure",)) == 1
    assert await _total(corpus, text="Schachturnier", kinds=("idea",)) == 0

    async with unit_of_work(corpus) as session:
        await delete_measure(session, await session.get_one(Measure, measure.id))
        await _fts_is_consistent(session)
    assert await _total(corpus, text="Schachturnier") == 0


async def test_import_updates_reindex(corpus: Sessions, vocab: Vocabularies) -> None:
    async with unit_of_work(corpus) as session:
        library = await resolve_library(session, "talheim")
        measure = await session.scalar(
            select(Measure).where(Measure.library_id == library.id).limit(1)
        )
        assert measure is not None
        row = Row("line 2", {"id": measure.uid, "title": "Kamishibai-Erzähltheater",
                             "kind": measure.kind, "summary": measure.summary})  # fmt: skip
        result = await import_measures(session, library, validate_rows([row], vocab))
        assert result.updated == 1
    assert await _total(corpus, text="Kamishibai") == 1


async def test_received_measures_and_dropped_libraries_leave_the_index(corpus: Sessions) -> None:
    async with corpus() as session:
        lindenau = set(await all_uids(session, SearchQuery(libraries=("lindenau@peer.example",))))
        before = (await search(session, SearchQuery())).total
    async with unit_of_work(corpus) as session:
        victim = await session.scalar(select(Measure).where(Measure.uid.in_(lindenau)).limit(1))
        assert victim is not None
        assert victim.ap_id
        library = await resolve_library(session, "lindenau@peer.example")
        await remote.upsert_measure(session, library, victim.ap_id, {"title": "Escape Room"})
    assert await _total(corpus, text="Escape Room", origin="remote") == 1

    async with unit_of_work(corpus) as session:
        assert await remote.delete_measure(session, victim.ap_id or "")
    assert await _total(corpus, text="Escape Room") == 0
    assert await _total(corpus) == before - 1

    async with unit_of_work(corpus) as session:
        await remote.drop_library(session, await resolve_library(session, "lindenau@peer.example"))
        await _fts_is_consistent(session)
    assert await _total(corpus) == before - len(lindenau)
    assert await _total(corpus, federal_states=("DE-SN",)) == 0


async def test_rebuild_restores_the_same_results(corpus: Sessions) -> None:
    queries = [SearchQuery(), SearchQuery(text="lese*", fields_of_action=("reading-promotion",))]
    async with corpus() as session:
        before = [await all_uids(session, q) for q in queries]
        assert not await index_is_stale(session)
    async with unit_of_work(corpus) as session:
        await session.execute(delete(MeasureSearch))
        assert await index_is_stale(session)
    assert await _total(corpus) == 0

    calls: list[tuple[int, int]] = []
    async with unit_of_work(corpus) as session:
        done = await rebuild(session, lambda n, total: calls.append((n, total)), chunk=100)
        await _fts_is_consistent(session)
    assert calls[-1] == (done, done)
    assert len(calls) == -(-done // 100)
    async with corpus() as session:
        assert [await all_uids(session, q) for q in queries] == before
        assert not await index_is_stale(session)
        if session.get_bind().dialect.name == "sqlite":
            rows = await session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type='trigger'")
            )
            assert dict(rows.all()) == dict(schema.SQLITE_TRIGGERS)  # same DDL as migration 0003


async def test_unindex_is_explicit_and_idempotent(corpus: Sessions) -> None:
    async with unit_of_work(corpus) as session:
        ids = list(await session.scalars(select(Measure.id).limit(3)))
        await unindex_measures(session, ids)
        await unindex_measures(session, ids)
        await _fts_is_consistent(session)
        assert await index_is_stale(session)


async def test_measures_of_one_millisecond_whose_ids_share_a_key_are_both_indexed(
    corpus: Sessions, vocab: Vocabularies
) -> None:
    # Keys are published_at (ms) * 2**20 + id mod 2**20: ids 2**20 apart with the same
    # timestamp (date-only imports into a big node) would share one.
    async with unit_of_work(corpus) as session:
        library = await resolve_library(session, "heideloh")
        first = await create_measure(session, vocab, library, {
            "title": "Zwillingsmaßnahme eins", "kind": "idea", "summary": "Für Familien.",
        })  # fmt: skip
        columns = Measure.__table__.columns
        row = (await session.execute(select(*columns).where(Measure.id == first.id))).one()
        twin = row._asdict() | {
            "id": first.id + schema.KEY_SHIFT,
            "uid": str(uuid.uuid4()),
            "title": "Zwillingsmaßnahme zwei",
        }
        await session.execute(insert(Measure).values(twin))
        await index_measures(session, [twin["id"]])  # against the stored key
    assert await _total(corpus, text="Zwillingsmaßnahme") == 2

    async with unit_of_work(corpus) as session:
        await index_measures(session, [twin["id"], first.id])  # both in one batch
        indexed = await session.execute(
            select(MeasureSearch.measure_id, MeasureSearch.sort_key).where(
                MeasureSearch.measure_id.in_([first.id, twin["id"]])
            )
        )
        keys: dict[int, int] = dict(indexed.all())
        assert set(keys) == {first.id, twin["id"]}  # both indexed, under keys of one ms
        assert keys[first.id] // schema.KEY_SHIFT == keys[twin["id"]] // schema.KEY_SHIFT
        await rebuild(session)
        await _fts_is_consistent(session)
    assert await _total(corpus, text="Zwillingsmaßnahme") == 2
    assert await _total(corpus, text="Zwillingsmaßnahme zwei") == 1

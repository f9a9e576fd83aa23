"""Migration 0003: the full-text objects appear with the upgrade and vanish with the
downgrade; apart from them the models match the database exactly. Migration 0004: the
index is emptied for a rebuild that fills the new list-facet columns."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node import migrate
from node.db import Base, create_engine, unit_of_work
from node.search import SearchQuery, index_is_stale, rebuild, search
from node.search.schema import SQLITE_TRIGGERS, include_name

SEARCH_TABLES = {"measure_search", "measure_text"}


def _objects(conn: Connection) -> set[str]:
    """Every table, trigger, column and index name that belongs to the search index."""
    inspector = inspect(conn)
    names = {n for n in inspector.get_table_names() if n.startswith("measure_")}
    if "measure_text" in names:
        names |= {f"measure_text.{c['name']}" for c in inspector.get_columns("measure_text")}
        names |= {f"index {i['name']}" for i in inspector.get_indexes("measure_text")}
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names |= {f"trigger {name}" for (name,) in rows}
    return names


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"include_name": include_name})
    return list(compare_metadata(context, Base.metadata))


async def test_0003_up_down_up(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            created = await conn.run_sync(_objects)
            assert await conn.run_sync(_diff) == []
        assert created >= SEARCH_TABLES
        if engine.dialect.name == "sqlite":
            assert {"measure_fts", "measure_fts_data", "measure_fts_config"} <= created
            assert {f"trigger {name}" for name in SQLITE_TRIGGERS} <= created
        else:
            assert {"measure_text.document", "index ix_measure_text_document"} <= created

        await migrate.downgrade(engine, "0002")
        async with engine.connect() as conn:
            assert await conn.run_sync(_objects) == set()

        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_objects) == created
    finally:
        await engine.dispose()


async def test_0004_empties_the_index_and_a_rebuild_restores_the_facets(
    corpus: async_sessionmaker[AsyncSession],
) -> None:
    engine = corpus.kw["bind"]
    query = SearchQuery(text="Lesesommer")
    async with corpus() as session:
        before = await search(session, query)
    assert before.total > 0
    assert before.facets["fields_of_action"]
    assert before.facets["kind"]

    await migrate.downgrade(engine, "0003")
    await migrate.upgrade(engine)
    async with corpus() as session:
        assert await index_is_stale(session)
        assert (await search(session, query)).total == 0
        if engine.dialect.name == "sqlite":
            # The full-text table was emptied with it, and the triggers are back as before.
            await session.execute(
                text("INSERT INTO measure_fts(measure_fts) VALUES ('integrity-check')")
            )
            fts_rows = await session.scalar(text("SELECT count(*) FROM measure_fts"))
            assert fts_rows == 0
            rows = await session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            )
            assert dict(rows.all()) == dict(SQLITE_TRIGGERS)

    async with unit_of_work(corpus) as session:
        await rebuild(session)
    async with corpus() as session:
        after = await search(session, query)
    assert after.total == before.total
    assert after.facets == before.facets

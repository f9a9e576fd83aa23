"""Migrations: upgrade → downgrade → upgrade on both databases; models match migrations."""

from __future__ import annotations

from functools import partial

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from node import migrate
from node.db import Base, create_engine
from node.search.schema import include_name


def _tables(conn: Connection, *, everything: bool = False) -> set[str]:
    names = set(inspect(conn).get_table_names()) - {"alembic_version"}
    # The full-text tables (FTS5 and its shadow tables) are not models, on purpose.
    return names if everything else {n for n in names if include_name(n, "table", {})}


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"include_name": include_name})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == set(Base.metadata.tables)
            assert await conn.run_sync(_diff) == []

        await migrate.downgrade(engine, "base")
        assert await migrate.current_revision(engine) is None
        async with engine.connect() as conn:
            assert await conn.run_sync(partial(_tables, everything=True)) == set()

        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == set(Base.metadata.tables)
    finally:
        await engine.dispose()

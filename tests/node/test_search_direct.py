"""node.search.direct: statements on the sqlite3 cursor give SQLAlchemy's rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from node.db import create_thread_engine
from node.models import Library, Measure, MeasureSearch
from node.search.direct import Prepared

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def reader(corpus: Sessions) -> Iterator[Engine]:
    engine = corpus.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    thread_engine = create_thread_engine(engine.url.render_as_string(hide_password=False))
    if thread_engine is None:
        pytest.skip("the direct path is for SQLite's sqlite3 driver")
    yield thread_engine
    thread_engine.dispose()


def _statement() -> Prepared:
    columns: list[Any] = [MeasureSearch.sort_key, Measure.published_at, MeasureSearch.is_local]
    return Prepared(
        select(*columns)
        .join(Measure, Measure.id == MeasureSearch.measure_id)
        .where(MeasureSearch.library_id.in_(bindparam("libs", expanding=True)))
        .where(MeasureSearch.snap_population >= bindparam("low"))
        .order_by(MeasureSearch.sort_key)
    )


def test_in_lists_of_every_length_give_sqlalchemys_rows(reader: Engine) -> None:
    prepared = _statement()
    with Session(reader) as session:
        conn = session.connection()
        libraries = list(session.scalars(select(Library.id).order_by(Library.id)))
        assert len(libraries) >= 3
        for libs in ([], libraries[:1], libraries[:3], libraries[:2], tuple(libraries[:3])):
            params = {"libs": libs, "low": 1000}
            expected = [tuple(row) for row in conn.execute(prepared.statement, params).all()]
            found = [tuple(row) for row in prepared.rows(conn, params)]
            assert found == expected
        assert any(found)  # timestamps and booleans came back typed, as SQLAlchemy's
        assert found[0][1].tzinfo is not None
        assert isinstance(found[0][2], bool)


def test_a_missing_value_is_reported_as_sqlalchemy_reports_it(reader: Engine) -> None:
    prepared = _statement()
    lib = MeasureSearch.library_id == bindparam("lib")
    by_value = Prepared(select(MeasureSearch.sort_key).where(lib))
    with Session(reader) as session:
        conn = session.connection()
        with pytest.raises(StatementError):
            prepared.rows(conn, {"libs": [1]})
        with pytest.raises(StatementError):
            by_value.rows(conn, {})
        # and a later call with the value is not spoilt by the first
        found = by_value.rows(conn, {"lib": 1})
        assert list(map(tuple, found)) == list(
            map(tuple, conn.execute(by_value.statement, {"lib": 1}).all())
        )
        assert found


def test_variants_are_bounded_whatever_lengths_clients_send(reader: Engine) -> None:
    prepared = _statement()
    with Session(reader) as session:
        conn = session.connection()
        for length in range(1, 3 * Prepared.MAX_VARIANTS):
            params = {"libs": [1] * length, "low": 0}
            assert list(map(tuple, prepared.rows(conn, params))) == list(
                map(tuple, conn.execute(prepared.statement, params).all())
            )
    assert len(prepared._compiled) == Prepared.MAX_VARIANTS

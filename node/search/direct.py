"""The search's two hot statements on SQLite, run with the ``sqlite3`` cursor directly.

A search runs two statements that are built once per query shape: the sample (keys, order
terms and facet values of the hits) and the page (the shown hits' fields). Executed through
SQLAlchemy, each run still pays for a cache key, its parameters, an execution context and
a Row object per result row: 0.7 ms per search on the 100,000-measure benchmark, a sixth
of a request (measured). A ``Prepared`` statement is compiled once per length of its IN
lists, to SQL text plus the order of its parameters, and then runs on the driver's cursor;
result columns that need SQLAlchemy's type processing (timestamps, booleans) still get it,
and so do the parameters. Connections whose driver is not ``sqlite3`` (PostgreSQL,
aiosqlite) run the statement through SQLAlchemy, so both give the same rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

Getter = Callable[[Mapping[str, Any]], Any]
Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    values: tuple[Getter, ...]  # one per "?" of sql, in order
    processors: tuple[tuple[int, Processor], ...]  # (column index, result processor)


class Prepared:
    """A statement built once, compiled once per dialect and length of its IN lists."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        # Filled from the search threads: a lost race compiles the same text twice.
        self._compiled: dict[tuple[Any, ...], _Compiled] = {}

    def rows(self, connection: Connection, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
        """All result rows (tuples) of the statement with ``params``."""
        driver = connection.connection.driver_connection
        if not isinstance(driver, sqlite3.Connection):
            return connection.execute(self.statement, params).all()
        dialect = connection.dialect
        lists = tuple(
            sorted((name, len(value)) for name, value in params.items() if isinstance(value, list))
        )
        compiled = self._compiled.get((dialect.name, lists))
        if compiled is None:
            compiled = _compile(self.statement, dialect, params)
            self._compiled[(dialect.name, lists)] = compiled
        values = [get(params) for get in compiled.values]
        rows: list[Any] = driver.execute(compiled.sql, values).fetchall()
        if compiled.processors:
            rows = [_processed(row, compiled.processors) for row in rows]
        return rows


def _processed(row: tuple[Any, ...], processors: tuple[tuple[int, Processor], ...]) -> list[Any]:
    values = list(row)
    for index, process in processors:
        values[index] = process(values[index])
    return values


def _compile(statement: Select[Any], dialect: Dialect, params: Mapping[str, Any]) -> _Compiled:
    # render_postcompile expands each IN list into one "?" per value (named name_1, …).
    compiled = statement.params(params).compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    values: list[Getter] = []
    for name in compiled.positiontup or ():
        base, _, number = name.rpartition("_")
        if name in params:
            values.append(_getter(name, None, _bind_processor(compiled.binds[name].type, dialect)))
        elif base in params and number.isdigit() and isinstance(params[base], list):
            process = _bind_processor(compiled.binds[base].type, dialect)
            values.append(_getter(base, int(number) - 1, process))
        else:  # a value the statement holds itself (a literal, an OFFSET)
            bind = compiled.binds[name]
            process = _bind_processor(bind.type, dialect)
            constant = process(bind.effective_value) if process else bind.effective_value
            values.append(_constant(constant))
    processors = tuple(
        (index, process)
        for index, column in enumerate(statement.selected_columns)
        # The dialect's own type (SQLite's DATETIME reads text) under any TypeDecorator.
        if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))
    )
    return _Compiled(compiled.string, tuple(values), processors)


def _bind_processor(bind_type: TypeEngine[Any], dialect: Dialect) -> Processor | None:
    return bind_type.dialect_impl(dialect).bind_processor(dialect)


def _constant(value: Any) -> Getter:
    return lambda _params: value


def _getter(name: str, index: int | None, process: Processor | None) -> Getter:
    if index is None and process is None:
        return lambda params: params[name]
    if index is None:
        assert process is not None
        return lambda params: process(params[name])
    if process is None:
        return lambda params: params[name][index]
    return lambda params: process(params[name][index])

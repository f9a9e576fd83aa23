"""The search's two hot statements on SQLite, run with the ``sqlite3`` cursor directly.

A search runs two statements that are built once per query shape: the sample (keys, order
terms and facet values of the hits) and the page (the shown hits' fields). Executed through
SQLAlchemy, each run still pays for a cache key, its parameters, an execution context and
a Row object per result row: 0.7 ms per search on the 100,000-measure benchmark, a sixth
of a request (measured). A ``Prepared`` statement is compiled once per length of its IN
lists, to SQL text plus the order of its parameters, and then runs on the driver's cursor;
result columns that need SQLAlchemy's type processing (timestamps, booleans) still get it,
and so do the parameters. Connections whose driver is not ``sqlite3`` (PostgreSQL,
aiosqlite) run the statement through SQLAlchemy, so both give the same rows. A database
error arrives as ``sqlite3``'s own exception here, not wrapped by SQLAlchemy (the search
lets either pass to the web layer, which answers 500).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.types import TypeEngine

Getter = Callable[[Mapping[str, Any]], Any]
_LISTS = (list, tuple)  # parameter values bound as IN lists
Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    values: tuple[Getter, ...]  # one per "?" of sql, in order
    processors: tuple[tuple[int, Processor], ...]  # (column index, result processor)


class Prepared:
    """A statement built once, compiled once per length of its IN lists."""

    # IN-list lengths come from the request (page size, libraries filter): past this many
    # variants a statement runs through SQLAlchemy, which compiles an IN list once for
    # every length. Memory and compile time stay bounded whatever clients send.
    MAX_VARIANTS = 8

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        # Filled from the search threads: a lost race compiles the same text twice.
        # None: this variant needs SQLAlchemy (see _compile).
        self._compiled: dict[tuple[Any, ...], _Compiled | None] = {}

    def rows(self, connection: Connection, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
        """All result rows (tuples) of the statement with ``params``."""
        driver = connection.connection.driver_connection
        if isinstance(driver, sqlite3.Connection):
            compiled = self._variant(connection.dialect, params)
            if compiled is not None:
                values = [get(params) for get in compiled.values]
                rows: list[Any] = driver.execute(compiled.sql, values).fetchall()
                if compiled.processors:
                    rows = [_processed(row, compiled.processors) for row in rows]
                return rows
        return connection.execute(self.statement, params).all()

    def _variant(self, dialect: Dialect, params: dict[str, Any]) -> _Compiled | None:
        # Only SQLite's dialect gets here, so the lengths of the IN lists are the key.
        key = tuple(sorted((name, len(v)) for name, v in params.items() if isinstance(v, _LISTS)))
        if key in self._compiled:
            return self._compiled[key]
        if len(self._compiled) >= self.MAX_VARIANTS:
            return None
        try:
            compiled = _compile(self.statement, dialect, params)
        except InvalidRequestError:  # a value is missing: SQLAlchemy's path reports it
            return None
        self._compiled[key] = compiled
        return compiled


def _processed(row: tuple[Any, ...], processors: tuple[tuple[int, Processor], ...]) -> list[Any]:
    values = list(row)
    for index, process in processors:
        values[index] = process(values[index])
    return values


def _compile(
    statement: Select[*tuple[Any, ...]], dialect: Dialect, params: Mapping[str, Any]
) -> _Compiled | None:
    """SQL text, parameter getters and result processors; None when a parameter is neither
    given (as a value or an IN list) nor held by the statement itself: SQLAlchemy's path
    then runs it (and reports a missing value as it always does)."""
    # render_postcompile expands each IN list into one "?" per value (named name_1, …).
    compiled = statement.params(params).compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    values: list[Getter] = []
    for name in compiled.positiontup or ():
        base, _, number = name.rpartition("_")
        bind = compiled.binds.get(name)
        if name in params and not isinstance(params[name], _LISTS) and bind is not None:
            values.append(_getter(name, None, _bind_processor(bind.type, dialect)))
        elif base in params and number.isdigit() and isinstance(params[base], _LISTS):
            process = _bind_processor(compiled.binds[base].type, dialect)
            values.append(_getter(base, int(number) - 1, process))
        elif bind is not None and bind.unique and not isinstance(bind.effective_value, _LISTS):
            # an anonymous value the statement holds itself (a literal, an OFFSET)
            process = _bind_processor(bind.type, dialect)
            constant = process(bind.effective_value) if process else bind.effective_value
            values.append(_constant(constant))
        else:
            return None
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

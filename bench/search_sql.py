"""The raw-SQL half of the search benchmark: the statements the service issued, replayed.

The service's statements for each query are captured (with their parameters) and run again
with the plain ``sqlite3`` module, so the HTTP figure can be set beside the bare SQL.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.common import median, percentile
from node.db import create_engine, create_sessionmaker
from node.search import SearchQuery, search

Statement = tuple[str, Any]


async def capture(url: str, queries: list[SearchQuery]) -> list[list[Statement]]:
    """The SQL statements (and parameters) the search service runs for each query."""
    engine = create_engine(url)
    current: list[Statement] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            current.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    sessions = create_sessionmaker(engine)
    captured: list[list[Statement]] = []
    try:
        for query in queries:
            current.clear()
            async with sessions() as session:
                await search(session, query)
            captured.append(list(current))
    finally:
        await engine.dispose()
    return captured


def replay(database: Path, captured: list[list[Statement]]) -> list[float]:
    """Run each query's statements with plain sqlite3; milliseconds per query."""
    conn = sqlite3.connect(database)
    timings = []
    try:
        for statements in captured[:5]:  # warm-up
            for sql, params in statements:
                conn.execute(sql, params).fetchall()
        for statements in captured:
            started = time.perf_counter()
            for sql, params in statements:
                conn.execute(sql, params).fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    return timings


async def sql_load(database: Path, url: str, queries: list[SearchQuery], name: str) -> list[float]:
    """Print and return the raw-SQL timings of ``queries``."""
    timings = replay(database, await capture(url, queries))
    print(f"{name} as raw SQL (sqlite3, statements replayed): p50 {median(timings):.1f} ms, "
          f"p95 {percentile(timings, 95):.1f} ms")  # fmt: skip
    return timings

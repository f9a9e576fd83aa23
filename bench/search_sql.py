"""The raw-SQL half of the search benchmark: the statements the service issued, replayed.

The service's statements for each query are captured (with their parameters) and run again
with the plain ``sqlite3`` module, so the HTTP figure can be set beside the bare SQL. The
HTTP half replays each query's statements right after timing the query over HTTP, so a
slower or faster phase of a shared machine affects both figures alike.
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


class Replayer:
    """Runs one query's captured statements with plain sqlite3 on its own connection."""

    def __init__(self, database: Path) -> None:
        self._conn = sqlite3.connect(database)

    def run(self, statements: list[Statement]) -> float:
        """Milliseconds to run and fetch every statement."""
        started = time.perf_counter()
        for sql, params in statements:
            self._conn.execute(sql, params).fetchall()
        return (time.perf_counter() - started) * 1000

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def report(name: str, timings: list[float]) -> None:
    """Print the raw-SQL figures."""
    print(f"{name} as raw SQL (sqlite3, statements replayed): p50 {median(timings):.1f} ms, "
          f"p95 {percentile(timings, 95):.1f} ms")  # fmt: skip

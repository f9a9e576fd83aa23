"""Where searches run: on SQLite in a worker thread, elsewhere on the async session.

Through SQLAlchemy's async layer, each statement on SQLite costs several hand-offs to the
aiosqlite thread (cursor, execute, fetch, close: ~0.4 ms a statement, measured); a search
run whole on a synchronous connection in one worker thread pays one hand-off. PostgreSQL
(asyncpg) runs on the event loop as before. Both run the very same ``run_search``.

Each search thread keeps its connection from one search to the next: a pool checkout and
return per search cost 0.13 ms of a search's 14 (measured at the 95th percentile of the
100,000-measure benchmark). A connection that saw an error other than the query's own
is discarded.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from node.search.paging import CursorError
from node.search.plan import SearchQuery
from node.search.query import SearchResult, run_search, search
from node.search.similarity import SearchError


class Searcher:
    """Runs search queries for the web layer; ``reader`` is a sync engine on the same
    SQLite file (``node.db.create_thread_engine``), or None to use ``sessions``.

    Searches get their own threads (not the loop's default executor, where aiohttp resolves
    host names), as many as the reader's pool has connections; ``close()`` ends them.
    """

    THREADS = 4

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], reader: Engine | None = None
    ) -> None:
        self._sessions = sessions
        self._reader = reader
        self._local = threading.local()  # .connection: the thread's kept connection
        self._kept: set[Connection] = set()
        self._kept_lock = threading.Lock()
        self._threads = (
            ThreadPoolExecutor(self.THREADS, thread_name_prefix="search")
            if reader is not None
            else None
        )

    async def search(self, query: SearchQuery) -> SearchResult:
        """Run one query (raises SearchError, UnknownLibrary or CursorError, as ``search``)."""
        if self._threads is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._threads, self._run, query)
        async with self._sessions() as session:
            return await search(session, query)

    def close(self) -> None:
        """Let running searches finish, end the threads and close their connections."""
        if self._threads is not None:
            self._threads.shutdown(wait=True)
        with self._kept_lock:
            kept, self._kept = self._kept, set()
        for connection in kept:
            connection.close()

    def _run(self, query: SearchQuery) -> SearchResult:
        connection = self._connection()
        try:
            with Session(bind=connection) as session:
                return run_search(session, query)
        except (SearchError, CursorError):  # the query's fault, not the connection's
            raise
        except BaseException:
            self._drop(connection)
            raise

    def _connection(self) -> Connection:
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            assert self._reader is not None
            connection = self._local.connection = self._reader.connect()
            with self._kept_lock:
                self._kept.add(connection)
        return connection

    def _drop(self, connection: Connection) -> None:
        """Close the thread's connection for good: the pool opens a fresh one next time."""
        self._local.connection = None
        with self._kept_lock:
            self._kept.discard(connection)
        connection.invalidate()
        connection.close()

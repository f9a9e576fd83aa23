"""Where searches run: on SQLite in a worker thread, elsewhere on the async session.

Through SQLAlchemy's async layer, each statement on SQLite costs several hand-offs to the
aiosqlite thread (cursor, execute, fetch, close: ~0.4 ms a statement, measured); a search
run whole on a synchronous connection in one worker thread pays one hand-off. PostgreSQL
(asyncpg) runs on the event loop as before. Both run the very same ``run_search``.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import sessionmaker

from node.search.plan import SearchQuery
from node.search.query import SearchResult, run_search, search


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
        self._reader = sessionmaker(reader) if reader is not None else None
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
        """Let running searches finish and end the threads."""
        if self._threads is not None:
            self._threads.shutdown(wait=True)

    def _run(self, query: SearchQuery) -> SearchResult:
        assert self._reader is not None
        with self._reader() as session:
            return run_search(session, query)

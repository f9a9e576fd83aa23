"""Where searches run: on SQLite in a worker thread, elsewhere on the async session.

Through SQLAlchemy's async layer, each statement on SQLite costs several hand-offs to the
aiosqlite thread (cursor, execute, fetch, close: ~0.4 ms a statement, measured); a search
run whole on a synchronous connection in one worker thread pays one hand-off. PostgreSQL
(asyncpg) runs on the event loop as before. Both run the very same ``run_search``.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import sessionmaker

from node.search.plan import SearchQuery
from node.search.query import SearchResult, run_search, search


class Searcher:
    """Runs search queries for the web layer; ``reader`` is a sync engine on the same
    SQLite file (``node.db.create_sync_reader``), or None to use ``sessions``."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], reader: Engine | None = None
    ) -> None:
        self._sessions = sessions
        self._reader = sessionmaker(reader) if reader is not None else None

    async def search(self, query: SearchQuery) -> SearchResult:
        """Run one query (raises SearchError, UnknownLibrary or CursorError, as ``search``)."""
        if self._reader is not None:
            return await asyncio.to_thread(self._run, query)
        async with self._sessions() as session:
            return await search(session, query)

    def _run(self, query: SearchQuery) -> SearchResult:
        assert self._reader is not None
        with self._reader() as session:
            return run_search(session, query)

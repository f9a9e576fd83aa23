"""Database engine, session factory and the declarative base."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, MetaData, event, make_url, text
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

T = TypeVar("T")

# Stable constraint names make migrations reproducible on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL is durable against application crashes (only an OS crash can lose
    # the last transactions), which is the usual trade-off for an embedded server.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(database_url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(database_url, echo=echo, pool_pre_ping=True, pool_size=10)


def create_thread_engine(database_url: str) -> Engine | None:
    """A synchronous engine on the same SQLite file, for units of work run whole in a worker
    thread (one hand-off instead of several per statement: searches, the inbox spool's
    batches, the delivery queue's transactions); None for PostgreSQL (asyncpg needs no
    thread) and for in-memory databases (a second engine would see another database)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    engine = sa_create_engine(
        url.set(drivername="sqlite+pysqlite"),
        connect_args={"check_same_thread": False},  # pooled, used by one thread at a time
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory; objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One session and transaction: commit on success, roll back on any error."""
    async with sessionmaker() as session, session.begin():
        yield session


class KeptConnection:
    """One connection kept open across the transactions of a busy writer (inbox spool,
    delivery batches): a pool checkout per batch costs more than the batch's statements.

    ``lock`` (SQLite) makes the transactions take turns with the other writers holding it.
    """

    def __init__(self, engine: AsyncEngine, lock: asyncio.Lock | None = None) -> None:
        self._engine, self._lock = engine, lock
        self._conn: AsyncConnection | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on the kept connection: committed on success, else rolled back."""
        async with self._lock or contextlib.nullcontext():
            conn, self._conn = self._conn or await self._engine.connect(), None
            try:
                async with conn.begin():
                    yield conn
            except BaseException:
                await conn.close()  # possibly broken: the next transaction takes a fresh one
                raise
            self._conn = conn

    async def close(self) -> None:
        """Return the connection to the pool."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()


class KeptRunner:
    """Runs synchronous units of work ``fn(connection)``, each in a transaction on one kept
    connection (the inbox spool's batches, the delivery queue's claims and outcome batches).

    With ``thread_engine`` (SQLite: ``create_thread_engine``) each runs whole in this
    runner's own worker thread: one hand-off per transaction instead of several per
    statement, and its Python runs while the event loop waits in C (signing, sockets).
    Otherwise it runs through ``AsyncConnection.run_sync`` on a ``KeptConnection``.
    ``lock`` makes the transactions take turns with the other writers holding it.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        thread_engine: Engine | None = None,
        lock: asyncio.Lock | None = None,
        name: str = "db",
    ) -> None:
        self._kept = KeptConnection(engine, lock)
        self._thread_engine, self._lock, self._name = thread_engine, lock, name
        self._thread: ThreadPoolExecutor | None = None  # started on first use, ended by close
        self._conn: Connection | None = None  # touched only in the worker thread

    async def run(self, fn: Callable[[Connection], T]) -> T:
        """``fn(connection)`` in a transaction: committed on success, else rolled back."""
        if self._thread_engine is None:
            async with self._kept.transaction() as conn:
                return await conn.run_sync(fn)
        async with self._lock or contextlib.nullcontext():
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix=self._name)
            done = asyncio.get_running_loop().run_in_executor(self._thread, self._in_thread, fn)
            try:
                return await asyncio.shield(done)
            except asyncio.CancelledError:
                # The thread goes on regardless: hold the lock until its transaction ended,
                # however often the wait is cancelled meanwhile; then pass the cancel on.
                while not done.done():
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait([done])
                raise

    def _in_thread(self, fn: Callable[[Connection], T]) -> T:
        assert self._thread_engine is not None
        conn, self._conn = self._conn or self._thread_engine.connect(), None
        try:
            with conn.begin():
                result = fn(conn)
        except BaseException:
            conn.close()  # possibly broken: the next transaction takes a fresh one
            raise
        self._conn = conn
        return result

    def _close_in_thread(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    async def close(self) -> None:
        """Return the connection to its pool and end the thread."""
        await self._kept.close()
        if self._thread is not None:
            thread, self._thread = self._thread, None
            await asyncio.get_running_loop().run_in_executor(thread, self._close_in_thread)
            thread.shutdown(wait=True)


async def ping(engine: AsyncEngine, limit_seconds: float = 2.0) -> bool:
    """Whether the database answers a trivial query within the time limit."""

    async def _query() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        async with asyncio.timeout(limit_seconds):
            await _query()
    except Exception:
        return False
    return True

"""The inbox spool: a verified activity is appended to a file before the inbox answers 202,
and moved into the ``inbox_activities`` table in large batches a moment later.

Why a file in front of the table: waiting for a database commit before each 202 made the
inbox's answer wait for a hand-off to a writer thread and back, and the writer's Python
competed with the event loop for the interpreter lock (measured on the inbox benchmark: the
node reached 42–48 % of the verify-only rate that way, 65–71 % with the spool; README,
"Benchmarks"). An append is one ``write(2)`` on the event loop. It also keeps the inbox
answering while the database is busy (an index rebuild in another process) or away: the
file grows and is stored once the database takes writes again.

Durability: the append is complete before the 202, without ``fsync``. Like SQLite's WAL
with ``synchronous=NORMAL`` (the node's setting) it survives a crash of the node, not of
the operating system; on PostgreSQL that is less than its own commits promise. Files left
by a crash are stored at the next start; storing ignores activity ids already in the table,
so a file stored twice still stores each activity once.

Files in ``<data>/inbox-spool/``: ``current.spool`` takes the appends; a drain renames it to
``<sequence>.spool``, stores those files in order and deletes each once stored. A record is
``b"<meta length> <body length>\\n" + meta + body + b"\\n"``: meta is a small JSON object
(activity id, type, actor, library, time received), body the request body as received. The
body is read again at drain time with ``loads_exact``, which gives the same document that
was checked. A record torn by a crash (its sender never got a 202) ends its file and is
skipped with a warning; records the database refuses for good (not for being busy or away)
are appended to ``failed.spool`` and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    StatementError,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.parsing import loads_exact
from node.db import KeptRunner
from node.models import InboxActivity

log = logging.getLogger(__name__)

MAX_BATCH = 200  # rows per insert statement and transaction …
MAX_BATCH_BYTES = 4_000_000  # … and at most this much body text
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 1.0, 60.0  # while the database refuses writes
STOP_SECONDS = 10.0  # the last drain at shutdown; what it leaves is stored at the next start
LOCK_SECONDS = 5.0  # at most this long waiting for failed.spool's lock
CURRENT, FAILED = "current.spool", "failed.spool"
_SEQUENCE = re.compile(r"\d{12}\.spool")
_HEADER = re.compile(rb"\d{1,5} \d{1,9}\n")  # a record's lengths (see MAX_META_BYTES)
MAX_META_BYTES, MAX_BODY_BYTES = 65_536, 256_000_000  # larger lengths: a damaged record
# SQLSTATE classes: the row itself is wrong (data exception, integrity violation, a value
# beyond a limit such as an index row's size) …
_ROW_SQLSTATES = ("22", "23", "54")
# … or the database cannot take it now (connection, rollback, resources, shutdown, system).
_UNAVAILABLE_SQLSTATES = ("08", "40", "53", "57", "58")


class SpoolError(Exception):
    """An activity could not be appended to the spool (the disk is full, say)."""


class _Unreadable(Exception):
    """The rest of a spool file, from ``offset`` on, cannot be read (a record torn by a
    crash)."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


def encode(meta: dict[str, Any], body: bytes) -> bytes:
    """One spool record."""
    head = orjson.dumps(meta)
    return b"%d %d\n" % (len(head), len(body)) + head + body + b"\n"


def read_records(stream: BinaryIO) -> Iterator[tuple[dict[str, Any], bytes]]:
    """The records of a spool file in order; raises ``_Unreadable`` where one is torn."""
    while True:
        offset = stream.tell()
        line = stream.readline(64)
        if not line:
            return
        try:
            head_length, body_length = (int(part) for part in line.split())
            if not (0 <= head_length <= MAX_META_BYTES and 0 <= body_length <= MAX_BODY_BYTES):
                raise ValueError("not a record's lengths")
            head = stream.read(head_length)
            body = stream.read(body_length)
            meta = orjson.loads(head)
        except (ValueError, orjson.JSONDecodeError):
            raise _Unreadable(offset) from None
        if (
            len(head) != head_length
            or len(body) != body_length
            or stream.read(1) != b"\n"
            or not isinstance(meta, dict)
        ):
            raise _Unreadable(offset)
        yield meta, body


def _sqlstate(exc: DBAPIError) -> str | None:
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return state if isinstance(state, str) else None


def the_records_fault(exc: BaseException) -> bool:
    """Whether storing a record failed because of the record itself: retrying cannot help."""
    if isinstance(exc, (IntegrityError, DataError, ValueError, KeyError, TypeError)):
        return True  # includes a record whose meta or body cannot be read
    if isinstance(exc, DBAPIError):
        state = _sqlstate(exc)
        return state is not None and state.startswith(_ROW_SQLSTATES)
    # Raised by SQLAlchemy before the statement reached the database (binding a value).
    return isinstance(exc, StatementError)


def database_unavailable(exc: BaseException, dialect: str) -> bool:
    """Whether an error says the database cannot take writes now (busy, locked, away)."""
    if isinstance(exc, (OSError, TimeoutError)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = _sqlstate(exc)
    if state is not None:
        return state.startswith(_UNAVAILABLE_SQLSTATES) or state == "55P03"  # lock not free
    # SQLite reports busy, locked, full and I/O errors as OperationalError, without SQLSTATE.
    return dialect == "sqlite" and isinstance(exc, OperationalError)


def describe(exc: BaseException) -> str:
    """A short, safe description of an error for the log."""
    try:
        text = str(exc)
    except Exception:  # a description must not fail
        text = ""
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def sequence_files(directory: Path) -> list[str]:
    """The names of the spool files waiting to be stored, in the order they were written
    (none while the directory does not exist: the node has not received anything yet)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(name for name in names if _SEQUENCE.fullmatch(name))


def spooled(directory: Path) -> Iterator[dict[str, Any]]:
    """The meta of the records waiting in a spool directory, oldest first. For reports,
    also while the node runs: a record being written or torn ends its file's part; a file
    the node stores and deletes meanwhile is left out."""
    for name in [*sequence_files(directory), CURRENT]:
        try:
            with (directory / name).open("rb") as stream, contextlib.suppress(_Unreadable):
                for meta, _body in read_records(stream):
                    yield meta
        except FileNotFoundError:
            continue


def to_rows(records: list[tuple[dict[str, Any], bytes]]) -> list[dict[str, Any]]:
    """The table rows of spool records."""
    return [to_row(meta, body) for meta, body in records]


def to_row(meta: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The table row of a spool record (ValueError, KeyError or TypeError if it has none)."""
    return {
        "ap_id": meta["id"],
        "activity_type": meta["type"],
        "actor": meta["actor"],
        "library_id": meta["library"],
        "payload": loads_exact(body),
        "received_at": datetime.fromisoformat(meta["received"]),
        "attempts": 0,
    }


class InboxSpool:
    """Appends verified activities to a file; a background task stores them in the table.

    ``append`` is synchronous and returns once the record is written (then the inbox
    answers 202). ``drain`` stores everything appended so far; the task started by
    ``start`` drains once appends pause for ``settle`` seconds, and at the latest
    ``max_delay`` seconds after the first append of a burst. One spool per directory:
    the app holds the data directory's lock (``node.datadir``).
    """

    def __init__(
        self,
        directory: Path,
        engine: AsyncEngine,
        on_stored: Callable[[], None],
        *,
        lock: asyncio.Lock | None = None,
        thread_engine: Engine | None = None,
        settle: float = 0.05,
        max_delay: float = 2.0,
        on_set_aside: Callable[[str, str], None] | None = None,
        sync_set_aside: bool = False,
    ) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._dialect = engine.dialect.name
        self._insert = _insert_ignoring_duplicates(self._dialect)
        # SQLite: the lock is the node's write lock, shared with its other writers.
        self._runner = KeptRunner(engine, thread_engine, lock, "inbox-spool")
        self._on_stored = on_stored
        self._on_set_aside = on_set_aside  # (activity id, reason), instead of the log line
        # fsync each record set aside (a retry deletes its synced copy of it right after)
        self._sync_set_aside = sync_set_aside
        self._settle, self._max_delay = settle, max_delay
        self._fd: int | None = None
        self._size = 0  # bytes in the current file, all of them whole records
        self._set_aside_ids: set[str] = set()  # not again when a failed drain is retried
        self._stopped = False
        self._sequence = max((int(name[:12]) for name in sequence_files(directory)), default=0)
        self._last_append = 0.0
        self._wake = asyncio.Event()
        self._draining = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._rotate()  # a current file left by a crash ends here: nothing is appended to it

    # --- appending (the inbox's hot path) -------------------------------------------------

    def append(self, meta: dict[str, Any], body: bytes) -> None:
        """Write one activity's record; returns once it is in the file (raises SpoolError)."""
        if self._stopped:
            raise SpoolError("the inbox spool is stopped")
        data = encode(meta, body)
        try:
            if self._fd is None:
                self._rotate()  # appends only ever go to a file this spool created empty
                self._fd = os.open(
                    self.directory / CURRENT,
                    os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL,
                    0o600,
                )
                self._size = 0
            try:
                write_whole(self._fd, data, self._size)
            except OSError:
                # Cut back (or, failing that, ended by the next append's new file, where
                # the reader skips the part).
                with contextlib.suppress(OSError):
                    os.close(self._fd)
                self._fd = None
                raise
        except OSError as exc:
            raise SpoolError(f"cannot write to {self.directory}: {exc.strerror or exc}") from exc
        self._size += len(data)
        self._last_append = asyncio.get_running_loop().time()
        if not self._wake.is_set():
            self._wake.set()

    def _rotate(self) -> None:
        """Close the current file and give it the next sequence number (if it has records)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        current = self.directory / CURRENT
        try:
            if current.stat().st_size == 0:
                current.unlink()
                return
        except FileNotFoundError:
            return
        self._sequence += 1
        current.rename(self.directory / f"{self._sequence:012d}.spool")

    # --- storing --------------------------------------------------------------------------

    async def drain(self) -> int:
        """Store everything appended so far in the table; the number of records stored
        (activities already in the table count too, and are skipped by the insert).

        Raises if the database refuses writes (busy, away): the files stay and a later
        drain stores them.
        """
        async with self._draining:
            self._rotate()
            stored = 0
            try:
                for name in sequence_files(self.directory):
                    path = self.directory / name
                    stored += await self._store_file(path)
                    path.unlink()
            finally:
                if stored:
                    self._on_stored()
            return stored

    async def _store_file(self, path: Path) -> int:
        stored, batch, size = 0, [], 0
        with path.open("rb") as stream:
            try:
                for record in read_records(stream):
                    batch.append(record)
                    size += len(record[1])
                    if len(batch) == MAX_BATCH or size >= MAX_BATCH_BYTES:
                        stored += await self._store_batch(batch)
                        batch, size = [], 0
            except _Unreadable as torn:
                log.warning(
                    "inbox spool %s: %d bytes at offset %d cannot be read (a write cut off "
                    "by a crash; its sender got no answer and will send it again): skipped",
                    path.name, stream.seek(0, os.SEEK_END) - torn.offset, torn.offset,
                )  # fmt: skip
        if batch:
            stored += await self._store_batch(batch)
        return stored

    async def _store_batch(self, records: list[tuple[dict[str, Any], bytes]]) -> int:
        if len(records) > 1:
            try:
                return await self._write(records)
            except Exception as exc:
                if database_unavailable(exc, self._dialect):
                    raise
        # One at a time, to find what failed: a record refused for good is set aside and the
        # others are stored; if the database itself refuses (busy, away), the drain ends.
        stored = 0
        for record in records:
            try:
                stored += await self._write([record])
            except Exception as exc:
                if not await self._refused_for_good(exc):
                    raise
                await self._set_aside(record, exc)
        return stored

    async def _refused_for_good(self, exc: Exception) -> bool:
        """Whether a record that failed on its own did so because of itself. Errors that
        say neither (e.g. a driver's own error) count as the record's if the database
        answers a probe right after."""
        if the_records_fault(exc):
            return True
        if database_unavailable(exc, self._dialect):
            return False
        try:
            await self._runner.run(_probe)
        except Exception:
            return False
        return True

    async def _write(self, records: list[tuple[dict[str, Any], bytes]]) -> int:
        """Insert ``records`` in one transaction (ids already stored are skipped)."""
        rows = await asyncio.to_thread(to_rows, records)  # JSON bodies: off the event loop
        await self._runner.run(partial(self._insert_rows, rows))
        return len(records)

    def _insert_rows(self, rows: list[dict[str, Any]], conn: Connection) -> None:
        conn.execute(self._insert, rows)

    async def _set_aside(self, record: tuple[dict[str, Any], bytes], exc: Exception) -> None:
        meta, body = record
        activity_id = str(meta.get("id"))
        if activity_id in self._set_aside_ids:
            return  # set aside by an earlier attempt at this file
        # In a thread: the append may wait for failed.spool's lock (a retry holds it).
        await asyncio.to_thread(
            partial(append_whole, fsync=self._sync_set_aside),
            self.directory / FAILED,
            encode(meta, body),
        )
        self._set_aside_ids.add(activity_id)
        if self._on_set_aside is not None:
            self._on_set_aside(activity_id, describe(exc))
            return
        log.error(
            "inbox activity %s cannot be stored and was set aside in %s: %s",
            activity_id, self.directory / FAILED, describe(exc),
        )  # fmt: skip

    # --- the background task --------------------------------------------------------------

    def start(self) -> None:
        """Start draining in the background (first what an earlier run left)."""
        self._task = asyncio.create_task(self._run(), name="inbox-spool")

    async def stop(self) -> None:
        """Stop the task and take no more appends, then store what is left if the database
        takes it within ``STOP_SECONDS`` (else at the next start)."""
        if self._stopped:
            return
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            async with asyncio.timeout(STOP_SECONDS):
                await self.drain()
        except Exception as exc:  # includes the timeout
            log.warning(
                "inbox spool: %s; what is left in %s is stored at the next start",
                describe(exc), self.directory,
            )  # fmt: skip
        finally:
            with contextlib.suppress(OSError):  # a file left as current.spool is renamed at start
                self._rotate()
            await self._runner.close()

    async def _run(self) -> None:
        retry = RETRY_FIRST_SECONDS
        due = True  # what a crash, or a stop whose drain failed, left
        while True:
            if not due:
                await self._wake.wait()
                await self._quiet()
            self._wake.clear()
            try:
                await self.drain()
            except Exception as exc:  # the database is busy or away: appends go on
                log.warning(
                    "inbox spool: cannot store yet (%s); trying again in %g s",
                    describe(exc), retry,
                )  # fmt: skip
                await asyncio.sleep(retry)
                retry, due = min(2 * retry, RETRY_MAX_SECONDS), True
            else:
                retry, due = RETRY_FIRST_SECONDS, False

    async def _quiet(self) -> None:
        """Wait until appends pause for ``settle`` seconds, at most ``max_delay`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_delay
        while (now := loop.time()) < deadline:
            quiet_at = self._last_append + self._settle
            if now >= quiet_at:
                return
            await asyncio.sleep(min(quiet_at, deadline) - now)


def _probe(conn: Connection) -> None:
    conn.exec_driver_sql("SELECT 1")


def write_whole(fd: int, data: bytes, start: int) -> None:
    """Write ``data`` at the end of ``fd``'s file, which is ``start`` bytes long: whole, or
    cut back to ``start`` again (if the cut fails too, the part stays and OSError is raised)."""
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, start)
        raise


def append_whole(path: Path, data: bytes, *, fsync: bool = False) -> None:
    """Append ``data`` to ``path`` whole or not at all, holding the file's lock (``failed.spool``
    is appended to by the node and by `bibnetz inbox --retry-set-aside`, which empties it);
    ``fsync``: on disk before returning."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        lock_file(fd)
        write_whole(fd, data, os.fstat(fd).st_size)  # the size under the lock
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)  # and with it the lock


def lock_file(fd: int) -> None:
    """Take ``fd``'s exclusive lock (released when it is closed); OSError after
    ``LOCK_SECONDS``, so a stuck holder cannot block the caller for good."""
    deadline = time.monotonic() + LOCK_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise OSError(errno.EWOULDBLOCK, "locked by another process") from None
            time.sleep(0.005)


def salvage(data: bytes) -> tuple[list[tuple[dict[str, Any], bytes]], list[bytes]]:
    """The whole records in a spool file's bytes, and the damaged stretches between them.

    A record cut off by a crash is followed by what was appended after the restart (in
    ``failed.spool``, which outlives restarts): reading resumes where the next whole record
    starts. A record counts as whole only if its body is the JSON object its meta names
    (the inbox spools nothing else): a torn record whose length happens to reach past the
    records after it reads like one, but its body is not that JSON.
    """
    records: list[tuple[dict[str, Any], bytes]] = []
    damaged: list[bytes] = []
    at = 0
    while at < len(data):
        found = _record_at(data, at)
        if found is not None:
            records.append(found[0])
            at = found[1]
            continue
        resume = at + 1
        while resume < len(data) and _record_at(data, resume) is None:
            match = _HEADER.search(data, resume + 1)
            resume = match.start() if match else len(data)
        damaged.append(data[at:resume])
        at = resume
    return records, damaged


def _record_at(data: bytes, start: int) -> tuple[tuple[dict[str, Any], bytes], int] | None:
    """The whole record starting at ``start`` and where the next one starts, or None."""
    header = _HEADER.match(data, start)
    if header is None:
        return None
    head_length, body_length = map(int, header.group().split())
    end = header.end() + head_length + body_length
    if head_length > MAX_META_BYTES or end >= len(data) or data[end : end + 1] != b"\n":
        return None  # lengths beyond the data: no need to read it
    try:
        meta = orjson.loads(data[header.end() : header.end() + head_length])
        doc = loads_exact(data[header.end() + head_length : end])
    except ValueError:  # orjson's JSONDecodeError is one too
        return None
    if not (isinstance(meta, dict) and isinstance(doc, dict)) or doc.get("id") != meta.get("id"):
        return None
    return (meta, data[header.end() + head_length : end]), end + 1


def _insert_ignoring_duplicates(dialect: str) -> Any:
    # The same activity can arrive twice (retries, several inboxes): the first copy wins.
    if dialect == "postgresql":
        return pg_insert(InboxActivity).on_conflict_do_nothing(index_elements=["ap_id"])
    if dialect == "sqlite":
        return sqlite_insert(InboxActivity).on_conflict_do_nothing(index_elements=["ap_id"])
    return insert(InboxActivity)

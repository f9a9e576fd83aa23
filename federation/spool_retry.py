"""Trying the inbox's set-aside activities again (`bibnetz inbox --retry-set-aside`).

The spool sets a record aside in ``failed.spool`` when the database refuses it for good
(``federation.spool``). Once the cause is gone (an upgrade that accepts what an older
version refused, a library restored, an error taken for the record's that was not), the
operator stores them with this. It works beside a running node:

- holding ``failed.spool``'s lock (the node appends under it too, in a thread, so its
  event loop goes on), its bytes are copied to ``inbox-spool/retry/<n>.spool`` and synced
  to disk, and ``failed.spool`` is emptied; then, without the lock, each file there is
  rewritten to its whole records (``salvage``) and the stretches a crash left unreadable
  are kept in ``failed.damaged``;
- the records are stored as the spool stores them (deduplicated by activity id, one at a
  time where a batch fails); the running node's processor finds the new rows at its next
  poll (``delivery_poll_seconds``), a stopped node at its start;
- what the database refuses again goes back to ``failed.spool``; if the database is away,
  every file not finished goes back too (records of it already stored are then both
  stored and set aside; a later retry skips them as stored). Nothing is lost either way.

A retry cut off by a crash leaves its files in ``retry/``: `bibnetz inbox` counts them as
set aside, and the next retry takes them too. Every copy is synced to disk before the
file it came from is emptied or deleted, so a power cut cannot lose a record either;
except that on SQLite with ``synchronous=NORMAL`` (the node's setting) the last commits
themselves can be lost in a power cut, and the retry deletes its copy once they are made.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.spool import (
    FAILED,
    InboxSpool,
    append_whole,
    encode,
    lock_file,
    salvage,
    sequence_files,
    write_whole,
)

RETRY_DIR, RETRY_LOCK, DAMAGED = "retry", "retry.lock", "failed.damaged"


class RetryBusy(Exception):
    """Another retry of the set-aside activities is running."""


class SpoolFilesError(Exception):
    """The spool's files could not be read or written (the disk, not the database)."""


@dataclass(frozen=True)
class RetryOutcome:
    """How a retry went, in distinct activities: ``stored`` includes those already in the
    table; ``copies`` counts the records beyond the first of one activity (a crash can
    leave two), which are dropped."""

    tried: int
    stored: int
    refused: int
    copies: int
    reasons: tuple[tuple[str, str], ...]  # (activity id, why) of those refused again
    damaged_bytes: int  # unreadable stretches moved to failed.damaged


def retry_paths(directory: Path) -> list[Path]:
    """The files of a retry that has not finished (for reports)."""
    work = directory / RETRY_DIR
    return [work / name for name in sequence_files(work)] + [work / FAILED]


async def retry_set_aside(
    directory: Path, engine: AsyncEngine, thread_engine: Engine | None = None
) -> RetryOutcome:
    """Store the records of ``directory``'s ``failed.spool`` (see the module's docstring).

    Raises RetryBusy, SpoolFilesError, or the database's error; the records not stored are
    then back in ``failed.spool``, or still in ``retry/`` for the next retry."""
    with _locked(directory):
        work = directory / RETRY_DIR
        with _files():
            records, activities, damaged = _take(directory, work)
        if not records:
            return RetryOutcome(0, 0, 0, 0, (), damaged)
        reasons: list[tuple[str, str]] = []
        spool = InboxSpool(
            work,
            engine,
            lambda: None,
            thread_engine=thread_engine,
            on_set_aside=lambda activity_id, why: reasons.append((activity_id, why)),
            sync_set_aside=True,
        )
        try:
            await spool.drain()
        except BaseException:
            with _files():
                for name in sequence_files(work):  # the files the drain did not finish
                    damaged += _give_back(work / name, directory)
            raise
        finally:
            try:
                with _files():
                    damaged += _give_back(work / FAILED, directory)
            finally:
                await spool.stop()
            with contextlib.suppress(OSError):
                work.rmdir()
        refused = len(reasons)
        return RetryOutcome(
            activities,
            activities - refused,
            refused,
            records - activities,
            tuple(reasons),
            damaged,
        )


def _take(directory: Path, work: Path) -> tuple[int, int, int]:
    """Move failed.spool's bytes into ``work`` (beside what a crashed retry left), each
    file there rewritten to its whole records; the numbers of records, of distinct
    activities and of damaged bytes kept aside."""
    if not work.exists():
        work.mkdir()
        _fsync_directory(directory)  # the new directory's entry, before anything moves in
    for stale in work.glob("*.tmp"):  # a crashed retry's unfinished copy
        stale.unlink()
    damaged = _give_back(work / FAILED, directory)  # a crashed retry's refusals
    number = max((int(name[:12]) for name in sequence_files(work)), default=0)
    try:
        fd = os.open(directory / FAILED, os.O_RDWR)
    except FileNotFoundError:
        fd = None
    if fd is not None:
        try:
            # Only copying under the lock: the node's appends wait for it.
            lock_file(fd)
            if data := _read_all(fd):
                _write_durably(work / f"{number + 1:012d}.spool", data)
            os.ftruncate(fd, 0)  # lost in a power cut, it leaves copies: counted, dropped
        finally:
            os.close(fd)
    records, activities = 0, set[str]()
    taken = sequence_files(work)
    for name in taken:
        # Rewritten whole: the spool's drain would skip what follows a torn record.
        whole, stretches = salvage((work / name).read_bytes())
        if stretches:
            damaged += _keep_damaged(directory, stretches)
            _write_durably(work / name, _encoded(whole))
        records += len(whole)
        activities.update(str(meta.get("id")) for meta, _body in whole)
    if not records:
        for name in taken:
            (work / name).unlink()
        work.rmdir()
    return records, len(activities), damaged


def _encoded(records: list[tuple[dict[str, Any], bytes]]) -> bytes:
    return b"".join(encode(meta, body) for meta, body in records)


def _give_back(source: Path, directory: Path) -> int:
    """Append ``source``'s whole records to ``directory``'s failed.spool (its unreadable
    stretches to failed.damaged), on disk before ``source`` is deleted; the number of
    damaged bytes."""
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        return 0
    records, stretches = salvage(data)
    if records:
        append_whole(directory / FAILED, _encoded(records), fsync=True)
    damaged = _keep_damaged(directory, stretches)
    source.unlink()
    return damaged


def _keep_damaged(directory: Path, stretches: list[bytes]) -> int:
    if stretches:
        append_whole(directory / DAMAGED, b"".join(stretches), fsync=True)
    return sum(map(len, stretches))


def _write_durably(path: Path, data: bytes) -> None:
    """Create or replace ``path`` with ``data``, on disk (with its directory entry) before
    returning."""
    partial = path.with_name(path.name + ".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        write_whole(fd, data, 0)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, path)
    _fsync_directory(path.parent)


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _files() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise SpoolFilesError(f"cannot read or write {exc.filename or 'the spool'}: {exc}") from exc


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := os.pread(fd, 1 << 20, size):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / RETRY_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RetryBusy("another retry of the set-aside activities is running") from None
        yield
    finally:
        os.close(fd)


def describe_outcome(outcome: RetryOutcome) -> list[str]:
    """The lines `bibnetz inbox --retry-set-aside` prints."""
    lines: list[str] = []
    if outcome.tried:
        lines.append(
            f"Tried {outcome.tried} set-aside activities again: {outcome.stored} stored "
            f"(the node processes them), {outcome.refused} refused again (still set aside)"
            + (f", {outcome.copies} extra copies dropped." if outcome.copies else ".")
        )
        for activity_id, why in outcome.reasons:
            lines.append(f"  {activity_id}: {why.splitlines()[0] if why else why}")
    else:
        lines.append("Nothing was set aside: nothing to try again.")
    if outcome.damaged_bytes:
        lines.append(
            f"{outcome.damaged_bytes} bytes that a crash left unreadable were kept in {DAMAGED}."
        )
    return lines

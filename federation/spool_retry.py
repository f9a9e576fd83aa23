"""Trying the inbox's set-aside activities again (`bibnetz inbox --retry-set-aside`).

The spool sets a record aside in ``failed.spool`` when the database refuses it for good
(``federation.spool``). Once the cause is gone (an upgrade that accepts what an older
version refused, a library restored, an error taken for the record's that was not), the
operator stores them with this. It works beside a running node:

- under ``retry.lock``, ``failed.spool`` is moved into ``inbox-spool/retry/``; a node that
  sets something aside meanwhile starts a new ``failed.spool``;
- the records are stored as the spool stores them (deduplicated by activity id, one at a
  time where a batch fails); the running node's processor finds the new rows at its next
  poll (``delivery_poll_seconds``), a stopped node at its start;
- what the database refuses again is appended to ``failed.spool`` again; if the database
  is away, every record not yet stored goes back there too. Nothing is lost either way.

A retry cut off by a crash leaves its files in ``retry/``; the next retry takes them too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from federation.spool import FAILED, InboxSpool, append_whole, encode, sequence_files, whole_records

RETRY_DIR, RETRY_LOCK = "retry", "retry.lock"


class RetryBusy(Exception):
    """Another retry of the set-aside activities is running."""


@dataclass(frozen=True)
class RetryOutcome:
    """How a retry went: records tried, stored (or already stored), refused again."""

    tried: int
    stored: int
    refused: int
    reasons: tuple[tuple[str, str], ...] = ()  # (activity id, why) of those refused again


async def retry_set_aside(
    directory: Path, engine: AsyncEngine, thread_engine: Engine | None = None
) -> RetryOutcome:
    """Store the records of ``directory``'s ``failed.spool`` (see the module's docstring).

    Raises RetryBusy, or the database's error if it is away (the records are back in
    ``failed.spool`` then)."""
    with _locked(directory):
        work = directory / RETRY_DIR
        tried = _take(directory, work)
        if not tried:
            return RetryOutcome(0, 0, 0)
        reasons: list[tuple[str, str]] = []
        spool = InboxSpool(
            work,
            engine,
            lambda: None,
            thread_engine=thread_engine,
            on_set_aside=lambda activity_id, why: reasons.append((activity_id, why)),
        )
        try:
            await spool.drain()
        except BaseException:
            for name in sequence_files(work):  # what the drain did not finish
                _give_back(work / name, directory / FAILED)
            raise
        finally:
            refused = _give_back(work / FAILED, directory / FAILED)
            await spool.stop()
            with contextlib.suppress(OSError):
                work.rmdir()
        return RetryOutcome(tried, tried - refused, refused, tuple(reasons))


def _take(directory: Path, work: Path) -> int:
    """Move failed.spool into ``work`` beside what a crashed retry left; how many records
    that makes (none: ``work`` is removed again)."""
    work.mkdir(exist_ok=True)
    _give_back(work / FAILED, directory / FAILED)  # a crashed retry's refusals
    taken = sequence_files(work)
    if (directory / FAILED).exists():
        number = max((int(name[:12]) for name in taken), default=0) + 1
        (directory / FAILED).rename(work / f"{number:012d}.spool")
        taken = sequence_files(work)
    tried = sum(1 for name in taken for _ in whole_records(work / name))
    if not tried:
        for name in taken:
            (work / name).unlink()
        work.rmdir()
    return tried


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


def _give_back(source: Path, target: Path) -> int:
    """Append ``source``'s readable records to ``target`` and delete ``source``; how many."""
    if not source.exists():
        return 0
    moved = 0
    for meta, body in whole_records(source):
        append_whole(target, encode(meta, body))
        moved += 1
    source.unlink()
    return moved

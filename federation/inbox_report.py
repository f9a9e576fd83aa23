"""What operators see of the inbox: activities waiting in the spool or set aside there,
and stored activities not yet processed or whose processing failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.processor import MAX_ATTEMPTS
from federation.spool import FAILED, salvage, spooled
from federation.spool_retry import retry_paths
from node.models import InboxActivity


@dataclass(frozen=True)
class SetAside:
    """An activity the database refused for good, kept in failed.spool."""

    ap_id: str
    activity_type: str
    actor: str
    received: str


@dataclass(frozen=True)
class FailedProcessing:
    """A stored activity whose handler failed at least once (tried up to MAX_ATTEMPTS
    times): ``state`` is "retrying", "gave up" or "done" (a later attempt worked)."""

    ap_id: str
    activity_type: str
    received_at: datetime
    attempts: int
    state: str
    error: str


def _state(row: InboxActivity) -> str:
    if row.processed_at is None:
        return "retrying"
    return "gave up" if row.attempts >= MAX_ATTEMPTS else "done"


@dataclass(frozen=True)
class InboxReport:
    """The inbox at a glance."""

    waiting: int  # in the spool, not yet in the table
    oldest_waiting: str | None  # when the oldest of them arrived (ISO 8601)
    set_aside: list[SetAside]  # the newest ``limit``
    set_aside_total: int
    unprocessed: int
    failed: list[FailedProcessing]  # the newest ``limit``
    failed_total: int


def _records(path: Path) -> list[tuple[dict[str, Any], bytes]]:
    """A file's whole records, also those after a stretch a crash left unreadable."""
    try:
        return salvage(path.read_bytes())[0]
    except FileNotFoundError:
        return []


def _set_aside(meta: dict[str, Any]) -> SetAside:
    return SetAside(
        str(meta.get("id")), str(meta.get("type")), str(meta.get("actor")),
        str(meta.get("received")),
    )  # fmt: skip


async def inbox_status(session: AsyncSession, spool_dir: Path, *, limit: int = 20) -> InboxReport:
    """The inbox report of a node whose spool lives in ``spool_dir``."""
    waiting, oldest = 0, None
    for meta in spooled(spool_dir):
        waiting += 1
        oldest = oldest or str(meta.get("received"))
    # failed.spool, and the files of a retry that did not finish (they hold them meanwhile)
    by_id: dict[str, SetAside] = {}  # an activity a crash left twice counts once
    for path in [spool_dir / FAILED, *retry_paths(spool_dir)]:
        for meta, _body in _records(path):
            item = _set_aside(meta)
            by_id.setdefault(item.ap_id, item)
    aside = list(by_id.values())
    unprocessed = await session.scalar(
        select(func.count()).select_from(InboxActivity).where(InboxActivity.processed_at.is_(None))
    )
    with_error = InboxActivity.error.is_not(None)
    failed_total = await session.scalar(
        select(func.count()).select_from(InboxActivity).where(with_error)
    )
    rows = await session.scalars(
        select(InboxActivity).where(with_error).order_by(InboxActivity.id.desc()).limit(limit)
    )
    failed = [
        FailedProcessing(
            row.ap_id,
            row.activity_type,
            row.received_at,
            row.attempts,
            _state(row),
            row.error or "",
        )
        for row in rows
    ]
    return InboxReport(
        waiting=waiting,
        oldest_waiting=oldest,
        set_aside=aside[-limit:][::-1] if limit else [],
        set_aside_total=len(aside),
        unprocessed=int(unprocessed or 0),
        failed=failed,
        failed_total=int(failed_total or 0),
    )

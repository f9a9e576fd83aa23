"""What operators see of outgoing delivery: state per activity and per peer host."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.models import Delivery, OutboxActivity, PeerHost

STATES = ("pending", "sending", "done", "failed")


@dataclass(frozen=True)
class StateCounts:
    """Delivery rows by state."""

    pending: int = 0
    sending: int = 0
    done: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        """All rows, whatever their state."""
        return self.pending + self.sending + self.done + self.failed


@dataclass(frozen=True)
class ActivityDeliveries:
    """One outbox activity and how far its fan-out has got."""

    uid: str
    activity_type: str
    object_type: str
    created_at: datetime
    dispatched_at: datetime | None
    counts: StateCounts


@dataclass(frozen=True)
class HostDeliveries:
    """One peer host: its health and its deliveries."""

    host: str
    state: str  # ok | parked | blocked
    counts: StateCounts
    consecutive_failures: int
    last_success_at: datetime | None
    parked_until: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class DeliveryReport:
    """The newest activities and every known host, hosts with pending rows first."""

    activities: list[ActivityDeliveries]
    hosts: list[HostDeliveries]


def _counts(by_state: dict[str, int]) -> StateCounts:
    return StateCounts(**{state: by_state.get(state, 0) for state in STATES})


async def delivery_status(session: AsyncSession, *, activities: int = 50) -> DeliveryReport:
    """Delivery state of the newest ``activities`` outbox activities and of every peer host."""
    recent = list(
        await session.scalars(
            select(OutboxActivity).order_by(OutboxActivity.id.desc()).limit(activities)
        )
    )
    per_activity: dict[int, dict[str, int]] = defaultdict(dict)
    by_activity = await session.execute(
        select(Delivery.activity_id, Delivery.state, func.count())
        .where(Delivery.activity_id.in_([a.id for a in recent]))
        .group_by(Delivery.activity_id, Delivery.state)
    )
    for activity_id, state, count in by_activity:
        per_activity[activity_id][state] = count

    per_host: dict[str, dict[str, int]] = defaultdict(dict)
    by_host = await session.execute(
        select(Delivery.host, Delivery.state, func.count()).group_by(Delivery.host, Delivery.state)
    )
    for host, state, count in by_host:
        per_host[host][state] = count
    newest_errors = (
        select(func.max(Delivery.id))
        .where(Delivery.last_error.is_not(None))
        .group_by(Delivery.host)
    )
    newest = select(Delivery.host, Delivery.last_error).where(Delivery.id.in_(newest_errors))
    errors: dict[str, str | None] = dict((await session.execute(newest)).all())
    peers = {peer.host: peer for peer in await session.scalars(select(PeerHost))}

    host_rows = []
    for host in sorted(set(per_host) | set(peers)):
        peer = peers.get(host)
        host_rows.append(
            HostDeliveries(
                host=host,
                state=peer.state if peer else "ok",
                counts=_counts(per_host.get(host, {})),
                consecutive_failures=peer.consecutive_failures if peer else 0,
                last_success_at=peer.last_success_at if peer else None,
                parked_until=peer.parked_until if peer else None,
                last_error=errors.get(host),
            )
        )
    host_rows.sort(key=lambda h: (-h.counts.pending, h.host))
    return DeliveryReport(
        activities=[
            ActivityDeliveries(
                uid=a.uid,
                activity_type=a.activity_type,
                object_type=a.object_type,
                created_at=a.created_at,
                dispatched_at=a.dispatched_at,
                counts=_counts(per_activity.get(a.id, {})),
            )
            for a in recent
        ],
        hosts=host_rows,
    )

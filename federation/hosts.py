"""Peer hosts we deliver to: one signed POST, what the answer means, the host's health.

A definite 4xx fails a delivery for good; 5xx, 408, 429 and network errors retry with capped
exponential backoff and jitter (``Retry-After`` wins on 429/503). A host that keeps failing
for ``host_park_after_seconds`` is parked: its deliveries wait until ``parked_until``, then
one probe delivery goes out. Any answer from the host (a 2xx or a definite 4xx) resets the
count and un-parks it; a ``blocked`` host is never contacted.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from federation.httpsig import PrivateKey, sign_request, url_authority
from federation.safety import UnsafeURL, check_url
from federation.urls import AS_MEDIA_TYPE
from node.models import Delivery, PeerHost
from node.settings import Settings

log = logging.getLogger(__name__)

# Well below the delivery lease, so a row is never taken over while its POST still runs.
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10)
ERROR_CHARS = 200
HEALTH_REFRESH = 10.0  # seconds between writes of a healthy host's last_success_at
# success: 2xx; answered: the host is up but refused (3xx/4xx); failure: 5xx, 408, network.
HostEvent = Literal["success", "answered", "failure"]
BLOCKED_ERROR = "host blocked"


def inbox_host(inbox: str) -> str | None:
    """The ``host[:port]`` deliveries are grouped by; None for an unusable inbox URL."""
    try:
        parts = urlsplit(inbox)
        host = url_authority(parts) if parts.scheme in ("http", "https") else None
    except ValueError:
        return None
    return host if host and len(host) <= 255 and len(inbox) <= 2048 else None


def delivery_rows(activity_id: int, inboxes: list[str], now: datetime) -> list[dict[str, Any]]:
    """New delivery rows: one per distinct inbox; an unusable inbox URL fails at once."""
    rows = []
    for inbox in dict.fromkeys(inboxes):  # distinct, in the given order
        host = inbox_host(inbox)
        rows.append(
            {"activity_id": activity_id, "inbox": inbox[:2048], "host": host or "",
             "state": "pending" if host else "failed", "next_attempt_at": now,
             "last_error": None if host else "invalid inbox URL", "created_at": now}
        )  # fmt: skip
    return rows


def retry_delay(attempts: int, settings: Settings, jitter: float) -> float:
    """Seconds before the next try: ``min(cap, base * 2**(attempts-1))`` times ``jitter``."""
    exponent = min(max(attempts - 1, 0), 64)
    backoff = settings.delivery_retry_base_seconds * 2.0**exponent
    return min(settings.delivery_retry_cap_seconds, backoff) * jitter


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP date), or None."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


@dataclass(frozen=True)
class Attempt:
    """What one POST to an inbox came back with."""

    status: int | None = None  # None: no HTTP answer (network error, timeout) or not sent
    error: str | None = None  # short reason: the start of the body, or the exception
    retry_after: str | None = None
    permanent: bool = False  # refused on our side (unsafe URL, no key): retrying cannot help
    sent: bool = True  # False: dropped before sending (host blocked), no attempt to count

    @property
    def unreachable(self) -> bool:
        """No HTTP answer at all: the host may be down."""
        return self.status is None and not self.permanent


def _short(text: str) -> str:
    return " ".join(text.split())[:ERROR_CHARS]


async def post_signed(
    client: aiohttp.ClientSession,
    inbox: str,
    body: bytes,
    signer: tuple[str, PrivateKey],
    allow_private: bool,
) -> Attempt:
    """POST an activity to an inbox, signed (cavage) with ``(key id, private key)``."""
    try:
        check_url(inbox, allow_private=allow_private)
        headers = {"Content-Type": AS_MEDIA_TYPE}
        headers |= sign_request("POST", inbox, headers, body, *signer)
        async with client.post(
            inbox, data=body, headers=headers, allow_redirects=False, timeout=REQUEST_TIMEOUT
        ) as resp:
            if resp.status < 300:
                return Attempt(resp.status)
            text = (await resp.content.read(4 * ERROR_CHARS)).decode("utf-8", "replace")
            if 300 <= resp.status < 400:
                text = f"redirect to {resp.headers.get('Location', '?')} not followed"
            retry_after = resp.headers.get("Retry-After")
            return Attempt(resp.status, _short(text) or resp.reason, retry_after)
    except UnsafeURL as exc:
        return Attempt(error=_short(str(exc)), permanent=True)
    except aiohttp.InvalidURL as exc:
        return Attempt(error=_short(f"invalid URL: {exc}"), permanent=True)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Attempt(error=_short(f"{type(exc).__name__}: {exc}"))
    except Exception as exc:  # a bug on our side; retrying the same bytes cannot help
        log.exception("cannot send to %s", inbox)
        return Attempt(error=_short(f"{type(exc).__name__}: {exc}"), permanent=True)


@dataclass(frozen=True)
class Verdict:
    """A delivery's next state after an attempt, and what the attempt says about its host."""

    state: str  # pending (retry at next_attempt_at) | done | failed
    next_attempt_at: datetime
    host_event: HostEvent | None


def judge(
    attempt: Attempt, attempts: int, now: datetime, settings: Settings, jitter: float
) -> Verdict:
    """Judge one attempt; ``attempts`` counts it."""
    status, retry_after = attempt.status, attempt.retry_after
    if status is not None and 200 <= status < 300:
        return Verdict("done", now, "success")
    if attempt.permanent:
        return Verdict("failed", now, None)
    if status is None or status >= 500 or status in (408, 429):
        # 429 means "slow down", not "down": it neither counts against the host nor for it.
        event: HostEvent | None = None if status == 429 else "failure"
        delay = retry_delay(attempts, settings, jitter)
        asked = parse_retry_after(retry_after, now) if status in (429, 503) else None
        if asked is not None:
            delay = min(asked, settings.delivery_retry_cap_seconds)
        if attempts >= settings.delivery_max_attempts:
            return Verdict("failed", now, event)
        return Verdict("pending", now + timedelta(seconds=delay), event)
    # 3xx (never followed: a redirect could lead past the URL checks) and the other 4xx.
    return Verdict("failed", now, "answered")


def due_deliveries(now: datetime, limit: int, skip_hosts: Collection[str]) -> Select[int]:
    """Ids of due pending deliveries, oldest first, except to parked or blocked hosts."""
    unavailable = select(PeerHost.host).where(PeerHost.state.in_(("parked", "blocked")))
    due = select(Delivery.id).where(
        Delivery.state == "pending",
        Delivery.next_attempt_at <= now,
        Delivery.host.not_in(unavailable),
    )
    if skip_hosts:
        due = due.where(Delivery.host.not_in(sorted(skip_hosts)))
    due = due.order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)
    # skip_locked: should two senders share a database, each takes different rows.
    return due.with_for_update(skip_locked=True)


def fail_blocked(conn: Connection) -> set[str]:
    """Mark pending deliveries of blocked hosts as failed, so operators see why they stopped;
    the blocked hosts (the queue also drops rows it claimed before the block)."""
    blocked = set(conn.scalars(select(PeerHost.host).where(PeerHost.state == "blocked")))
    if blocked:
        conn.execute(
            update(Delivery)
            .where(Delivery.state == "pending", Delivery.host.in_(sorted(blocked)))
            .values(state="failed", last_error=BLOCKED_ERROR, lease_until=None)
        )
    return blocked


def claim_probes(conn: Connection, now: datetime, probe_until: datetime) -> list[int]:
    """Pick one pending delivery per parked host whose pause is over: the probe.

    ``parked_until`` moves to ``probe_until`` (the probe's lease) so no second probe goes out
    while the first is in flight; its outcome then un-parks the host or parks it again.
    """
    due = select(PeerHost.host).where(PeerHost.state == "parked", PeerHost.parked_until <= now)
    probes: list[int] = []
    for host in list(conn.scalars(due.with_for_update(skip_locked=True))):
        probe = conn.scalar(
            select(Delivery.id)
            .where(Delivery.host == host, Delivery.state == "pending")
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(1)
        )
        if probe is not None:
            probes.append(probe)
            pause = update(PeerHost).where(PeerHost.host == host)
            conn.execute(pause.values(parked_until=probe_until))
    return probes


_HEALTH = ("state", "consecutive_failures", "first_failure_at", "last_failure_at",
           "last_success_at", "parked_until")  # fmt: skip


def record_host_events(
    conn: Connection,
    events: Sequence[tuple[str, HostEvent]],
    now: datetime,
    settings: Settings,
) -> None:
    """Apply delivery outcomes (in order) to the hosts' health; park long-failing hosts."""
    if not events:
        return
    names = sorted({host for host, _ in events})
    # ON CONFLICT: an operator's block or a second sender may create the row meanwhile.
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(PeerHost).on_conflict_do_nothing(), [{"host": n} for n in names])
    query = select(PeerHost.__table__).where(PeerHost.host.in_(names)).with_for_update()
    peers = {row.host: dict(row._mapping) for row in conn.execute(query)}
    park_after = timedelta(seconds=settings.host_park_after_seconds)
    park_for = timedelta(seconds=settings.host_park_seconds)
    recovered: set[str] = set()
    for host, event in events:
        peer = peers[host]
        if event == "failure":
            peer["consecutive_failures"] += 1
            peer["first_failure_at"] = peer["first_failure_at"] or now
            peer["last_failure_at"] = now
            # A failed probe parks the host again; a healthy one parks after a long outage.
            if peer["state"] == "parked" or (
                peer["state"] == "ok" and now - peer["first_failure_at"] > park_after
            ):
                peer["state"], peer["parked_until"] = "parked", now + park_for
            continue
        if peer["consecutive_failures"] or peer["state"] == "parked":
            recovered.add(host)
        peer["consecutive_failures"], peer["first_failure_at"] = 0, None
        if peer["state"] == "parked":
            peer["state"], peer["parked_until"] = "ok", None
        if event == "success":
            peer["last_success_at"] = now
    write = update(PeerHost).where(PeerHost.host == bindparam("b_host"))
    write = write.values({name: bindparam(f"b_{name}") for name in _HEALTH})
    conn.execute(
        write,
        [{"b_host": host, **{f"b_{n}": peer[n] for n in _HEALTH}} for host, peer in peers.items()],
    )
    if recovered:
        # The host is back: its backlog need not sit out the backoff it built up while down.
        conn.execute(
            update(Delivery)
            .where(
                Delivery.host.in_(sorted(recovered)),
                Delivery.state == "pending",
                Delivery.next_attempt_at > now,
            )
            .values(next_attempt_at=now)
        )


class Outcome(Protocol):
    """A claimed delivery after its turn."""

    id: int
    host: str
    attempts: int  # before this turn
    attempt: Attempt | None  # None: not sent, because the host failed moments ago
    deferred_until: datetime | None


class HealthCache:
    """Hosts known to be healthy, so that outcomes which change nothing skip the write."""

    def __init__(self) -> None:
        self._healthy: dict[str, float] = {}  # host → monotonic time its success was written

    def forget(self) -> None:
        """Trust nothing: the next event of every host is written."""
        self._healthy.clear()

    def changes(self, host: str, event: HostEvent) -> bool:
        """Whether an event changes what the database knows of the host (most do not)."""
        clock, last = time.monotonic(), self._healthy.get(host)
        if event == "failure":
            self._healthy.pop(host, None)
            return True
        if last is not None and (event == "answered" or clock - last < HEALTH_REFRESH):
            return False
        self._healthy[host] = clock if event == "success" else float("-inf")
        return True


# One statement each for all retried or failed rows, and all deferred rows (executemany).
# Built once, on the table rather than the ORM entity: the recorder runs them all the time.
_TABLE = Delivery.metadata.tables[Delivery.__tablename__]
_ROWS = _TABLE.c
_DONE = (
    update(_TABLE)
    .where(_ROWS.id.in_(bindparam("b_ids", expanding=True)))
    .values(state="done", attempts=_ROWS.attempts + 1, lease_until=None,
            delivered_at=bindparam("b_now"), last_status=bindparam("b_status"), last_error=None)
)  # fmt: skip
_RETRY = (
    update(_TABLE)
    .where(_ROWS.id == bindparam("b_id"))
    .values(state=bindparam("b_state"), attempts=_ROWS.attempts + 1, lease_until=None,
            next_attempt_at=bindparam("b_next"), last_status=bindparam("b_status"),
            last_error=bindparam("b_error"))
)  # fmt: skip
_DROP = (
    update(_TABLE)
    .where(_ROWS.id == bindparam("b_id"))
    .values(state="failed", lease_until=None, last_error=bindparam("b_error"))
)
_DEFER = (
    update(_TABLE)
    .where(_ROWS.id == bindparam("b_id"))
    .values(state="pending", lease_until=None, next_attempt_at=bindparam("b_next"))
)


def record_outcomes(
    conn: Connection,
    outcomes: Sequence[Outcome],
    now: datetime,
    settings: Settings,
    rng: random.Random,
    health: HealthCache,
) -> None:
    """Store a batch of outcomes with a few statements for the whole batch, not per row."""
    done: dict[int | None, list[int]] = defaultdict(list)  # status → ids
    retried: list[dict[str, Any]] = []
    deferred: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    events: list[tuple[str, HostEvent]] = []
    for outcome in outcomes:
        attempt = outcome.attempt
        if attempt is None:  # not sent: keeps its attempts and last result
            deferred.append({"b_id": outcome.id, "b_next": outcome.deferred_until or now})
            continue
        if not attempt.sent:  # never left this node: its host says nothing, no attempt counts
            dropped.append({"b_id": outcome.id, "b_error": attempt.error})
            continue
        verdict = judge(attempt, outcome.attempts + 1, now, settings, rng.uniform(0.8, 1.2))
        if verdict.state == "done":
            done[attempt.status].append(outcome.id)
        else:
            retried.append(
                {"b_id": outcome.id, "b_state": verdict.state, "b_next": verdict.next_attempt_at,
                 "b_status": attempt.status, "b_error": attempt.error}
            )  # fmt: skip
        event = verdict.host_event
        if event is not None and health.changes(outcome.host, event):
            events.append((outcome.host, event))
    for status, ids in done.items():
        conn.execute(_DONE, {"b_ids": ids, "b_now": now, "b_status": status})
    if retried:
        conn.execute(_RETRY, retried)
    if deferred:
        conn.execute(_DEFER, deferred)
    if dropped:
        conn.execute(_DROP, dropped)
    record_host_events(conn, events, now, settings)

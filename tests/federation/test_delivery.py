"""The durable delivery queue against a real receiving peer that verifies every signature."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer
from sqlalchemy import Engine, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.delivery import DeliveryQueue, Rendered, dispatch_pending
from federation.delivery_report import delivery_status
from federation.hosts import Attempt, judge, parse_retry_after, retry_delay
from federation.httpsig import PublicKey, SignatureError, parse_signature, verify_signature
from federation.urls import activity_id
from node.db import create_thread_engine, unit_of_work
from node.models import Delivery, OutboxActivity, PeerHost, utcnow
from node.settings import Settings
from tests.federation.delivery_sender import (
    SenderLibrary,
    add_activities,
    create_library,
    document,
    render_to,
)

Sessions = async_sessionmaker[AsyncSession]
Answer = tuple[int, dict[str, str], str]


class FakePeer:
    """A receiving server on a real port: checks signatures, then answers as scripted.

    Unsigned or badly signed requests get 401. ``script`` holds the next answers (status,
    headers, body); once it is empty every valid request is recorded and answered 202.
    """

    def __init__(self, server_factory: AiohttpServer, keys: dict[str, PublicKey]) -> None:
        self.server_factory = server_factory
        self.keys = keys
        self.script: deque[Answer] = deque()
        self.always: Answer | None = None  # answer every request like this
        self.delay = 0.0  # seconds each accepted request takes
        self.in_flight = 0
        self.hits = 0  # every request, accepted or not
        self.received: list[str] = []  # activity ids of accepted requests, duplicates kept
        self.server: TestServer | None = None
        self.port = 0

    async def start(self) -> None:
        """Listen (again) on the same port."""
        app = web.Application()
        app.router.add_post("/inbox", self.inbox)
        app.router.add_post("/users/{name}/inbox", self.inbox)
        self.server = await self.server_factory(app, port=self.port or None)
        self.port = self.server.port or 0

    async def stop(self) -> None:
        """Go down: connections are refused until start()."""
        assert self.server is not None
        await self.server.close()

    def url(self, path: str = "/inbox") -> str:
        """An inbox URL on this peer."""
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def host(self) -> str:
        """The host deliveries to this peer are grouped by."""
        return f"127.0.0.1:{self.port}"

    async def inbox(self, request: web.Request) -> web.Response:
        """Verify, then answer from the script or accept."""
        self.hits += 1
        body = await request.read()
        try:
            parsed = parse_signature(request.method, str(request.url), request.headers, body)
            key = self.keys.get(parsed.key_id)
            if key is None:
                return web.Response(status=401, text=f"unknown key {parsed.key_id}")
            verify_signature(parsed, key, datetime.now(UTC))
        except SignatureError as exc:
            return web.Response(status=401, text=str(exc))
        if request.content_type != "application/activity+json":
            return web.Response(status=415)
        if self.delay:
            self.in_flight += 1
            try:
                await asyncio.sleep(self.delay)
            finally:
                self.in_flight -= 1
        answer = self.script.popleft() if self.script else self.always
        if answer is not None:
            status, headers, text = answer
            return web.Response(status=status, headers=headers, text=text)
        self.received.append((await request.json())["id"])
        return web.Response(status=202)


class Clock:
    """A settable clock for the queue's scheduling (signatures still use real time)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


async def wait_for(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Poll until ``check`` holds, or fail the test."""
    async with asyncio.timeout(seconds):
        # The database has no event to wait on: polling is the way to watch it.
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def rows(sessions: Sessions) -> list[Delivery]:
    """Every delivery row, oldest first."""
    async with sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


def states(sessions: Sessions, *wanted: str) -> Callable[[], Awaitable[bool]]:
    """A check: every delivery row is in one of the wanted states."""

    async def check() -> bool:
        found = await rows(sessions)
        return bool(found) and all(row.state in wanted for row in found)

    return check


async def peer_host(sessions: Sessions, host: str) -> PeerHost:
    """The health row of a host."""
    async with sessions() as session:
        return await session.get_one(PeerHost, host)


@pytest.fixture
def thread_engine(database_url: str) -> Iterator[Engine | None]:
    """The queue's engine for transactions in worker threads, as the node has it on SQLite
    (None on PostgreSQL, where they run through ``run_sync``)."""
    engine = create_thread_engine(database_url)
    yield engine
    if engine is not None:
        engine.dispose()


@pytest.fixture
def fast(settings: Settings) -> Settings:
    """Settings with tiny delays so retries happen within a test."""
    return dataclasses.replace(
        settings,
        delivery_poll_seconds=0.02,
        delivery_retry_base_seconds=0.02,
        delivery_retry_cap_seconds=0.1,
        delivery_workers=4,
    )


@pytest.fixture
async def library(sessionmaker: Sessions, settings: Settings) -> SenderLibrary:
    """The sending library."""
    return await create_library(sessionmaker, settings)


@pytest.fixture
async def peer(aiohttp_server: AiohttpServer, library: SenderLibrary) -> FakePeer:
    """A receiving peer that knows the library's key."""
    fake = FakePeer(aiohttp_server, {library.key_id: library.public_key})
    await fake.start()
    return fake


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    """The one HTTP client of the sending node."""
    async with aiohttp.ClientSession() as session:
        yield session


def ids(settings: Settings, uids: Sequence[str]) -> list[str]:
    """Activity ids as the receiver sees them."""
    return [activity_id(settings, uid) for uid in uids]


async def test_fake_peer_rejects_unsigned_and_foreign_signatures(
    peer: FakePeer, client: aiohttp.ClientSession
) -> None:
    headers = {"Content-Type": "application/activity+json"}
    async with client.post(peer.url(), data=b'{"id": "x"}', headers=headers) as resp:
        assert resp.status == 401
    signed = {**headers, "Signature": 'keyId="https://elsewhere.example/k",signature="AAAA"'}
    async with client.post(peer.url(), data=b"{}", headers=signed) as resp:
        assert resp.status == 401
    assert peer.received == []


async def test_dispatch_fans_out_to_distinct_inboxes(
    sessionmaker: Sessions, settings: Settings, library: SenderLibrary
) -> None:
    first, second = await add_activities(sessionmaker, library.id, 2)
    inboxes = [
        "https://a.example/inbox",
        "https://b.example:8443/users/x/inbox",
        "https://a.example/inbox",  # the render already deduplicates; a slip costs nothing
        "https://a.example/users/y/inbox",
        "ftp://c.example/inbox",
    ]

    async def render(session: AsyncSession, activity: OutboxActivity) -> Rendered | None:
        if activity.uid == second:
            return None  # nothing to send, e.g. the measure was deleted meanwhile
        return Rendered(document(settings, activity), inboxes)

    assert await dispatch_pending(sessionmaker, render) == 2
    assert await dispatch_pending(sessionmaker, render) == 0
    found = await rows(sessionmaker)
    assert [(r.inbox, r.host, r.state) for r in found] == [
        ("https://a.example/inbox", "a.example", "pending"),
        ("https://b.example:8443/users/x/inbox", "b.example:8443", "pending"),
        ("https://a.example/users/y/inbox", "a.example", "pending"),
        ("ftp://c.example/inbox", "", "failed"),
    ]
    assert found[-1].last_error == "invalid inbox URL"
    async with sessionmaker() as session:
        activities = {a.uid: a for a in await session.scalars(select(OutboxActivity))}
    assert activities[first].payload == document(settings, activities[first])
    assert activities[first].dispatched_at is not None
    assert activities[second].dispatched_at is not None
    assert activities[second].payload is None


async def test_a_failing_render_leaves_its_activity_whole(
    sessionmaker: Sessions, settings: Settings, library: SenderLibrary
) -> None:
    broken, _ = await add_activities(sessionmaker, library.id, 2)

    async def render(session: AsyncSession, activity: OutboxActivity) -> Rendered:
        if activity.uid == broken:
            await session.execute(update(OutboxActivity).values(object_ref="changed"))
            raise RuntimeError("render bug")
        return Rendered(document(settings, activity), ["https://a.example/inbox"])

    assert await dispatch_pending(sessionmaker, render) == 1
    async with sessionmaker() as session:
        undispatched = list(
            await session.scalars(
                select(OutboxActivity.uid).where(OutboxActivity.dispatched_at.is_(None))
            )
        )
        refs = set(await session.scalars(select(OutboxActivity.object_ref)))
    assert undispatched == [broken]
    assert "changed" not in refs  # the failed unit of work was rolled back entirely
    assert len(await rows(sessionmaker)) == 1  # only the good activity fanned out


async def test_delivers_a_signed_activity(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    uids = await add_activities(sessionmaker, library.id, 3)
    render = render_to(fast, [peer.url(), peer.url("/users/x/inbox")])
    async with DeliveryQueue(sessionmaker, client, fast, render, thread_engine=thread_engine):
        await wait_for(states(sessionmaker, "done"))
    assert sorted(peer.received) == sorted(ids(fast, uids) * 2)
    for row in await rows(sessionmaker):
        assert (row.attempts, row.last_status, row.last_error) == (1, 202, None)
        assert row.delivered_at is not None
        assert row.lease_until is None
    health = await peer_host(sessionmaker, peer.host)
    assert (health.state, health.consecutive_failures) == ("ok", 0)
    assert health.last_success_at is not None


async def test_notify_wakes_the_queue(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    slow_poll = dataclasses.replace(fast, delivery_poll_seconds=30)
    wake = asyncio.Event()  # the app's wake-up event, set by services after recording
    render = render_to(fast, [peer.url()])
    async with DeliveryQueue(
        sessionmaker, client, slow_poll, render, wake=wake, thread_engine=thread_engine
    ) as queue:
        await asyncio.sleep(0.1)  # the queue found nothing and sleeps for 30 s
        first = await add_activities(sessionmaker, library.id, 1)
        wake.set()
        await wait_for(states(sessionmaker, "done"), seconds=5)
        second = await add_activities(sessionmaker, library.id, 1)
        queue.notify()
        await wait_for(lambda: _count(sessionmaker, "done", 2), seconds=5)
    assert peer.received == ids(fast, first + second)


async def test_batched_recording_delivers_each_activity_once(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    uids = await add_activities(sessionmaker, library.id, 300)
    render = render_to(fast, [peer.url()])
    async with DeliveryQueue(
        sessionmaker, client, fast, render, max_unrecorded=64, thread_engine=thread_engine
    ):
        await wait_for(lambda: _count(sessionmaker, "done", 300))
    assert sorted(peer.received) == sorted(ids(fast, uids))


async def test_retries_server_errors_then_succeeds(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    peer.script.extend([(500, {}, "oops"), (502, {}, "bad gateway")])
    uids = await add_activities(sessionmaker, library.id, 1)
    async with DeliveryQueue(
        sessionmaker, client, fast, render_to(fast, [peer.url()]), thread_engine=thread_engine
    ):
        await wait_for(states(sessionmaker, "done"))
    (row,) = await rows(sessionmaker)
    assert (row.attempts, row.last_status) == (3, 202)
    assert peer.hits == 3
    assert peer.received == ids(fast, uids)
    health = await peer_host(sessionmaker, peer.host)
    assert (health.consecutive_failures, health.first_failure_at) == (0, None)


async def test_a_definite_4xx_fails_for_good(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    peer.always = (410, {}, "Gone:   this inbox\nis closed " + "x" * 500)
    await add_activities(sessionmaker, library.id, 1)
    async with DeliveryQueue(
        sessionmaker, client, fast, render_to(fast, [peer.url()]), thread_engine=thread_engine
    ):
        await wait_for(states(sessionmaker, "failed"))
        await asyncio.sleep(0.2)  # several retry periods: nothing more goes out
    (row,) = await rows(sessionmaker)
    assert (row.attempts, row.last_status, peer.hits) == (1, 410, 1)
    assert row.last_error is not None
    assert row.last_error.startswith("Gone: this inbox is closed x")
    assert len(row.last_error) == 200
    # The host answered, so it is healthy even though this inbox refused.
    assert (await peer_host(sessionmaker, peer.host)).consecutive_failures == 0


async def test_gives_up_after_max_attempts(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    settings = dataclasses.replace(fast, delivery_max_attempts=3)
    peer.always = (503, {}, "maintenance")
    await add_activities(sessionmaker, library.id, 1)
    async with DeliveryQueue(
        sessionmaker, client, settings, render_to(fast, [peer.url()]), thread_engine=thread_engine
    ):
        await wait_for(states(sessionmaker, "failed"))
    (row,) = await rows(sessionmaker)
    assert (row.attempts, row.last_status, row.last_error, peer.hits) == (3, 503, "maintenance", 3)
    assert (await peer_host(sessionmaker, peer.host)).consecutive_failures == 3


@pytest.mark.parametrize("header", ["120", "date"])
async def test_retry_after_is_honoured(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    header: str,
    thread_engine: Engine | None,
) -> None:
    settings = dataclasses.replace(fast, delivery_retry_cap_seconds=3600)
    clock = Clock()
    clock.now = clock.now.replace(microsecond=0)  # HTTP dates have whole seconds
    if header == "date":
        header = format_datetime(clock.now + timedelta(seconds=120), usegmt=True)
    peer.script.append((429, {"Retry-After": header}, "slow down"))
    uids = await add_activities(sessionmaker, library.id, 1)
    render = render_to(fast, [peer.url()])
    async with DeliveryQueue(
        sessionmaker, client, settings, render, now=clock, thread_engine=thread_engine
    ):
        await wait_for(lambda: _attempted(sessionmaker))
        (row,) = await rows(sessionmaker)
        assert (row.state, row.last_status) == ("pending", 429)
        assert row.next_attempt_at == clock.now + timedelta(seconds=120)
        clock.advance(119)
        await asyncio.sleep(0.2)
        assert peer.hits == 1
        clock.advance(1)
        await wait_for(states(sessionmaker, "done"))
    assert peer.received == ids(fast, uids)
    # 429 is "slow down", not "down": the host's health is untouched.
    assert (await peer_host(sessionmaker, peer.host)).consecutive_failures == 0


async def _attempted(sessions: Sessions) -> bool:
    found = await rows(sessions)
    return bool(found) and all(row.attempts > 0 and row.state != "sending" for row in found)


def test_retry_policy() -> None:
    s = Settings(delivery_retry_base_seconds=30, delivery_retry_cap_seconds=3600)
    assert [retry_delay(n, s, 1.0) for n in (1, 2, 3, 8, 100)] == [30, 60, 120, 3600, 3600]
    delays = [retry_delay(2, s, random.uniform(0.8, 1.2)) for _ in range(200)]
    assert 48 <= min(delays) < max(delays) <= 72  # jitter spreads retries of a big fan-out
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("45", now) == 45
    assert parse_retry_after("Sun, 01 Mar 2026 12:02:00 GMT", now) == 120
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
    # Retry-After is capped; other statuses have their meaning.
    huge = judge(Attempt(429, retry_after="999999"), 1, now, s, 1.0)
    assert huge.next_attempt_at == now + timedelta(seconds=3600)
    assert judge(Attempt(408), 1, now, s, 1.0).state == "pending"
    assert judge(Attempt(404), 1, now, s, 1.0).state == "failed"
    assert judge(Attempt(301), 1, now, s, 1.0).state == "failed"
    assert judge(Attempt(None), 1, now, s, 1.0).host_event == "failure"
    assert judge(Attempt(error="unsafe", permanent=True), 1, now, s, 1.0).state == "failed"
    assert judge(Attempt(500), s.delivery_max_attempts, now, s, 1.0).state == "failed"


async def test_a_long_dead_host_is_parked_then_resumed(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    settings = dataclasses.replace(
        fast,
        delivery_retry_base_seconds=1,
        delivery_retry_cap_seconds=10,
        host_park_after_seconds=60,
        host_park_seconds=600,
    )
    clock = Clock()
    await peer.stop()
    uids = await add_activities(sessionmaker, library.id, 1)
    render = render_to(settings, [peer.url()])
    async with DeliveryQueue(
        sessionmaker, client, settings, render, now=clock, thread_engine=thread_engine
    ):
        await wait_for(lambda: _attempted(sessionmaker))
        health = await peer_host(sessionmaker, peer.host)
        assert (health.state, health.consecutive_failures) == ("ok", 1)
        assert health.first_failure_at == clock.now

        clock.advance(61)  # failing for over a minute now: the next failure parks the host
        await wait_for(lambda: _failures(sessionmaker, peer.host, 2))
        health = await peer_host(sessionmaker, peer.host)
        assert health.state == "parked"
        assert health.parked_until == clock.now + timedelta(seconds=600)

        await peer.start()  # back up, but parked: nothing goes out until the pause is over
        uids += await add_activities(sessionmaker, library.id, 2)
        clock.advance(300)
        await asyncio.sleep(0.3)
        assert peer.hits == 0
        assert {row.state for row in await rows(sessionmaker)} == {"pending"}

        clock.advance(301)  # the pause is over: one probe, its success resumes the rest
        await wait_for(states(sessionmaker, "done"))
    assert sorted(peer.received) == sorted(ids(settings, uids))
    health = await peer_host(sessionmaker, peer.host)
    assert (health.state, health.consecutive_failures, health.parked_until) == ("ok", 0, None)


async def _failures(sessions: Sessions, host: str, count: int) -> bool:
    return (await peer_host(sessions, host)).consecutive_failures >= count


async def test_a_blocked_host_is_never_contacted(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    aiohttp_server: AiohttpServer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    other = FakePeer(aiohttp_server, peer.keys)
    await other.start()
    async with unit_of_work(sessionmaker) as session:
        session.add(PeerHost(host=peer.host, state="blocked"))
    uids = await add_activities(sessionmaker, library.id, 2)
    render = render_to(fast, [peer.url(), other.url()])
    async with DeliveryQueue(sessionmaker, client, fast, render, thread_engine=thread_engine):
        await wait_for(states(sessionmaker, "done", "failed"))
    assert peer.hits == 0
    assert sorted(other.received) == sorted(ids(fast, uids))
    blocked = [row for row in await rows(sessionmaker) if row.host == peer.host]
    assert [(r.state, r.last_error, r.attempts) for r in blocked] == [
        ("failed", "host blocked", 0)
    ] * 2


async def test_a_host_blocked_while_its_rows_are_queued_gets_no_more(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    """Rows claimed before a block are not sent after the queue's next upkeep sees it."""
    settings = dataclasses.replace(fast, delivery_workers=1)
    peer.delay = 0.3  # slow answers: the block lands while most rows wait in the queue
    await add_activities(sessionmaker, library.id, 6)
    async with DeliveryQueue(
        sessionmaker, client, settings, render_to(fast, [peer.url()]), thread_engine=thread_engine
    ):
        await wait_for(lambda: _hit(peer))
        async with unit_of_work(sessionmaker) as session:
            # merge: recording the first success may have written the host's row already
            await session.merge(PeerHost(host=peer.host, state="blocked"))
        await wait_for(states(sessionmaker, "done", "failed"))
    found = await rows(sessionmaker)
    blocked = [row for row in found if row.last_error == "host blocked"]
    assert peer.hits <= 2  # the POST in flight at the block, perhaps the one after it
    assert len(blocked) == 6 - peer.hits
    # never sent, so no attempt counts (as for rows failed before any claim)
    assert {(row.state, row.attempts) for row in blocked} == {("failed", 0)}


async def test_an_unblocked_host_gets_new_deliveries_before_the_next_upkeep(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    """The queue's block list from its last upkeep does not outlive an unblock."""
    settings = dataclasses.replace(fast, delivery_poll_seconds=30)  # one upkeep: the first
    async with unit_of_work(sessionmaker) as session:
        session.add(PeerHost(host=peer.host, state="blocked"))
    await add_activities(sessionmaker, library.id, 1)
    render = render_to(settings, [peer.url()])
    await dispatch_pending(sessionmaker, render)  # its row exists when the first upkeep runs
    async with DeliveryQueue(
        sessionmaker, client, settings, render, thread_engine=thread_engine
    ) as queue:
        await wait_for(states(sessionmaker, "failed"))  # the first upkeep saw the block
        async with unit_of_work(sessionmaker) as session:
            host = await session.get(PeerHost, peer.host)
            assert host is not None
            host.state = "ok"
        uids = await add_activities(sessionmaker, library.id, 2)
        queue.notify()
        await wait_for(lambda: _received(peer, 2))
    assert sorted(peer.received) == sorted(ids(settings, uids))


async def _received(peer: FakePeer, count: int) -> bool:
    return len(peer.received) >= count


async def _hit(peer: FakePeer) -> bool:
    return peer.hits >= 1


async def test_private_inboxes_are_refused_unless_allowed(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    settings = dataclasses.replace(fast, allow_private_peers=False)
    await add_activities(sessionmaker, library.id, 1)
    async with DeliveryQueue(
        sessionmaker, client, settings, render_to(fast, [peer.url()]), thread_engine=thread_engine
    ):
        await wait_for(states(sessionmaker, "failed"))
    (row,) = await rows(sessionmaker)
    assert (peer.hits, row.last_status) == (0, None)
    assert "refusing" in (row.last_error or "")


async def test_expired_leases_are_recovered_after_a_crash(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    clock = Clock()
    render = render_to(fast, [peer.url()])
    uids = await add_activities(sessionmaker, library.id, 3)
    assert await dispatch_pending(sessionmaker, render, now=clock) == 3
    # What a killed node leaves behind: rows claimed (sending) whose POSTs never finished.
    crashed, live, _ = (row.id for row in await rows(sessionmaker))
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == crashed)
            .values(state="sending", lease_until=clock.now - timedelta(seconds=1))
        )
        await session.execute(
            update(Delivery)
            .where(Delivery.id == live)
            .values(state="sending", lease_until=clock.now + timedelta(minutes=4))
        )
    async with DeliveryQueue(
        sessionmaker, client, fast, render, now=clock, thread_engine=thread_engine
    ):
        await wait_for(lambda: _count(sessionmaker, "done", 2))
        await asyncio.sleep(0.2)
        # A lease still running may belong to a live sender: it is left alone until it ends.
        assert sorted(peer.received) == sorted(ids(fast, [uids[0], uids[2]]))
        clock.advance(5 * 60)
        await wait_for(states(sessionmaker, "done"))
    assert sorted(peer.received) == sorted(ids(fast, uids))


async def _count(sessions: Sessions, state: str, count: int) -> bool:
    async with sessions() as session:
        query = select(func.count()).select_from(Delivery).where(Delivery.state == state)
        return (await session.scalar(query)) == count


async def test_stop_releases_claimed_rows(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    peer.delay = 5.0  # every POST is still in flight when the queue stops
    await add_activities(sessionmaker, library.id, 30)
    async with DeliveryQueue(
        sessionmaker, client, fast, render_to(fast, [peer.url()]), thread_engine=thread_engine
    ):
        await wait_for(lambda: _hits(peer, fast.delivery_workers))
        assert await _count(sessionmaker, "sending", 30)  # claimed ahead: more than in flight
    assert {row.state for row in await rows(sessionmaker)} == {"pending"}
    assert {row.lease_until for row in await rows(sessionmaker)} == {None}


async def _hits(peer: FakePeer, count: int) -> bool:
    return peer.hits >= count


async def test_delivery_status_per_activity_and_host(
    sessionmaker: Sessions,
    fast: Settings,
    library: SenderLibrary,
    peer: FakePeer,
    aiohttp_server: AiohttpServer,
    client: aiohttp.ClientSession,
    thread_engine: Engine | None,
) -> None:
    gone = FakePeer(aiohttp_server, peer.keys)
    await gone.start()
    gone.always = (410, {}, "no such inbox")
    first, second = await add_activities(sessionmaker, library.id, 2)
    blocked = "blocked.example"
    async with unit_of_work(sessionmaker) as session:
        session.add(PeerHost(host=blocked, state="blocked"))

    async def render(session: AsyncSession, activity: OutboxActivity) -> Rendered:
        inboxes = [peer.url(), f"https://{blocked}/inbox"]
        if activity.uid == first:
            inboxes.append(gone.url())
        return Rendered(document(fast, activity), inboxes)

    async with DeliveryQueue(sessionmaker, client, fast, render, thread_engine=thread_engine):
        await wait_for(states(sessionmaker, "done", "failed"))
    async with sessionmaker() as session:
        report = await delivery_status(session)

    by_uid = {a.uid: a for a in report.activities}
    assert [a.uid for a in report.activities] == [second, first]  # newest first
    assert (by_uid[first].counts.done, by_uid[first].counts.failed) == (1, 2)
    assert (by_uid[second].counts.done, by_uid[second].counts.failed) == (1, 1)
    assert (by_uid[first].counts.total, by_uid[first].activity_type) == (3, "Create")
    hosts = {h.host: h for h in report.hosts}
    assert set(hosts) == {peer.host, gone.host, blocked}
    ok, refused, never = hosts[peer.host], hosts[gone.host], hosts[blocked]
    assert (ok.state, ok.counts.done, ok.counts.failed, ok.last_error) == ("ok", 2, 0, None)
    assert ok.last_success_at is not None
    assert (refused.counts.failed, refused.last_error) == (1, "no such inbox")
    assert (refused.last_success_at, refused.consecutive_failures) == (None, 0)
    assert (never.state, never.counts.failed, never.last_error) == ("blocked", 2, "host blocked")

"""The inbox rejects what it must: tampering, wrong keys, stale dates, foreign objects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from node.libraries import create_library
from node.models import InboxActivity, Measure, RemoteActor, Reply, utcnow
from tests.federation.fake_peer import FakePeer, ServerFactory, start_fake_peer
from tests.peers import Network, RunningNode


@pytest.fixture
async def setup(network: Network, aiohttp_server: ServerFactory) -> tuple[RunningNode, FakePeer]:
    node = await network.start("target")

    async def work(session: Any) -> None:
        await create_library(session, node.vocab, "heideloh", {"name": "Heideloh"})

    await node.work(work)
    peer = await start_fake_peer(aiohttp_server)
    peer.add_actor("alice")
    peer.add_actor("mallory")
    return node, peer


def reply(
    peer: FakePeer, node: RunningNode, n: int, *, obj_host: str | None = None, by: str = "alice"
) -> dict[str, Any]:
    return peer.reply(n, f"{node.url}/measures/unknown", by=by, obj_base=obj_host)


async def stored_count(node: RunningNode) -> int:
    """Activities stored, counting what the inbox has spooled so far."""
    await node.store_inbox()
    async with node.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxActivity)) or 0)


async def test_valid_activity_is_accepted_and_stored(setup: tuple[RunningNode, FakePeer]) -> None:
    node, peer = setup
    status, _ = await peer.post(
        f"{node.url}/inbox", reply(peer, node, 1), signer=peer.actors["alice"]
    )
    assert status == 202
    assert await stored_count(node) == 1
    # the same activity again is acknowledged but stored once
    status, _ = await peer.post(
        f"{node.url}/inbox", reply(peer, node, 1), signer=peer.actors["alice"]
    )
    assert status == 202
    assert await stored_count(node) == 1


async def test_json_beyond_the_fast_parser_is_read_as_before(
    setup: tuple[RunningNode, FakePeer],
) -> None:
    """orjson turns integers beyond 64 bits into floats; such a (valid) activity is stored
    with the number intact, as the standard library's parser reads it."""
    node, peer = setup
    activity = reply(peer, node, 7)
    activity["object"]["bigNumber"] = 2**70 + 1  # not exactly representable as a float
    status, _ = await peer.post(f"{node.url}/inbox", activity, signer=peer.actors["alice"])
    assert status == 202
    await node.store_inbox()
    async with node.sessions() as session:
        payload = await session.scalar(select(InboxActivity.payload))
    assert payload is not None
    number = payload["object"]["bigNumber"]
    assert type(number) is int
    assert number == 2**70 + 1


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("tampered body", 401, "does not match the request body"),
        ("wrong key", 401, "signature does not verify"),
        ("expired date", 401, "is more than 1:00:00 away"),
        ("date in the future", 401, "is more than 1:00:00 away"),
        ("key of another actor", 401, "does not belong to the activity's actor"),
        ("object on another host", 403, "another host"),
        ("unsigned", 401, "unsigned"),
        ("not json", 400, "not valid JSON"),
        ("NaN", 400, "not valid JSON"),
        ("nested too deep", 400, "not valid JSON"),
    ],
)
async def test_bad_requests_are_rejected_and_change_nothing(
    setup: tuple[RunningNode, FakePeer], case: str, status: int, reason: str
) -> None:
    node, peer = setup
    alice, mallory = peer.actors["alice"], peer.actors["mallory"]
    url = f"{node.url}/libraries/heideloh/inbox"
    activity = reply(peer, node, 7)
    if case == "tampered body":
        got = await peer.post(
            url,
            activity,
            signer=alice,
            tamper=lambda b: b.replace(b"Ehrenamtliche", b"Hauptamtliche"),
        )
    elif case == "wrong key":
        # signed with Mallory's private key but claiming Alice's key id
        got = await peer.post(url, activity, signer=mallory, key_id=alice.key_id)
    elif case == "expired date":
        got = await peer.post(url, activity, signer=alice, now=utcnow() - timedelta(hours=2))
    elif case == "date in the future":
        got = await peer.post(url, activity, signer=alice, now=utcnow() + timedelta(hours=2))
    elif case == "key of another actor":
        got = await peer.post(url, activity, signer=mallory)  # actor is Alice
    elif case == "object on another host":
        got = await peer.post(
            url, reply(peer, node, 8, obj_host="https://elsewhere.example"), signer=alice
        )
    elif case == "NaN":  # json.dumps writes NaN; it is not JSON, PostgreSQL refuses it
        activity["object"]["rating"] = float("nan")
        got = await peer.post(url, activity, signer=alice)
    elif case == "nested too deep":
        deep: list[Any] = []
        for _ in range(100):
            deep = [deep]
        activity["object"]["deep"] = deep
        got = await peer.post(url, activity, signer=alice)
    elif case == "unsigned":
        import aiohttp

        async with (
            aiohttp.ClientSession() as client,
            client.post(
                url, json=activity, headers={"Content-Type": "application/activity+json"}
            ) as resp,
        ):
            got = (resp.status, await resp.text())
    else:
        import aiohttp

        async with (
            aiohttp.ClientSession() as client,
            client.post(
                url, data=b"{not json", headers={"Content-Type": "application/activity+json"}
            ) as resp,
        ):
            got = (resp.status, await resp.text())
    assert got[0] == status, got
    assert reason in got[1]
    assert "Traceback" not in got[1]
    assert await stored_count(node) == 0
    async with node.sessions() as session:
        for table in (Measure, Reply):
            assert await session.scalar(select(func.count()).select_from(table)) == 0


async def test_delete_from_unknown_actor_is_acknowledged_without_fetching(
    setup: tuple[RunningNode, FakePeer],
) -> None:
    node, peer = setup
    ghost = peer.add_actor("ghost")
    activity = {
        "id": f"{peer.base}/activities/del",
        "type": "Delete",
        "actor": ghost.id,
        "object": ghost.id,
    }
    status, _ = await peer.post(f"{node.url}/inbox", activity, signer=ghost)
    assert status == 202
    assert await stored_count(node) == 0
    async with node.sessions() as session:
        assert (
            await session.scalar(select(RemoteActor.id).where(RemoteActor.ap_id == ghost.id))
            is None
        )


async def test_burst_from_a_new_actor_is_accepted(setup: tuple[RunningNode, FakePeer]) -> None:
    """The first contact often comes as several parallel requests; none may fail."""
    import asyncio

    node, peer = setup
    alice = peer.add_actor("burst")
    results = await asyncio.gather(
        *(
            peer.post(
                f"{node.url}/inbox",
                reply(peer, node, 100 + i, by="burst"),
                signer=alice,
            )
            for i in range(8)
        )
    )
    assert [status for status, _ in results] == [202] * 8, results


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": ' + b"1" * 5000 + b"}",  # a number longer than Python parses
        b"[" * 100_000,  # nesting deeper than the recursion limit
    ],
)
async def test_hostile_json_is_a_400(setup: tuple[RunningNode, FakePeer], body: bytes) -> None:
    import aiohttp

    node, _peer = setup
    async with (
        aiohttp.ClientSession() as client,
        client.post(
            f"{node.url}/inbox", data=body, headers={"Content-Type": "application/activity+json"}
        ) as resp,
    ):
        assert resp.status == 400
        assert "not valid JSON" in await resp.text()


async def test_broken_actor_url_is_a_400(setup: tuple[RunningNode, FakePeer]) -> None:
    node, peer = setup
    activity = reply(peer, node, 9) | {"actor": "http://[x/a"}
    status, text = await peer.post(f"{node.url}/inbox", activity, signer=peer.actors["alice"])
    assert status == 400
    assert "usable URL" in text


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # 2,048 characters but 6 KB of UTF-8: more than PostgreSQL indexes in one row
        ({"id_suffix": "€" * 2000}, "usable URL"),
        ({"id_suffix": "\ud800"}, "usable URL"),  # a lone surrogate: not text
        ({"type": "Create\ud800"}, "type is not text"),
    ],
)
async def test_ids_and_types_that_cannot_be_stored_are_a_400(
    setup: tuple[RunningNode, FakePeer], change: dict[str, str], reason: str
) -> None:
    """Checked before the 202: the spool stores only what the database can take."""
    node, peer = setup
    activity = reply(peer, node, 11)
    activity["id"] += change.get("id_suffix", "")
    activity["type"] = change.get("type", activity["type"])
    status, text = await peer.post(f"{node.url}/inbox", activity, signer=peer.actors["alice"])
    assert status == 400, text
    assert reason in text
    assert await stored_count(node) == 0


async def test_a_database_that_does_not_answer_is_a_503(
    setup: tuple[RunningNode, FakePeer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A look-up the caches cannot answer while the database is away: the sender is asked
    to retry (503 with a reason), nothing is stored, no stack trace."""
    from sqlalchemy.exc import OperationalError

    node, peer = setup

    async def away(*_args: Any) -> set[str]:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(node.fed.caches, "blocked_hosts", away)
    status, text = await peer.post(
        f"{node.url}/inbox", reply(peer, node, 12), signer=peer.actors["alice"]
    )
    assert status == 503, text
    assert "retry later" in text
    assert "Traceback" not in text
    monkeypatch.undo()
    assert await stored_count(node) == 0

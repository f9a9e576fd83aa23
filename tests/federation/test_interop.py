"""A bibnetz node and a Mastodon-like fake server: replies, consent, approvals, blocks."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.following import unfollow
from federation.moderation import block_host, decide_follower, list_followers
from node.libraries import create_library, get_local_library
from node.measures import create_measure
from node.models import Measure, Reply
from tests.federation.fake_peer import FakePeer, ServerFactory, follow_accepted, start_fake_peer
from tests.peers import Network, RunningNode, eventually


@pytest.fixture
async def pair(network: Network, aiohttp_server: ServerFactory) -> tuple[RunningNode, FakePeer]:
    node = await network.start("node")

    async def work(session: AsyncSession) -> None:
        await create_library(session, node.vocab, "heideloh", {"name": "Heideloh"})
        await create_library(
            session, node.vocab, "privat", {"name": "Privat", "manually_approves_followers": True}
        )

    await node.work(work)
    return node, await start_fake_peer(aiohttp_server)


async def _received(peer: FakePeer, kind: str) -> list[dict[str, Any]]:
    return [a for a in peer.received if a.get("type") == kind]


async def test_reply_from_mastodon_appears_under_the_measure(
    pair: tuple[RunningNode, FakePeer],
) -> None:
    node, peer = pair
    alice = peer.add_actor("alice")

    async def work(session: AsyncSession) -> str:
        library = await get_local_library(session, "heideloh")
        return (await create_measure(session, node.vocab, library, {"title": "Lesesommer"})).uid

    uid = await node.work(work)
    note = {
        "id": f"{peer.base}/users/alice/statuses/1/activity",
        "type": "Create",
        "actor": alice.id,
        "object": {
            "id": f"{peer.base}/users/alice/statuses/1",
            "type": "Note",
            "attributedTo": alice.id,
            "inReplyTo": f"{node.url}/measures/{uid}",
            "content": "<p>Klingt gut! Wie viele Kinder kamen?<script>x()</script></p>",
        },
    }
    status, _ = await peer.post(f"{node.url}/inbox", note, signer=alice)
    assert status == 202

    async def stored() -> Reply | None:
        async with node.sessions() as session:
            return await session.scalar(select(Reply))

    reply = await eventually(stored, what="reply stored")
    assert "Wie viele Kinder kamen?" in reply.content_html
    assert "<script>" not in reply.content_html
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{node.url}/measures/{uid}", headers={"Accept": "text/html"}) as resp,
    ):
        html = await resp.text()
    assert "Wie viele Kinder kamen?" in html
    assert "Alice" in html


def _article(peer: FakePeer, name: str, n: int) -> dict[str, Any]:
    actor = peer.actors[name]
    return {
        "id": f"{peer.base}/activities/create-{name}-{n}",
        "type": "Create",
        "actor": actor.id,
        "object": {
            "id": f"{peer.base}/articles/{name}-{n}",
            "type": "Article",
            "attributedTo": actor.id,
            "name": f"Artikel {n} von {name}",
            "content": "<p>Ein Blogartikel.</p>",
        },
    }


@pytest.mark.parametrize(
    ("extra", "indexed"),
    [
        ({"indexable": True}, True),
        ({"indexable": False}, False),
        ({"indexable": True, "searchableBy": ["https://example.org/followers"]}, False),
    ],
)
async def test_consent_of_non_bibnetz_authors_is_respected(
    pair: tuple[RunningNode, FakePeer], extra: dict[str, Any], indexed: bool
) -> None:
    node, peer = pair
    peer.add_actor("blog", **extra)
    await follow_accepted(node, peer, "blog", "heideloh")
    status, _ = await peer.post(
        f"{node.url}/inbox", _article(peer, "blog", 1), signer=peer.actors["blog"]
    )
    assert status == 202
    # a marker activity processed after the article tells us processing is done
    marker = _article(peer, "blog", 2) | {"type": "Like", "id": f"{peer.base}/likes/1"}
    await peer.post(f"{node.url}/inbox", marker, signer=peer.actors["blog"])

    async def processed() -> bool:
        from node.models import InboxActivity

        async with node.sessions() as session:
            rows = (await session.scalars(select(InboxActivity.processed_at))).all()
            return len(rows) >= 3 and all(r is not None for r in rows)

    await eventually(processed, what="inbox processed")
    async with node.sessions() as session:
        titles = (await session.scalars(select(Measure.title))).all()
    assert (titles == ["Artikel 1 von blog"]) is indexed


async def test_manual_approval_of_followers(pair: tuple[RunningNode, FakePeer]) -> None:
    node, peer = pair
    bob = peer.add_actor("bob")
    follow_activity = {
        "id": f"{peer.base}/follows/1",
        "type": "Follow",
        "actor": bob.id,
        "object": node.actor("privat"),
    }
    assert (await peer.post(f"{node.url}/libraries/privat/inbox", follow_activity, signer=bob))[
        0
    ] == 202
    rows = await eventually(lambda: list_followers(node.fed, "privat"), what="pending follower")
    assert [(r.actor, r.state) for r in rows] == [(bob.id, "pending")]
    assert await _received(peer, "Accept") == []

    assert await decide_follower(node.fed, "privat", bob.id, accept=True)
    [accept] = await eventually(lambda: _received(peer, "Accept"), what="Accept sent")
    assert accept["object"]["id"] == follow_activity["id"]
    assert accept["actor"] == node.actor("privat")


async def test_blocked_host_is_refused(pair: tuple[RunningNode, FakePeer]) -> None:
    node, peer = pair
    eve = peer.add_actor("eve")
    await block_host(node.fed, peer.server.host + f":{peer.server.port}", drop=True)
    follow_activity = {"id": f"{peer.base}/follows/2", "type": "Follow", "actor": eve.id,
                       "object": node.actor("heideloh")}  # fmt: skip
    status, text = await peer.post(f"{node.url}/inbox", follow_activity, signer=eve)
    assert status == 403
    assert "does not accept" in text


async def test_a_neighbour_on_the_same_host_cannot_delete_or_rewrite(
    pair: tuple[RunningNode, FakePeer],
) -> None:
    node, peer = pair
    peer.add_actor("blog", indexable=True)
    mallory = peer.add_actor("mallory")
    await follow_accepted(node, peer, "blog", "heideloh")
    create = _article(peer, "blog", 1)
    create["object"]["url"] = "javascript:alert(1)"
    await peer.post(f"{node.url}/inbox", create, signer=peer.actors["blog"])

    async def stored() -> Measure | None:
        async with node.sessions() as session:
            return await session.scalar(select(Measure))

    measure = await eventually(stored, what="article stored")
    assert measure.url == create["object"]["id"]  # the javascript: URL was not kept
    # Mallory first makes herself known (a Delete from a stranger is dropped unseen).
    hello = {"id": f"{peer.base}/likes/1", "type": "Like", "actor": mallory.id, "object": "x"}
    await peer.post(f"{node.url}/inbox", hello, signer=mallory)
    delete = {"id": f"{peer.base}/deletes/1", "type": "Delete", "actor": mallory.id,
              "object": create["object"]["id"]}  # fmt: skip
    assert (await peer.post(f"{node.url}/inbox", delete, signer=mallory))[0] == 202
    marker = {"id": f"{peer.base}/likes/2", "type": "Like", "actor": mallory.id, "object": "x"}
    await peer.post(f"{node.url}/inbox", marker, signer=mallory)

    async def processed() -> bool:
        from node.models import InboxActivity

        async with node.sessions() as session:
            rows = (await session.scalars(select(InboxActivity.processed_at))).all()
            return len(rows) >= 5 and all(r is not None for r in rows)

    await eventually(processed, what="inbox processed")
    assert await stored() is not None  # Mallory could not delete Blog's measure


async def _searched_titles(node: RunningNode, text: str) -> list[str]:
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{node.url}/api/v1/measures", params={"q": text}) as resp,
    ):
        assert resp.status == 200
        return [item["title"] for item in (await resp.json())["items"]]


@pytest.mark.parametrize(
    ("how", "dropped"),
    [("unfollow", False), ("unfollow and drop", True), ("block and drop", True)],
)
async def test_unfollowing_or_blocking_a_peer_can_drop_its_measures(
    pair: tuple[RunningNode, FakePeer], how: str, dropped: bool
) -> None:
    node, peer = pair
    blog = peer.add_actor("blog", indexable=True)
    await follow_accepted(node, peer, "blog", "heideloh")
    await peer.post(f"{node.url}/inbox", _article(peer, "blog", 1), signer=blog)

    async def found() -> list[str]:
        return await _searched_titles(node, "Blogartikel")

    assert await eventually(found, what="article searchable") == ["Artikel 1 von blog"]
    if how.startswith("unfollow"):
        assert await unfollow(node.fed, "heideloh", blog.id, drop=dropped)
    else:
        assert await block_host(node.fed, f"{peer.server.host}:{peer.server.port}", drop=True) == 1
    assert await found() == ([] if dropped else ["Artikel 1 von blog"])
    async with node.sessions() as session:
        measures = (await session.scalars(select(Measure.title))).all()
    assert measures == ([] if dropped else ["Artikel 1 von blog"])

"""An association's Announce: the measure is fetched from its origin and verified there.

A Mastodon-like fake server plays the association (which the node follows) and the origin
of the announced measures. Each case announces one object; only a measure that really
lives where its id says, by an author of that host, with a valid FEP-8b32 proof, is stored.
The others leave the reason on the inbox row and nothing in the measures.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.proofs import create_proof, encode_multikey_ed25519
from federation.urls import AS_CONTEXT
from node.libraries import create_library
from node.models import InboxActivity, Measure
from tests.federation.fake_peer import FakePeer, ServerFactory, follow_accepted, start_fake_peer
from tests.peers import Network, RunningNode, eventually


class Origin:
    """The fake server's author, whose Ed25519 key signs the articles it serves."""

    def __init__(self, peer: FakePeer, name: str = "autorin") -> None:
        self.peer, self.key = peer, Ed25519PrivateKey.generate()
        self.id = f"{peer.base}/users/{name}"
        self.key_id = f"{self.id}#ed25519-key"
        multikey = {
            "id": self.key_id,
            "type": "Multikey",
            "controller": self.id,
            "publicKeyMultibase": encode_multikey_ed25519(self.key.public_key()),
        }
        peer.add_actor(name, type="Organization", assertionMethod=[multikey])

    def article(self, name: str, *, author: str | None = None) -> dict[str, Any]:
        """An Article served at ``/objects/{name}`` (unsigned)."""
        url = f"{self.peer.base}/objects/{name}"
        return {
            "@context": AS_CONTEXT,
            "id": url,
            "type": "Article",
            "attributedTo": author or self.id,
            "name": f"Lesecafé {name}",
            "summary": "Ein Treffpunkt am Samstag.",
            "content": "<p>Ein Treffpunkt am Samstag.</p>",
            "url": url,
            "published": "2026-03-01T10:00:00Z",
        }

    def signed(self, doc: dict[str, Any], key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
        """``doc`` with an eddsa-jcs-2022 proof by the author's key (or another)."""
        return create_proof(doc, key or self.key, self.key_id, datetime.now(UTC))


@pytest.fixture
async def setting(
    network: Network, aiohttp_server: ServerFactory
) -> tuple[RunningNode, FakePeer, FakePeer]:
    """A node following the association "verbund" on one fake server; a second server."""
    node = await network.start("node")

    async def work(session: AsyncSession) -> None:
        await create_library(session, node.vocab, "heideloh", {"name": "Heideloh"})

    await node.work(work)
    peer, elsewhere = await start_fake_peer(aiohttp_server), await start_fake_peer(aiohttp_server)
    peer.add_actor("verbund", type="Group")
    await follow_accepted(node, peer, "verbund", "heideloh")
    return node, peer, elsewhere


def _valid(origin: Origin, other: Origin) -> str:
    origin.peer.documents["a"] = origin.signed(origin.article("a"))
    return f"{origin.peer.base}/objects/a"


def _unsigned(origin: Origin, other: Origin) -> str:  # a proof is optional (Mastodon has none)
    origin.peer.documents["a"] = origin.article("a")
    return f"{origin.peer.base}/objects/a"


def _tampered(origin: Origin, other: Origin) -> str:
    doc = origin.signed(origin.article("a"))
    origin.peer.documents["a"] = doc | {"name": "Etwas ganz anderes"}
    return f"{origin.peer.base}/objects/a"


def _foreign_key(origin: Origin, other: Origin) -> str:
    origin.peer.documents["a"] = origin.signed(origin.article("a"), Ed25519PrivateKey.generate())
    return f"{origin.peer.base}/objects/a"


def _other_id(origin: Origin, other: Origin) -> str:
    origin.peer.documents["a"] = origin.signed(origin.article("b"))  # says it is /objects/b
    return f"{origin.peer.base}/objects/a"


def _redirected(origin: Origin, other: Origin) -> str:
    # The other host serves a document claiming the announced id, after a redirect.
    url = f"{origin.peer.base}/moved/a"
    other.peer.documents["a"] = other.signed(other.article("a")) | {"id": url}
    origin.peer.redirects["a"] = f"{other.peer.base}/objects/a"
    return url


def _foreign_author(origin: Origin, other: Origin) -> str:
    doc = origin.article("a", author=other.id)
    origin.peer.documents["a"] = other.signed(doc)
    return f"{origin.peer.base}/objects/a"


Case = Callable[[Origin, Origin], str]


@pytest.mark.parametrize(
    ("case", "stored", "reason"),
    [
        (_valid, True, None),
        (_unsigned, True, None),
        (_tampered, False, "ProofError"),
        (_foreign_key, False, "ProofError"),
        (_other_id, False, "another id or host"),
        (_redirected, False, "another id or host"),
        (_foreign_author, False, "not attributed to an actor of its own host"),
    ],
)
async def test_an_announced_measure_is_stored_only_as_its_origin_vouches_for_it(
    setting: tuple[RunningNode, FakePeer, FakePeer], case: Case, stored: bool, reason: str | None
) -> None:
    node, peer, elsewhere = setting
    url = case(Origin(peer), Origin(elsewhere))
    verbund = peer.actors["verbund"]
    announce = {
        "id": f"{peer.base}/announces/1",
        "type": "Announce",
        "actor": verbund.id,
        "object": url,
    }
    status, _ = await peer.post(f"{node.url}/inbox", announce, signer=verbund)
    assert status == 202

    async def handled() -> InboxActivity | None:
        async with node.sessions() as session:
            row = await session.scalar(
                select(InboxActivity).where(InboxActivity.ap_id == announce["id"])
            )
        return row if row is not None and (row.processed_at or row.error) else None

    row = await eventually(handled, what="Announce processed")
    async with node.sessions() as session:
        titles = (await session.scalars(select(Measure.title))).all()
        count = await session.scalar(select(func.count()).select_from(Measure))
    if stored:
        assert row.error is None
        assert titles == ["Lesecafé a"]
    else:
        assert reason is not None
        assert row.error is not None
        assert reason in row.error, row.error
        assert count == 0

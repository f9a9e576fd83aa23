"""Tests for federation.actors: parsing actor documents and the remote actor cache.

The peers are real aiohttp servers on loopback in authorized-fetch mode: every GET must carry
a valid signature of the instance key. Database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import AsyncIterator, Callable
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from pytest_aiohttp import AiohttpServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.actors import ActorError, get_actor, parse_actor, public_key_for
from federation.fetch import FetchError, GoneError, Signer
from federation.httpsig import PublicKey, SignatureError, parse_signature, verify_signature
from federation.proofs import encode_multikey_ed25519
from federation.safety import make_connector
from federation.urls import AS_MEDIA_TYPE, PUBLIC
from node.db import unit_of_work
from node.models import RemoteActor
from node.settings import Settings

Sessions = async_sessionmaker[AsyncSession]
REMOTE = "https://library.example"


def pem(key: RSAPrivateKey) -> str:
    """The PEM of a key's public half, as actor documents carry it."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def actor_doc(
    base: str, handle: str, key: RSAPrivateKey, /, *, key_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A Mastodon-like actor document; ``extra`` adds or overrides fields."""
    ap_id = f"{base}/users/{handle}"
    key_id = key_id or f"{ap_id}#main-key"
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": ap_id,
        "type": "Person",
        "preferredUsername": handle,
        "name": handle.title(),
        "inbox": f"{ap_id}/inbox",
        "outbox": f"{ap_id}/outbox",
        "endpoints": {"sharedInbox": f"{base}/inbox"},
        "url": {"type": "Link", "href": f"{base}/@{handle}", "mediaType": "text/html"},
        "publicKey": {"id": key_id, "owner": ap_id, "publicKeyPem": pem(key)},
        **extra,
    }


def same_key(found: PublicKey, expected: RSAPrivateKey) -> bool:
    """Whether a loaded key is the public half of ``expected``."""
    return (
        isinstance(found, RSAPublicKey)
        and found.public_numbers() == expected.public_key().public_numbers()
    )


@pytest.fixture(scope="module")
def keys() -> list[RSAPrivateKey]:
    """Three actor keys (for rotations) and, last, the instance key that signs fetches."""
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(4)]


# --- parse_actor: pure ---------------------------------------------------------------------


def test_parse_actor_reads_every_column(keys: list[RSAPrivateKey]) -> None:
    ed = Ed25519PrivateKey.generate().public_key()
    ap_id = f"{REMOTE}/users/alice"
    multikey = {
        "id": f"{ap_id}#ed25519-key",
        "type": "Multikey",
        "controller": ap_id,
        "publicKeyMultibase": encode_multikey_ed25519(ed),
    }
    doc = actor_doc(REMOTE, "alice", keys[0], type="Organization", assertionMethod=[multikey])
    fields = parse_actor(doc, ap_id)
    assert fields.ap_id == ap_id
    assert fields.type == "Organization"
    assert (fields.preferred_username, fields.name) == ("alice", "Alice")
    assert fields.domain == "library.example"
    assert fields.inbox == f"{ap_id}/inbox"
    assert fields.shared_inbox == f"{REMOTE}/inbox"
    assert fields.outbox == f"{ap_id}/outbox"
    assert fields.url == f"{REMOTE}/@alice"
    assert fields.public_key_id == f"{ap_id}#main-key"
    assert fields.public_key_pem == pem(keys[0])
    assert fields.multikeys == {f"{ap_id}#ed25519-key": multikey["publicKeyMultibase"]}
    assert (fields.is_bibnetz, fields.indexable) == (False, False)
    assert fields.document is doc


def test_parse_actor_keeps_a_non_default_port_in_the_domain(keys: list[RSAPrivateKey]) -> None:
    base = "http://127.0.0.1:8123"
    fields = parse_actor(actor_doc(base, "alice", keys[0]), f"{base}/users/alice")
    assert fields.domain == "127.0.0.1:8123"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{REMOTE}/@alice", f"{REMOTE}/@alice"),
        ([{"type": "Link", "href": "mailto:x"}, {"href": f"{REMOTE}/p"}], f"{REMOTE}/p"),
        ({"type": "Link"}, None),
        (None, None),
    ],
)
def test_parse_actor_url_forms(keys: list[RSAPrivateKey], url: object, expected: str) -> None:
    doc = actor_doc(REMOTE, "alice", keys[0], url=url)
    assert parse_actor(doc, doc["id"]).url == expected


def test_parse_actor_picks_the_key_the_actor_owns(keys: list[RSAPrivateKey]) -> None:
    doc = actor_doc(REMOTE, "alice", keys[0])
    foreign = {"id": f"{REMOTE}/users/bob#main-key", "owner": f"{REMOTE}/users/bob"}
    doc["publicKey"] = [{**foreign, "publicKeyPem": pem(keys[1])}, doc["publicKey"]]
    assert parse_actor(doc, doc["id"]).public_key_pem == pem(keys[0])


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = doc
        for name in parents:
            target = target[name]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("id", KeyError), "id must be"),
        (_set("id", "/users/alice"), "id must be"),
        (_set("id", "https://elsewhere.example/users/alice"), "not on the server it came from"),
        (_set("type", "Note"), "not an actor type"),
        (_set("type", KeyError), "not an actor type"),
        (_set("inbox", KeyError), "inbox must be"),
        (_set("inbox", "ftp://library.example/inbox"), "inbox must be"),
        (_set("publicKey", KeyError), "no publicKey"),
        (_set("publicKey", f"{REMOTE}/users/alice#main-key"), "no publicKey"),
        (_set("publicKey.owner", f"{REMOTE}/users/mallory"), "no publicKey"),
        (_set("publicKey.id", "https://elsewhere.example/key"), "not on the host"),
        (_set("publicKey.publicKeyPem", KeyError), "no publicKeyPem"),
        (_set("publicKey.publicKeyPem", "-----BEGIN PUBLIC KEY-----\n"), "not a usable key"),
    ],
)
def test_parse_actor_rejects_bad_documents(
    keys: list[RSAPrivateKey], change: Callable[[dict[str, Any]], None], message: str
) -> None:
    doc = actor_doc(REMOTE, "alice", keys[0])
    change(doc)
    with pytest.raises(ActorError, match=message):
        parse_actor(doc, f"{REMOTE}/users/alice")


def test_parse_actor_skips_unusable_multikeys(keys: list[RSAPrivateKey]) -> None:
    ap_id = f"{REMOTE}/users/alice"
    good = encode_multikey_ed25519(Ed25519PrivateKey.generate().public_key())
    entry = {"type": "Multikey", "controller": ap_id, "publicKeyMultibase": good}
    method = [
        {**entry, "id": f"{ap_id}#ok"},
        {**entry, "id": f"{ap_id}#other-controller", "controller": f"{REMOTE}/users/bob"},
        {**entry, "id": "https://elsewhere.example/key"},
        {**entry, "id": f"{ap_id}#not-ed25519", "publicKeyMultibase": "zQ3s" + good[4:]},
        {**entry, "id": f"{ap_id}#garbled", "publicKeyMultibase": "z6Mk0OIl"},
        {**entry, "id": f"{ap_id}#jwk", "type": "JsonWebKey"},
        f"{ap_id}#a-reference",
    ]
    doc = actor_doc(REMOTE, "alice", keys[0], assertionMethod=method)
    assert parse_actor(doc, ap_id).multikeys == {f"{ap_id}#ok": good}


@pytest.mark.parametrize(
    ("extra", "bibnetz", "indexable"),
    [
        ({}, False, False),
        ({"indexable": True}, False, True),
        ({"indexable": "true"}, False, False),
        ({"indexable": True, "searchableBy": [PUBLIC]}, False, True),
        ({"indexable": True, "searchableBy": "as:Public"}, False, True),
        ({"indexable": True, "searchableBy": ["Public"]}, False, True),
        ({"indexable": True, "searchableBy": [f"{REMOTE}/users/alice/followers"]}, False, False),
        ({"indexable": True, "searchableBy": []}, False, False),
        ({"bibnetzNode": True}, True, True),
        ({"bibnetzNode": True, "indexable": False}, True, False),
        ({"bibnetzNode": True, "searchableBy": [f"{REMOTE}/followers"]}, True, False),
        ({"bibnetzNode": True, "searchableBy": {"id": PUBLIC}}, True, True),
        ({"bibnetzNode": "true"}, False, False),
    ],
)
def test_indexable_follows_fep_5feb_and_268d(
    keys: list[RSAPrivateKey], extra: dict[str, Any], bibnetz: bool, indexable: bool
) -> None:
    doc = actor_doc(REMOTE, "alice", keys[0], **extra)
    fields = parse_actor(doc, doc["id"])
    assert (fields.is_bibnetz, fields.indexable) == (bibnetz, indexable)


def test_parse_actor_truncates_long_display_fields(keys: list[RSAPrivateKey]) -> None:
    doc = actor_doc(REMOTE, "alice", keys[0], name="N" * 600, preferredUsername="u" * 300)
    fields = parse_actor(doc, doc["id"])
    assert (len(fields.name), len(fields.preferred_username)) == (500, 255)


# --- the cache, against fake peers -------------------------------------------------------


@dataclass
class ActorPeer:
    """A fake server in authorized-fetch mode serving documents by path."""

    instance_key: RSAPrivateKey
    base: str = ""
    docs: dict[str, dict[str, Any] | int] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)

    async def handle(self, request: web.Request) -> web.Response:
        """Verify the signature, then answer from ``redirects`` and ``docs``."""
        self.hits[request.path] += 1
        try:
            parsed = parse_signature("GET", str(request.url), request.headers, None)
            verify_signature(parsed, self.instance_key.public_key(), datetime.now(UTC))
        except SignatureError as exc:
            return web.Response(status=401, text=str(exc))
        if request.path in self.redirects:
            return web.Response(status=302, headers={"Location": self.redirects[request.path]})
        doc = self.docs.get(request.path, 404)
        if isinstance(doc, int):
            return web.json_response({}, status=doc)
        return web.json_response(doc, content_type=AS_MEDIA_TYPE)

    def serve(self, doc: dict[str, Any], path: str | None = None) -> str:
        """Serve ``doc`` at its id's path (or ``path``); return the URL."""
        path = path or str(doc["id"]).removeprefix(self.base)
        self.docs[path] = deepcopy(doc)
        return self.base + path


async def _start(aiohttp_server: AiohttpServer, instance_key: RSAPrivateKey) -> ActorPeer:
    peer = ActorPeer(instance_key)
    app = web.Application()
    app.router.add_get("/{tail:.*}", peer.handle)
    server = await aiohttp_server(app)
    peer.base = str(server.make_url("")).rstrip("/")
    return peer


@pytest.fixture
async def peer(aiohttp_server: AiohttpServer, keys: list[RSAPrivateKey]) -> ActorPeer:
    """A remote server on loopback."""
    return await _start(aiohttp_server, keys[3])


@pytest.fixture
async def other_peer(aiohttp_server: AiohttpServer, keys: list[RSAPrivateKey]) -> ActorPeer:
    """A second remote server (another port, so another host)."""
    return await _start(aiohttp_server, keys[3])


@pytest.fixture
def signer(keys: list[RSAPrivateKey]) -> Signer:
    """The instance actor's signer."""
    return Signer("http://127.0.0.1:8080/actor#main-key", keys[3])


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    """A development node's HTTP client."""
    async with aiohttp.ClientSession(connector=make_connector(allow_private=True)) as session:
        yield session


@dataclass
class Node:
    """What the services need: database, client, settings, signer."""

    sessions: Sessions
    client: aiohttp.ClientSession
    settings: Settings
    signer: Signer

    async def actor(self, ap_id: str, *, refresh: bool = False, **changes: Any) -> RemoteActor:
        """get_actor in its own committed unit of work."""
        settings = dataclasses.replace(self.settings, **changes)
        async with unit_of_work(self.sessions) as session:
            return await get_actor(
                session, self.client, settings, ap_id, signer=self.signer, refresh=refresh
            )

    async def key(
        self, key_id: str, *, force: bool = False, **changes: Any
    ) -> tuple[RemoteActor, PublicKey]:
        """public_key_for in its own committed unit of work."""
        settings = dataclasses.replace(self.settings, **changes)
        async with unit_of_work(self.sessions) as session:
            return await public_key_for(
                session, self.client, settings, key_id, signer=self.signer, force_refetch=force
            )

    async def count(self) -> int:
        """How many remote actors are stored."""
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count(RemoteActor.id))) or 0)


@pytest.fixture
def node(
    sessionmaker: Sessions, client: aiohttp.ClientSession, settings: Settings, signer: Signer
) -> Node:
    """The local node."""
    return Node(sessionmaker, client, settings, signer)


async def test_get_actor_fetches_once_then_serves_the_cache(
    node: Node, peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    doc = actor_doc(peer.base, "alice", keys[0], bibnetzNode=True)
    ap_id = peer.serve(doc)

    first = await node.actor(ap_id)
    assert first.ap_id == ap_id
    assert first.domain == peer.base.removeprefix("http://")
    assert first.public_key_pem == pem(keys[0])
    assert first.is_bibnetz
    assert first.indexable
    assert first.document == doc
    second = await node.actor(ap_id)
    assert second.id == first.id
    assert peer.hits == Counter({"/users/alice": 1})


async def test_refresh_and_an_expired_cache_fetch_again_and_update_the_row(
    node: Node, peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    ap_id = peer.serve(actor_doc(peer.base, "alice", keys[0]))
    first = await node.actor(ap_id)

    peer.serve(actor_doc(peer.base, "alice", keys[0], name="Stadtbibliothek"))
    refreshed = await node.actor(ap_id, refresh=True)
    assert (refreshed.id, refreshed.name) == (first.id, "Stadtbibliothek")
    assert refreshed.fetched_at > first.fetched_at

    peer.serve(actor_doc(peer.base, "alice", keys[0], name="Gemeindebücherei"))
    expired = await node.actor(ap_id, actor_cache_seconds=0)
    assert (expired.id, expired.name) == (first.id, "Gemeindebücherei")
    assert peer.hits["/users/alice"] == 3
    assert await node.count() == 1


async def test_get_actor_flushes_but_leaves_the_commit_to_the_caller(
    node: Node, peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    ap_id = peer.serve(actor_doc(peer.base, "alice", keys[0]))
    async with node.sessions() as session:
        row = await get_actor(session, node.client, node.settings, ap_id, signer=node.signer)
        assert row.id is not None
        await session.rollback()
    assert await node.count() == 0


async def test_an_alias_is_refetched_from_the_documents_id(
    node: Node, peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    doc = actor_doc(peer.base, "alice", keys[0])
    peer.serve(doc)
    alias = peer.serve(doc, "/@alice")
    row = await node.actor(alias)
    assert row.ap_id == doc["id"]
    assert peer.hits == Counter({"/@alice": 1, "/users/alice": 1})


async def test_an_actor_served_from_another_host_is_rejected(
    node: Node, peer: ActorPeer, other_peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    # The peer redirects to a document on another host that claims the peer's actor id.
    ap_id = f"{peer.base}/users/eve"
    forged = actor_doc(peer.base, "eve", keys[1])
    peer.redirects["/users/eve"] = other_peer.serve(forged, "/forged/eve")
    with pytest.raises(ActorError, match="not on the server it came from"):
        await node.actor(ap_id)
    assert await node.count() == 0


async def test_an_id_whose_own_server_disagrees_is_rejected(
    node: Node, peer: ActorPeer, other_peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    # A document claims an id on another host; that host serves something else there.
    claimed = f"{other_peer.base}/users/carol"
    peer.serve({**actor_doc(peer.base, "mallory", keys[1]), "id": claimed}, "/users/mallory")
    other_peer.serve(actor_doc(other_peer.base, "dave", keys[0]), "/users/carol")
    with pytest.raises(ActorError, match="serves a document with another id"):
        await node.actor(f"{peer.base}/users/mallory")

    # Where it serves nothing, the fetch fails.
    peer.serve({**actor_doc(peer.base, "mallory", keys[1]), "id": f"{claimed}2"}, "/users/m2")
    with pytest.raises(FetchError, match="HTTP 404"):
        await node.actor(f"{peer.base}/users/m2")
    assert await node.count() == 0


async def test_a_cross_host_alias_yields_the_actor_of_the_ids_own_server(
    node: Node, peer: ActorPeer, other_peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    carol = actor_doc(other_peer.base, "carol", keys[0])
    other_peer.serve(carol)
    # Whatever the alias document says besides the id is ignored: the id's server is asked.
    peer.serve({**actor_doc(peer.base, "x", keys[1]), "id": carol["id"]}, "/@carol")
    row = await node.actor(f"{peer.base}/@carol")
    assert (row.ap_id, row.public_key_pem) == (carol["id"], pem(keys[0]))


async def test_invalid_documents_and_gone_actors_are_not_stored(
    node: Node, peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    doc = actor_doc(peer.base, "alice", keys[0])
    doc["publicKey"]["owner"] = f"{peer.base}/users/bob"
    ap_id = peer.serve(doc)
    with pytest.raises(ActorError, match="owner"):
        await node.actor(ap_id)
    peer.docs["/users/gone"] = 410
    with pytest.raises(GoneError):
        await node.actor(f"{peer.base}/users/gone")
    assert await node.count() == 0


async def test_actors_on_the_nodes_own_host_are_not_fetched(node: Node) -> None:
    assert node.settings.domain == "127.0.0.1:8080"
    with pytest.raises(ActorError, match="own host"):
        await node.actor("http://127.0.0.1:8080/libraries/stadtbibliothek")
    with pytest.raises(ActorError, match="own host"):
        await node.key("http://127.0.0.1:8080/libraries/stadtbibliothek#main-key")


async def test_public_key_for_fetches_an_unknown_key_once(
    node: Node, peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    doc = actor_doc(peer.base, "alice", keys[0])
    peer.serve(doc)
    key_id = doc["publicKey"]["id"]

    actor, key = await node.key(key_id)
    assert actor.ap_id == doc["id"]
    assert same_key(key, keys[0])
    assert actor.key_refetched_at is not None
    # Cached: neither a plain lookup nor an immediate forced one fetches again.
    await node.key(key_id)
    _, key = await node.key(key_id, force=True)
    assert same_key(key, keys[0])
    assert peer.hits == Counter({"/users/alice": 1})


async def test_a_rotated_key_is_picked_up_by_a_rate_limited_refetch(
    node: Node, peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    # Given an actor the node already knows (say, one it follows)
    doc = actor_doc(peer.base, "alice", keys[0])
    ap_id = peer.serve(doc)
    await node.actor(ap_id)
    key_id = doc["publicKey"]["id"]

    # When the peer rotates its key, the cache still answers with the old one
    peer.serve(actor_doc(peer.base, "alice", keys[1]))
    _, key = await node.key(key_id)
    assert same_key(key, keys[0])

    # Then a forced lookup (after a failed check) refetches and finds the new key
    actor, key = await node.key(key_id, force=True)
    assert same_key(key, keys[1])
    assert actor.key_refetched_at is not None
    assert peer.hits["/users/alice"] == 2

    # And a second forced lookup within the interval does not fetch again
    peer.serve(actor_doc(peer.base, "alice", keys[2]))
    _, key = await node.key(key_id, force=True)
    assert same_key(key, keys[1])
    assert peer.hits["/users/alice"] == 2

    # Once the interval has passed, it does
    _, key = await node.key(key_id, force=True, key_refetch_interval_seconds=0)
    assert same_key(key, keys[2])
    assert peer.hits["/users/alice"] == 3


async def test_a_new_key_id_fetches_the_actor_unless_it_was_just_fetched(
    node: Node, peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    ap_id = peer.serve(actor_doc(peer.base, "alice", keys[0]))
    await node.actor(ap_id)
    peer.serve(actor_doc(peer.base, "alice", keys[1], key_id=f"{ap_id}#key-2"))

    actor, key = await node.key(f"{ap_id}#key-2")
    assert (actor.public_key_id, same_key(key, keys[1])) == (f"{ap_id}#key-2", True)
    # The old key id is gone, and asking for it again right away costs no fetch.
    with pytest.raises(ActorError, match="does not publish the key"):
        await node.key(f"{ap_id}#main-key")
    with pytest.raises(ActorError, match="does not publish the key"):
        await node.key(f"{ap_id}#made-up")
    assert peer.hits["/users/alice"] == 2


async def test_a_standalone_key_document_leads_to_its_owner(
    node: Node, peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    key_id = f"{peer.base}/keys/alice"
    doc = actor_doc(peer.base, "alice", keys[0], key_id=key_id)
    peer.serve(doc)
    peer.serve({"id": key_id, "owner": doc["id"], "publicKeyPem": pem(keys[0])})

    actor, key = await node.key(key_id)
    assert (actor.ap_id, same_key(key, keys[0])) == (doc["id"], True)
    assert peer.hits == Counter({"/keys/alice": 1, "/users/alice": 1})


async def test_a_key_document_naming_an_owner_that_does_not_list_it_is_rejected(
    node: Node, peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    doc = actor_doc(peer.base, "alice", keys[0])
    peer.serve(doc)
    forged = f"{peer.base}/keys/forged"
    peer.serve({"id": forged, "owner": doc["id"], "publicKeyPem": pem(keys[1])})
    with pytest.raises(ActorError, match="does not publish the key"):
        await node.key(forged)


async def test_ed25519_multikeys_are_found_and_loaded(
    node: Node, peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    ed = Ed25519PrivateKey.generate().public_key()
    ap_id = f"{peer.base}/users/alice"
    key_id = f"{ap_id}#ed25519-key"
    multikey = {
        "id": key_id,
        "type": "Multikey",
        "controller": ap_id,
        "publicKeyMultibase": encode_multikey_ed25519(ed),
    }
    peer.serve(actor_doc(peer.base, "alice", keys[0], assertionMethod=[multikey]))

    for _ in range(2):  # fetched, then from the cache
        actor, key = await node.key(key_id)
        assert actor.ap_id == ap_id
        assert isinstance(key, Ed25519PublicKey)
        raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
        assert key.public_bytes(*raw) == ed.public_bytes(*raw)
    assert peer.hits == Counter({"/users/alice": 1})


async def test_fetches_without_a_signature_are_refused_by_authorized_fetch_peers(
    node: Node, peer: ActorPeer, keys: list[RSAPrivateKey]
) -> None:
    ap_id = peer.serve(actor_doc(peer.base, "alice", keys[0]))
    async with unit_of_work(node.sessions) as session:
        with pytest.raises(FetchError, match="HTTP 401"):
            await get_actor(session, node.client, node.settings, ap_id, signer=None)

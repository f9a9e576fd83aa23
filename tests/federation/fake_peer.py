"""A small fake fediverse server: a real aiohttp app on a real port serving actors it controls."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from federation.following import follow
from federation.httpsig import sign_request
from node.models import Following, RemoteActor
from tests.peers import RunningNode, eventually

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


def _pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class FakeActor:
    """An actor of the fake peer with its own RSA key."""

    name: str
    base: str
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The actor id."""
        return f"{self.base}/users/{self.name}"

    @property
    def key_id(self) -> str:
        """The id of its public key."""
        return self.id + "#main-key"

    def document(self) -> dict[str, Any]:
        """Its actor document (Mastodon-like Person)."""
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.id,
            "type": "Person",
            "preferredUsername": self.name,
            "name": self.name.title(),
            "inbox": self.id + "/inbox",
            "outbox": self.id + "/outbox",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {"id": self.key_id, "owner": self.id, "publicKeyPem": _pem(self.key)},
            "indexable": True,
            **self.extra,
        }


@dataclass
class FakePeer:
    """The fake server: its actors, every activity POSTed to it, the documents it serves at
    ``/objects/{name}`` and the redirects it answers at ``/moved/{name}``."""

    server: TestServer
    actors: dict[str, FakeActor] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        """Its base URL."""
        return str(self.server.make_url("")).rstrip("/")

    def add_actor(self, name: str, **extra: Any) -> FakeActor:
        """Create an actor on this peer."""
        actor = FakeActor(name, self.base, extra=extra)
        self.actors[name] = actor
        return actor

    def reply(
        self, n: int, in_reply_to: str, *, by: str = "alice", obj_base: str | None = None
    ) -> dict[str, Any]:
        """The n-th ``Create`` of a question (a ``Note``) by one of its actors; the note
        lives on ``obj_base`` (default: this peer)."""
        actor = self.actors[by].id
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{self.base}/activities/{n}",
            "type": "Create",
            "actor": actor,
            "object": {
                "id": f"{obj_base or self.base}/notes/{n}",
                "type": "Note",
                "attributedTo": actor,
                "content": "<p>Wie viele Ehrenamtliche braucht ihr dafür?</p>",
                "inReplyTo": in_reply_to,
            },
        }

    async def post(
        self,
        url: str,
        activity: dict[str, Any],
        *,
        signer: FakeActor,
        key_id: str | None = None,
        tamper: Callable[[bytes], bytes] | None = None,
        now: datetime | None = None,
    ) -> tuple[int, str]:
        """POST a signed activity; ``tamper`` changes the body after signing."""
        body = json.dumps(activity).encode()
        headers = {"Content-Type": "application/activity+json"}
        headers.update(
            sign_request("POST", url, headers, body, key_id or signer.key_id, signer.key, now=now)
        )
        if tamper is not None:
            body = tamper(body)
        async with (
            aiohttp.ClientSession() as client,
            client.post(url, data=body, headers=headers) as resp,
        ):
            return resp.status, await resp.text()


async def start_fake_peer(aiohttp_server: ServerFactory) -> FakePeer:
    """Start the fake peer's server."""
    app = web.Application()
    peer_box: list[FakePeer] = []

    async def actor(request: web.Request) -> web.Response:
        found = peer_box[0].actors.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        return web.json_response(found.document(), content_type="application/activity+json")

    async def inbox(request: web.Request) -> web.Response:
        peer_box[0].received.append(await request.json())
        return web.Response(status=202)

    async def document(request: web.Request) -> web.Response:
        found = peer_box[0].documents.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        return web.json_response(found, content_type="application/activity+json")

    async def moved(request: web.Request) -> web.Response:
        target = peer_box[0].redirects.get(request.match_info["name"])
        if target is None:
            raise web.HTTPNotFound()
        raise web.HTTPFound(target)

    app.router.add_get("/users/{name}", actor)
    app.router.add_get("/objects/{name}", document)
    app.router.add_get("/moved/{name}", moved)
    app.router.add_post("/users/{name}/inbox", inbox)
    app.router.add_post("/inbox", inbox)
    server = await aiohttp_server(app)
    peer = FakePeer(server)
    peer_box.append(peer)
    return peer


async def follow_accepted(node: RunningNode, peer: FakePeer, name: str, handle: str) -> None:
    """The node's library ``handle`` follows the peer's actor ``name``, which accepts."""
    actor = peer.actors[name]
    await follow(node.fed, handle, actor.id)

    async def follow_arrived() -> list[dict[str, Any]]:
        return [a for a in peer.received if a.get("type") == "Follow" and a["object"] == actor.id]

    follows = await eventually(follow_arrived, what="Follow delivered")
    accept = {
        "id": f"{peer.base}/accepts/{name}",
        "type": "Accept",
        "actor": actor.id,
        "object": follows[-1],
    }
    status, _ = await peer.post(f"{node.url}/inbox", accept, signer=actor)
    assert status == 202

    async def accepted() -> bool:
        async with node.sessions() as session:
            state = await session.scalar(
                select(Following.state)
                .join(RemoteActor, RemoteActor.id == Following.remote_actor_id)
                .where(RemoteActor.ap_id == actor.id)
            )
            return state == "accepted"

    await eventually(accepted, what="Accept processed")

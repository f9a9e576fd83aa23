"""Tests for federation.fetch against real fake peers: aiohttp servers on loopback.

Fetches with ``allow_private=False`` need https and a public-looking name, so one peer runs
TLS with a throwaway certificate for ``peer.example``, which a fake resolver (standing in for
public DNS) maps to 127.0.0.1. That peer redirects to private addresses, and the refusal
happens after the first hop, before anything connects to the second.
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509.oid import NameOID
from pytest_aiohttp import AiohttpServer

from federation.fetch import (
    ACTIVITY_ACCEPT,
    Fetched,
    FetchError,
    GoneError,
    Signer,
    fetch_document,
    fetch_json,
    fetch_webfinger,
)
from federation.httpsig import SignatureError, parse_signature, verify_signature
from federation.safety import UnsafeURL, make_connector
from federation.urls import AS_MEDIA_TYPE, LD_MEDIA_TYPE
from tests.federation.test_safety import FakeResolver

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
KEY_ID = "https://bibnetz.example/actor#main-key"
LIMIT = 10_000
ACCEPT_CHECKED = "application/activity+json"


@pytest.fixture(scope="module")
def instance_key() -> RSAPrivateKey:
    """The instance actor's key, which signs fetches."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def signer(instance_key: RSAPrivateKey) -> Signer:
    """A signer with the instance key."""
    return Signer(KEY_ID, instance_key)


@dataclass
class Seen:
    """One request as the peer saw it; ``key_id`` is set only for a verified signature."""

    path: str
    accept: str | None
    key_id: str | None = None
    covered: tuple[str, ...] = ()


@dataclass
class Peer:
    """A fake remote server that verifies signed GETs with the instance's real public key."""

    key: RSAPrivateKey
    base: str = ""
    seen: list[Seen] = field(default_factory=list)

    def app(self) -> web.Application:
        """The peer's routes."""
        app = web.Application(middlewares=[self.verify])
        add = app.router.add_get
        add("/actor", self.actor)
        add("/secure/actor", self.secure)
        add("/ld", self.typed(LD_MEDIA_TYPE))
        add("/plain-json", self.typed("application/json"))
        add("/html", self.typed("text/html"))
        add("/no-type", self.typed(None))
        add("/status/{code}", self.status)
        add("/invalid", self.raw(b'{"id": '))
        add("/array", self.raw(b"[1, 2]"))
        add("/big", self.raw(json.dumps({"pad": "x" * LIMIT}).encode()))
        add("/streamed", self.streamed)
        add("/bomb", self.bomb)
        add("/hop/{n}", self.hop)
        add("/loop", self.redirect("/loop"))
        add("/no-location", self.no_location)
        add("/to-metadata", self.redirect("http://169.254.169.254/latest/meta-data/"))
        add("/to-localhost", self.redirect("https://localhost/actor"))
        add("/to-http", self.to_http)
        add("/.well-known/webfinger", self.webfinger)
        return app

    @web.middleware
    async def verify(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record the request; reject bad signatures and Accept headers without ActivityPub."""
        seen = Seen(request.path, request.headers.get("Accept"))
        self.seen.append(seen)
        if "Signature" in request.headers:
            try:
                parsed = parse_signature("GET", str(request.url), request.headers, None)
                verify_signature(parsed, self.key.public_key(), datetime.now(UTC))
            except SignatureError as exc:
                return web.Response(status=401, text=str(exc))
            seen.key_id, seen.covered = parsed.key_id, parsed.covered
        if request.path != "/.well-known/webfinger" and ACCEPT_CHECKED not in (seen.accept or ""):
            return web.Response(status=406)
        return await handler(request)

    def document(self, request: web.Request) -> web.Response:
        return web.json_response({"id": str(request.url)}, content_type=AS_MEDIA_TYPE)

    async def actor(self, request: web.Request) -> web.Response:
        return self.document(request)

    async def secure(self, request: web.Request) -> web.Response:
        # Authorized-fetch mode: unsigned GETs are refused.
        if self.seen[-1].key_id is None:
            return web.Response(status=401)
        return self.document(request)

    def typed(self, content_type: str | None) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            body = json.dumps({"id": str(request.url)}).encode()
            headers = {"Content-Type": content_type} if content_type else {}
            return web.Response(body=body, headers=headers)

        return handler

    def raw(self, body: bytes) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=body, content_type=AS_MEDIA_TYPE)

        return handler

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response({}, status=int(request.match_info["code"]))

    async def streamed(self, request: web.Request) -> web.StreamResponse:
        # Chunked, without Content-Length: only counting the bytes can stop it.
        response = web.StreamResponse(headers={"Content-Type": AS_MEDIA_TYPE})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b'{"pad": "')
        for _ in range(LIMIT // 1000 + 1):
            await response.write(b"x" * 1000)
        await response.write(b'"}')
        await response.write_eof()
        return response

    async def bomb(self, request: web.Request) -> web.Response:
        body = gzip.compress(json.dumps({"pad": "0" * LIMIT * 10}).encode())
        assert len(body) < LIMIT  # small on the wire, large once unpacked
        headers = {"Content-Encoding": "gzip", "Content-Type": AS_MEDIA_TYPE}
        return web.Response(body=body, headers=headers)

    async def hop(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        status = (301, 302, 303, 307, 308)[n % 5]
        target = f"/hop/{n - 1}" if n > 0 else "/actor"
        return web.Response(status=status, headers={"Location": target})

    def redirect(self, location: str) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(status=302, headers={"Location": location})

        return handler

    async def no_location(self, request: web.Request) -> web.Response:
        return web.Response(status=302)

    async def to_http(self, request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": f"http://{request.host}/actor"})

    async def webfinger(self, request: web.Request) -> web.Response:
        resource = request.query.get("resource", "")
        name, _, host = resource.removeprefix("acct:").partition("@")
        if host != request.host or name not in {"alice", "bob", "carol"}:
            return web.json_response({"error": "not found"}, status=404)
        href = f"{self.base}/users/{name}"
        links = {
            "alice": [{"rel": "self", "type": AS_MEDIA_TYPE, "href": href}],
            "bob": [{"rel": "self", "type": LD_MEDIA_TYPE, "href": href}],
            "carol": [{"rel": "http://webfinger.net/rel/profile-page", "href": href}],
        }[name]
        jrd = {"subject": resource, "links": [{"rel": "self", "type": "text/html"}, *links]}
        return web.json_response(jrd, content_type="application/jrd+json")


@pytest.fixture
async def peer(aiohttp_server: AiohttpServer, instance_key: RSAPrivateKey) -> Peer:
    """A plain-http peer on loopback, reachable with the development allowance."""
    peer = Peer(instance_key)
    server = await aiohttp_server(peer.app())
    peer.base = str(server.make_url("")).rstrip("/")
    return peer


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    """A development node's client (private peers allowed)."""
    async with aiohttp.ClientSession(connector=make_connector(allow_private=True)) as session:
        yield session


def _tls_contexts(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """Server and client TLS contexts for a self-signed ``peer.example`` certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "peer.example")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("peer.example")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "peer.crt", tmp_path / "peer.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


@dataclass
class PublicPeer:
    """The TLS peer and a client that reaches it as if over the public internet."""

    peer: Peer
    client: aiohttp.ClientSession
    host: str


@pytest.fixture
async def public_peer(
    aiohttp_server: AiohttpServer, instance_key: RSAPrivateKey, tmp_path: Path
) -> AsyncIterator[PublicPeer]:
    """``https://peer.example:<port>``, fetched with ``allow_private=False``."""
    server_tls, client_tls = _tls_contexts(tmp_path)
    peer = Peer(instance_key)
    server = await aiohttp_server(peer.app(), ssl=server_tls)
    host = f"peer.example:{server.port}"
    peer.base = f"https://{host}"
    resolver = FakeResolver({"peer.example": ["127.0.0.1"]})
    connector = aiohttp.TCPConnector(resolver=resolver, ssl=client_tls)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield PublicPeer(peer, session, host)


async def _get(client: aiohttp.ClientSession, url: str, signer: Signer | None = None) -> Fetched:
    return await fetch_document(client, url, allow_private=True, signer=signer, max_bytes=LIMIT)


async def test_fetch_sends_the_activitypub_accept_header(
    client: aiohttp.ClientSession, peer: Peer
) -> None:
    data = await fetch_json(
        client, peer.base + "/actor", allow_private=True, signer=None, max_bytes=LIMIT
    )
    assert data == {"id": peer.base + "/actor"}
    assert peer.seen == [Seen("/actor", ACTIVITY_ACCEPT)]


@pytest.mark.parametrize("path", ["/ld", "/plain-json"])
async def test_json_media_types_are_accepted(
    client: aiohttp.ClientSession, peer: Peer, path: str
) -> None:
    assert (await _get(client, peer.base + path)).data == {"id": peer.base + path}


@pytest.mark.parametrize(("path", "media_type"), [("/html", "text/html"), ("/no-type", "octet")])
async def test_other_media_types_are_refused(
    client: aiohttp.ClientSession, peer: Peer, path: str, media_type: str
) -> None:
    with pytest.raises(FetchError, match=f"{media_type}.*not a JSON media type") as info:
        await _get(client, peer.base + path)
    assert info.value.status == 200


async def test_signed_get_verifies_at_the_peer(
    client: aiohttp.ClientSession, peer: Peer, signer: Signer
) -> None:
    await _get(client, peer.base + "/secure/actor", signer)
    [seen] = peer.seen
    assert seen.key_id == KEY_ID
    assert seen.covered == ("(request-target)", "host", "date", "accept")


async def test_authorized_fetch_peer_refuses_unsigned_and_wrongly_signed_gets(
    client: aiohttp.ClientSession, peer: Peer
) -> None:
    with pytest.raises(FetchError, match="HTTP 401") as info:
        await _get(client, peer.base + "/secure/actor")
    assert info.value.status == 401
    impostor = Signer(KEY_ID, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    with pytest.raises(FetchError, match="HTTP 401"):
        await _get(client, peer.base + "/secure/actor", impostor)


async def test_three_redirects_are_followed_and_every_hop_is_signed(
    client: aiohttp.ClientSession, peer: Peer, signer: Signer
) -> None:
    fetched = await _get(client, peer.base + "/hop/2", signer)
    assert fetched.url == peer.base + "/actor"
    assert fetched.data == {"id": peer.base + "/actor"}
    assert [s.path for s in peer.seen] == ["/hop/2", "/hop/1", "/hop/0", "/actor"]
    assert all(s.key_id == KEY_ID for s in peer.seen)


@pytest.mark.parametrize("path", ["/hop/3", "/loop"])
async def test_a_fourth_redirect_is_refused(
    client: aiohttp.ClientSession, peer: Peer, path: str
) -> None:
    with pytest.raises(FetchError, match="more than 3 redirects"):
        await _get(client, peer.base + path)
    assert len(peer.seen) == 4


async def test_a_redirect_without_location_is_an_error(
    client: aiohttp.ClientSession, peer: Peer
) -> None:
    with pytest.raises(FetchError, match="without a Location"):
        await _get(client, peer.base + "/no-location")


@pytest.mark.parametrize("code", [400, 401, 403, 404, 406, 500, 503])
async def test_error_statuses_raise_fetch_error(
    client: aiohttp.ClientSession, peer: Peer, code: int
) -> None:
    with pytest.raises(FetchError, match=f"HTTP {code}") as info:
        await _get(client, f"{peer.base}/status/{code}")
    assert info.value.status == code
    assert info.value.url == f"{peer.base}/status/{code}"
    assert not isinstance(info.value, GoneError)


async def test_gone_raises_gone_error(client: aiohttp.ClientSession, peer: Peer) -> None:
    with pytest.raises(GoneError, match="gone") as info:
        await _get(client, peer.base + "/status/410")
    assert info.value.status == 410


@pytest.mark.parametrize(("path", "message"), [("/invalid", "invalid JSON"), ("/array", "list")])
async def test_non_object_bodies_are_refused(
    client: aiohttp.ClientSession, peer: Peer, path: str, message: str
) -> None:
    with pytest.raises(FetchError, match=message):
        await _get(client, peer.base + path)


@pytest.mark.parametrize("path", ["/big", "/streamed", "/bomb"])
async def test_bodies_over_the_limit_are_refused(
    client: aiohttp.ClientSession, peer: Peer, path: str
) -> None:
    with pytest.raises(FetchError, match=f"more than {LIMIT} bytes"):
        await _get(client, peer.base + path)


async def test_a_body_within_a_larger_limit_is_read(
    client: aiohttp.ClientSession, peer: Peer
) -> None:
    data = await fetch_json(
        client, peer.base + "/streamed", allow_private=True, signer=None, max_bytes=2 * LIMIT
    )
    assert len(data["pad"]) > LIMIT


async def test_unreachable_peer_raises_fetch_error(client: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(FetchError, match="cannot fetch") as info:
        await _get(client, f"http://127.0.0.1:{port}/actor")
    assert info.value.status is None


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "https://10.0.0.1/", "ftp://example.org/"]
)
async def test_the_first_hop_is_checked_before_connecting(
    client: aiohttp.ClientSession, url: str
) -> None:
    with pytest.raises(FetchError, match="refusing") as info:
        await fetch_json(client, url, allow_private=False, signer=None, max_bytes=LIMIT)
    assert isinstance(info.value.__cause__, UnsafeURL)
    assert info.value.url == url


async def test_production_fetch_over_tls_works(public_peer: PublicPeer, signer: Signer) -> None:
    url = public_peer.peer.base + "/secure/actor"
    data = await fetch_json(
        public_peer.client, url, allow_private=False, signer=signer, max_bytes=LIMIT
    )
    assert data == {"id": url}
    assert public_peer.peer.seen[0].key_id == KEY_ID


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ("/to-metadata", "http://169.254.169.254/latest/meta-data/"),
        ("/to-localhost", "https://localhost/actor"),
        ("/to-http", "http://peer.example:{port}/actor"),
    ],
)
async def test_redirects_to_private_or_plain_http_targets_are_refused(
    public_peer: PublicPeer, path: str, refused: str
) -> None:
    refused = refused.format(port=public_peer.host.rpartition(":")[2])
    with pytest.raises(FetchError, match="refusing") as info:
        await fetch_json(
            public_peer.client,
            public_peer.peer.base + path,
            allow_private=False,
            signer=None,
            max_bytes=LIMIT,
        )
    assert isinstance(info.value.__cause__, UnsafeURL)
    assert info.value.url == refused
    # The first hop was fetched; the refused target never was.
    assert [s.path for s in public_peer.peer.seen] == [path]


@pytest.mark.parametrize("form", ["{name}@{host}", "@{name}@{host}", "acct:{name}@{host}"])
@pytest.mark.parametrize("name", ["alice", "bob"])
async def test_webfinger_finds_the_actor_id(
    client: aiohttp.ClientSession, peer: Peer, form: str, name: str
) -> None:
    host = peer.base.removeprefix("http://")
    account = form.format(name=name, host=host)
    actor = await fetch_webfinger(client, account, allow_private=True, max_bytes=LIMIT)
    assert actor == f"{peer.base}/users/{name}"
    assert peer.seen[0].accept is not None
    assert "application/jrd+json" in peer.seen[0].accept


async def test_webfinger_uses_https_for_public_hosts(public_peer: PublicPeer) -> None:
    actor = await fetch_webfinger(
        public_peer.client, f"alice@{public_peer.host}", allow_private=False, max_bytes=LIMIT
    )
    assert actor == f"{public_peer.peer.base}/users/alice"


async def test_webfinger_without_an_activitypub_link_is_an_error(
    client: aiohttp.ClientSession, peer: Peer
) -> None:
    host = peer.base.removeprefix("http://")
    with pytest.raises(FetchError, match="no ActivityPub 'self' link"):
        await fetch_webfinger(client, f"carol@{host}", allow_private=True, max_bytes=LIMIT)


async def test_webfinger_for_an_unknown_account_is_an_error(
    client: aiohttp.ClientSession, peer: Peer
) -> None:
    host = peer.base.removeprefix("http://")
    with pytest.raises(FetchError, match="HTTP 404") as info:
        await fetch_webfinger(client, f"mallory@{host}", allow_private=True, max_bytes=LIMIT)
    assert info.value.status == 404


@pytest.mark.parametrize(
    "account",
    [
        "alice",
        "alice@",
        "@example.org",
        "a/b@example.org",
        "alice@example.org/path",
        "alice@bob@example.org",
        "alice@exa mple.org",
        "alice@example.org:99999",
        "alice@:80",
    ],
)
async def test_malformed_accounts_are_refused_without_a_request(
    client: aiohttp.ClientSession, account: str
) -> None:
    with pytest.raises(FetchError, match=r"account|host"):
        await fetch_webfinger(client, account, allow_private=False, max_bytes=LIMIT)

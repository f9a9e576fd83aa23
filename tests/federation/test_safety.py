"""Tests for federation.safety: URL checks and the resolver that keeps DNS names public."""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from pytest_aiohttp import AiohttpServer

from federation.safety import (
    LIMIT_PER_HOST,
    GuardedResolver,
    UnsafeURL,
    check_url,
    make_connector,
)


class FakeResolver(AbstractResolver):
    """Stands in for public DNS: maps names to fixed addresses, so no test needs the network."""

    def __init__(self, table: Mapping[str, Sequence[str]]) -> None:
        self.table = table
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Answer from the table, like getaddrinfo would."""
        if host not in self.table:
            raise OSError(f"unknown host {host}")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.table[host]
        ]

    async def close(self) -> None:
        """Remember that the connector closed us."""
        self.closed = True


UNSAFE_WITHOUT_ALLOWANCE = [
    "http://example.org/users/alice",  # plain http
    "https://127.0.0.1/actor",
    "https://127.0.0.1:8443/actor",
    "https://10.0.0.1/actor",
    "https://172.16.0.1/actor",
    "https://192.168.1.10/actor",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/actor",  # carrier-grade NAT
    "https://0.0.0.0/actor",
    "https://224.0.0.1/actor",  # multicast
    "https://240.0.0.1/actor",  # reserved
    "https://255.255.255.255/actor",
    "https://[::1]/actor",
    "https://[::]/actor",
    "https://[fe80::1]/actor",
    "https://[fe80::1%25eth0]/actor",
    "https://[fc00::1]/actor",  # unique local
    "https://[fec0::1]/actor",  # site-local
    "https://[ff02::1]/actor",
    "https://[::ffff:127.0.0.1]/actor",
    "https://[::ffff:169.254.169.254]/actor",
    "https://[2002:7f00:1::]/actor",  # 6to4 wrapping 127.0.0.1
    "https://[64:ff9b::a00:1]/actor",  # NAT64 wrapping 10.0.0.1
    "https://localhost/actor",
    "https://LOCALHOST./actor",
    "https://library.localhost/actor",
    "https://2130706433/actor",  # 127.0.0.1 as one number
    "https://0x7f.1/actor",
    "https://127.1/actor",
]


@pytest.mark.parametrize("url", UNSAFE_WITHOUT_ALLOWANCE)
def test_non_public_targets_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL) as info:
        check_url(url, allow_private=False)
    assert url in str(info.value)
    assert info.value.reason in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/users/alice",
        "https://Example.ORG:8443/users/alice?page=2#main-key",
        "https://8.8.8.8/actor",
        "https://[2606:4700:4700::1111]/actor",
        "https://[::ffff:8.8.8.8]/actor",
        "https://library.example./actor",
    ],
)
def test_public_https_targets_pass(url: str) -> None:
    check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/actor", "http://localhost/actor", "https://[::1]/", "http://10.0.0.1/"],
)
def test_allowance_admits_private_targets_for_development(url: str) -> None:
    check_url(url, allow_private=True)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.org/actor", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://127.0.0.1:70/", "scheme"),
        ("/users/alice", "scheme"),
        ("https:///users/alice", "no host"),
        ("https://alice:secret@example.org/actor", "credentials"),
        ("https://alice@example.org/actor", "credentials"),
        ("https://example.org:99999/actor", "malformed"),
    ],
)
@pytest.mark.parametrize("allow_private", [False, True])
def test_malformed_urls_are_refused_even_with_the_allowance(
    url: str, reason: str, allow_private: bool
) -> None:
    with pytest.raises(UnsafeURL, match=reason):
        check_url(url, allow_private=allow_private)


def test_unsafe_url_is_a_value_error() -> None:
    assert issubclass(UnsafeURL, ValueError)


async def test_resolver_drops_private_answers_and_keeps_public_ones() -> None:
    inner = FakeResolver({"mixed.example": ["10.0.0.5", "93.184.216.34", "::1", "2606:4700::1"]})
    resolver = GuardedResolver(allow_private=False, inner=inner)
    answers = await resolver.resolve("mixed.example", 443)
    assert [a["host"] for a in answers] == ["93.184.216.34", "2606:4700::1"]
    assert all(a["port"] == 443 for a in answers)


@pytest.mark.parametrize(
    "addresses",
    [["127.0.0.1"], ["169.254.169.254"], ["10.1.2.3", "fe80::1"], ["::ffff:192.168.0.1"]],
)
async def test_resolver_refuses_names_that_only_point_inside(addresses: list[str]) -> None:
    resolver = GuardedResolver(allow_private=False, inner=FakeResolver({"evil.example": addresses}))
    with pytest.raises(OSError, match="non-public"):
        await resolver.resolve("evil.example", 443)


async def test_resolver_passes_everything_with_the_allowance() -> None:
    inner = FakeResolver({"dev.example": ["127.0.0.1", "10.0.0.5"]})
    answers = await GuardedResolver(allow_private=True, inner=inner).resolve("dev.example", 80)
    assert [a["host"] for a in answers] == ["127.0.0.1", "10.0.0.5"]


async def test_resolver_wraps_the_default_resolver() -> None:
    resolver = GuardedResolver(allow_private=True)
    try:
        answers = await resolver.resolve("127.0.0.1", 80)
    finally:
        await resolver.close()
    assert answers[0]["host"] == "127.0.0.1"


async def test_connector_refuses_a_dns_name_for_a_private_address_before_connecting(
    aiohttp_server: AiohttpServer,
) -> None:
    # Given a real server on loopback and a DNS name that points at it
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="inside")

    app = web.Application()
    app.router.add_get("/", handler)
    server = await aiohttp_server(app)
    table = {"intranet.example": ["127.0.0.1"]}
    url = f"http://intranet.example:{server.port}/"

    # When a development node (allowance on) fetches it, it connects
    inner = FakeResolver(table)
    async with (
        aiohttp.ClientSession(
            connector=make_connector(allow_private=True, resolver=inner)
        ) as client,
        client.get(url) as response,
    ):
        assert await response.text() == "inside"
    assert inner.closed

    # When a production node fetches it, DNS resolution fails and nothing connects
    connector = make_connector(allow_private=False, resolver=FakeResolver(table))
    assert connector.limit_per_host == LIMIT_PER_HOST
    async with aiohttp.ClientSession(connector=connector) as client:
        with pytest.raises(aiohttp.ClientConnectorDNSError, match="non-public"):
            await client.get(url)
    assert hits == ["/"]

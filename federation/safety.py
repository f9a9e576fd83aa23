"""SSRF guard for every outgoing fetch: refuse private, loopback and link-local targets.

Two layers, because aiohttp skips the resolver for IP literals: ``check_url`` inspects the URL
itself (scheme, userinfo, literal addresses, localhost names) before each request, and
``GuardedResolver`` drops private addresses that a DNS name resolves to, before connecting.
Both can be relaxed with ``allow_private`` (tests and local development only).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 6052 NAT64 well-known prefix: a NAT64 gateway would forward to the embedded IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
LIMIT_PER_HOST = 8


class UnsafeURL(ValueError):
    """A URL the node refuses to fetch: wrong scheme, credentials or a non-public address."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"refusing to fetch {url!r}: {reason}")
        self.url = url
        self.reason = reason


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address forwards to (mapped, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress) -> bool:
    """Whether an address is globally routable unicast (not private, loopback, link-local, …)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False  # a zone id only makes sense for link-local targets
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            # Checked on their own: older Pythons call every ::ffff:0:0/96 address private.
            return is_public_address(embedded)
        if ip.is_site_local:
            return False
    elif ip in _CGNAT:
        return False
    # is_global alone is not enough: multicast ranges count as global.
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _looks_numeric(host: str) -> bool:
    """Whether a host is meant as an IPv4 number (``2130706433``, ``0x7f.1``, ``127.1``).

    No top-level domain is numeric, so a host whose last label is a number is an address
    in some legacy notation that resolvers still map onto an IPv4 address.
    """
    last = host.rstrip(".").rsplit(".", 1)[-1].lower()
    return last.isdigit() or (last.startswith("0x") and last != "0x")


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise UnsafeURL unless ``url`` may be fetched (https, public host, no credentials)."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a garbled or out-of-range port
    except ValueError as exc:
        raise UnsafeURL(url, f"malformed URL ({exc})") from exc
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_private else ("https",)
    if scheme not in allowed:
        raise UnsafeURL(url, f"scheme must be {' or '.join(allowed)}, not {scheme or 'none'!r}")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeURL(url, "credentials in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL(url, "URL has no host")
    if allow_private:
        return
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeURL(url, f"host {host!r} is local")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if ":" in host or _looks_numeric(host):
            raise UnsafeURL(url, f"host {host!r} is not a canonical IP address") from None
        return  # a DNS name: GuardedResolver checks what it resolves to
    if not is_public_address(ip):
        raise UnsafeURL(url, f"address {host} is not public")


def _resolved_is_public(host: str) -> bool:
    try:
        return is_public_address(ipaddress.ip_address(host))
    except ValueError:
        return False  # not an address we can judge, so not one we connect to


class GuardedResolver(AbstractResolver):
    """Resolver that drops non-public addresses, so DNS names cannot point inside the network."""

    def __init__(self, *, allow_private: bool, inner: AbstractResolver | None = None) -> None:
        self.allow_private = allow_private
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve ``host`` and keep only public addresses (all of them if private is allowed)."""
        results = await self._inner.resolve(host, port, family)
        if self.allow_private:
            return results
        kept = [r for r in results if _resolved_is_public(r["host"])]
        if not kept:
            # An OSError becomes aiohttp's ClientConnectorDNSError, like an unknown name; it
            # quotes strerror only, which the two-argument form sets.
            raise OSError(
                errno.EACCES, f"{host!r} resolves only to non-public addresses; refusing to connect"
            )
        return kept

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._inner.close()


class _GuardedConnector(aiohttp.TCPConnector):
    """TCPConnector that also closes its resolver (aiohttp only closes resolvers it made)."""

    async def close(self, *, abort_ssl: bool = False) -> None:
        try:
            await super().close(abort_ssl=abort_ssl)
        finally:
            await self._resolver.close()


def make_connector(
    *, allow_private: bool, resolver: AbstractResolver | None = None
) -> aiohttp.TCPConnector:
    """A connector for federation fetches whose DNS answers pass through GuardedResolver."""
    return _GuardedConnector(
        resolver=GuardedResolver(allow_private=allow_private, inner=resolver),
        limit_per_host=LIMIT_PER_HOST,
    )

"""Fetching JSON documents from other servers: SSRF-checked, size-limited, optionally signed.

Redirects are followed by hand so that every hop passes ``check_url`` (and is signed for its
own host and path) before anything connects to it.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import aiohttp
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from yarl import URL

from federation.httpsig import sign_request
from federation.safety import UnsafeURL, check_url
from federation.urls import AS_CONTEXT, AS_MEDIA_TYPE, LD_MEDIA_TYPE

ACTIVITY_ACCEPT = f"{AS_MEDIA_TYPE}, {LD_MEDIA_TYPE}"
JRD_ACCEPT = "application/jrd+json, application/json"
JSON_TYPES = frozenset(
    {"application/activity+json", "application/ld+json", "application/json", "application/jrd+json"}
)
MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Per hop; callers wanting a tighter overall bound wrap the call in asyncio.timeout().
FETCH_TIMEOUT = 10.0
_CHUNK = 64 * 1024


class FetchError(Exception):
    """A remote document could not be fetched: refused URL, network, HTTP status, size or JSON."""

    def __init__(self, url: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class GoneError(FetchError):
    """The remote resource answered 410 Gone: it was deleted."""


@dataclass(frozen=True)
class Signer:
    """The key that signs outgoing GETs (the instance actor's, for authorized-fetch servers)."""

    key_id: str
    private_key: RSAPrivateKey


@dataclass(frozen=True)
class Fetched:
    """A fetched JSON object and the URL it finally came from (after redirects)."""

    url: str
    data: dict[str, Any]


async def fetch_document(
    client: aiohttp.ClientSession,
    url: str,
    *,
    allow_private: bool,
    signer: Signer | None,
    max_bytes: int,
    accept: str = ACTIVITY_ACCEPT,
) -> Fetched:
    """GET a JSON object, following up to three redirects, each one checked before connecting."""
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            check_url(current, allow_private=allow_private)
        except UnsafeURL as exc:
            raise FetchError(current, str(exc)) from exc
        # Sign exactly what aiohttp will send: yarl normalises the quoting of the path.
        target = URL(current)
        headers = {"Accept": accept}
        if signer is not None:
            headers.update(
                sign_request("GET", str(target), headers, None, signer.key_id, signer.private_key)
            )
        try:
            async with client.get(
                target,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT),
            ) as response:
                if response.status in REDIRECT_STATUSES:
                    current = _redirect_target(current, response)
                    continue
                return Fetched(current, await _read_json(current, response, max_bytes))
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            raise FetchError(current, f"cannot fetch {current}: {reason}") from exc
    raise FetchError(url, f"more than {MAX_REDIRECTS} redirects when fetching {url}")


async def fetch_json(
    client: aiohttp.ClientSession,
    url: str,
    *,
    allow_private: bool,
    signer: Signer | None,
    max_bytes: int,
    accept: str = ACTIVITY_ACCEPT,
) -> dict[str, Any]:
    """GET a JSON object from another server; see ``fetch_document`` for the rules."""
    fetched = await fetch_document(
        client,
        url,
        allow_private=allow_private,
        signer=signer,
        max_bytes=max_bytes,
        accept=accept,
    )
    return fetched.data


def _redirect_target(url: str, response: aiohttp.ClientResponse) -> str:
    location = response.headers.get("Location")
    if not location:
        raise FetchError(
            url, f"{url} redirected (HTTP {response.status}) without a Location header"
        )
    return urljoin(url, location)


async def _read_json(url: str, response: aiohttp.ClientResponse, max_bytes: int) -> dict[str, Any]:
    status = response.status
    if status == 410:
        raise GoneError(url, f"{url} is gone (HTTP 410)", status=status)
    if not 200 <= status < 300:
        raise FetchError(url, f"{url} answered HTTP {status}", status=status)
    if response.content_type not in JSON_TYPES:
        raise FetchError(
            url, f"{url} sent {response.content_type!r}, not a JSON media type", status=status
        )
    too_big = f"{url} sent more than {max_bytes} bytes"
    if response.content_length is not None and response.content_length > max_bytes:
        raise FetchError(url, too_big, status=status)
    body = bytearray()
    # Counted after decompression, so a small gzip bomb cannot get past the limit either.
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise FetchError(url, too_big, status=status)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FetchError(url, f"{url} sent invalid JSON: {exc}", status=status) from exc
    if not isinstance(data, dict):
        raise FetchError(
            url, f"{url} sent a JSON {type(data).__name__}, not an object", status=status
        )
    return data


def _split_account(account: str) -> tuple[str, str]:
    """Split ``[@]name@host`` (or ``acct:name@host``) into name and host, or FetchError."""
    text = account.strip().removeprefix("acct:").removeprefix("@")
    name, _, host = text.partition("@")
    bad = set("/?#@ :%")
    if not name or not host or bad & set(name):
        raise FetchError(account, f"{account!r} is not an account of the form name@host")
    try:
        parts = urlsplit(f"//{host}")
        _ = parts.port
    except ValueError:
        parts = None
    if parts is None or not parts.hostname or parts.netloc != host or "@" in host:
        raise FetchError(account, f"{account!r} has an invalid host {host!r}")
    return name, host


def _is_local_host(host: str) -> bool:
    hostname = (urlsplit(f"//{host}").hostname or "").rstrip(".")
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


def _is_activity_type(media_type: object) -> bool:
    if not isinstance(media_type, str):
        return False
    mime, _, params = media_type.partition(";")
    mime = mime.strip().lower()
    return mime == AS_MEDIA_TYPE or (mime == "application/ld+json" and AS_CONTEXT in params)


async def fetch_webfinger(
    client: aiohttp.ClientSession,
    account: str,
    *,
    allow_private: bool,
    max_bytes: int,
) -> str:
    """Resolve ``name@host`` (leading ``@`` allowed) to its actor id through WebFinger."""
    name, host = _split_account(account)
    # Plain http only for development peers, which have no certificates.
    scheme = "http" if allow_private and _is_local_host(host) else "https"
    query = urlencode({"resource": f"acct:{name}@{host}"})
    url = f"{scheme}://{host}/.well-known/webfinger?{query}"
    data = await fetch_json(
        client,
        url,
        allow_private=allow_private,
        signer=None,
        max_bytes=max_bytes,
        accept=JRD_ACCEPT,
    )
    links = data.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        href = link.get("href")
        if _is_activity_type(link.get("type")) and isinstance(href, str) and href:
            return href
    raise FetchError(url, f"WebFinger answer for {name}@{host} has no ActivityPub 'self' link")

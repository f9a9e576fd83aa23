"""HTTP message signatures for ActivityPub: draft-cavage-12 and the shared verification API.

Everything here is pure: no network, no clock unless the caller omits ``now`` when signing.
Verification is split in two steps so the caller can fetch the signer's key in between:
``parse_signature`` (which also checks the body digest) and ``verify_signature``.
RFC 9421 specifics live in :mod:`federation.rfc9421`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal
from urllib.parse import SplitResult, urlsplit

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from multidict import CIMultiDict, CIMultiDictProxy

PublicKey = RSAPublicKey | Ed25519PublicKey
PrivateKey = RSAPrivateKey | Ed25519PrivateKey

CAVAGE_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})
DEFAULT_WINDOW = timedelta(hours=1)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
# One cavage parameter: name="quoted" or name=123 (created/expires are bare numbers).
_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([0-9]+(?:\.[0-9]+)?))\s*(?:,|$)')
_FOLD = re.compile(r"\s*\r?\n\s*")


class SignatureError(Exception):
    """Base class for all HTTP signature failures."""


class MalformedSignature(SignatureError):
    """The request cannot be checked: headers missing or garbled, or unsupported (HTTP 400)."""


class InvalidSignature(SignatureError):
    """The request was checked and rejected: bad signature, digest or time (HTTP 401)."""


@dataclass(frozen=True)
class ParsedSignature:
    """A signature extracted from a request, ready for ``verify_signature``.

    ``created``, ``expires`` and ``date`` are only set when they are covered by the
    signature, so nothing here can be altered without breaking the signature.
    """

    scheme: Literal["cavage", "rfc9421"]
    key_id: str
    algorithm: str | None
    signature_base: bytes
    signature: bytes
    covered: tuple[str, ...]
    created: datetime | None = None
    expires: datetime | None = None
    date: str | None = None
    label: str | None = None


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """Return a header's value (case-insensitive), multiple lines joined with ', '."""
    if isinstance(headers, CIMultiDict | CIMultiDictProxy):
        # aiohttp's headers: case-insensitive already, every repeat of a key kept.
        values: Sequence[str] = headers.getall(name, ())
    else:  # a plain mapping may use any case
        wanted = name.lower()
        values = [v for k, v in headers.items() if k.lower() == wanted]
    if not values:
        return None
    if len(values) == 1 and "\n" not in values[0]:
        return values[0].strip()
    return ", ".join(_FOLD.sub(" ", v.strip()) for v in values)


def body_digest(body: bytes) -> str:
    """Return the cavage ``Digest`` header value for a body: ``SHA-256=<base64>``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def http_date(moment: datetime) -> str:
    """Format an aware datetime as an IMF-fixdate (``Sun, 05 Jan 2014 21:31:40 GMT``)."""
    return format_datetime(_aware(moment).astimezone(UTC), usegmt=True)


def load_public_key_pem(pem: str) -> PublicKey:
    """Load an RSA or Ed25519 public key from PEM, raising MalformedSignature on anything else."""
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise MalformedSignature(f"cannot load public key PEM: {exc}") from exc
    if not isinstance(key, RSAPublicKey | Ed25519PublicKey):
        raise MalformedSignature(f"unsupported public key type {type(key).__name__}")
    return key


def split_url(url: str) -> SplitResult:
    """Split a request URL, turning a bad port into MalformedSignature."""
    parts = urlsplit(url)
    try:
        _ = parts.port  # the property raises on a non-numeric or out-of-range port
    except ValueError as exc:
        raise MalformedSignature(f"bad URL {url!r}: {exc}") from exc
    return parts


def url_authority(parts: SplitResult) -> str | None:
    """Return ``host[:port]`` of an absolute URL, lowercase, default port dropped."""
    host = parts.hostname
    if not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{parts.port}"
    return host


def path_and_query(parts: SplitResult) -> str:
    """Return the origin-form request target: path (``/`` if empty) plus ``?query``."""
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def request_authority(parts: SplitResult, headers: Mapping[str, str]) -> str:
    """Return the Host header as sent, falling back to the URL's authority."""
    host = header_value(headers, "host") or url_authority(parts)
    if not host:
        raise MalformedSignature("request has neither a Host header nor an absolute URL")
    return host


def check_digests(digests: Mapping[str, bytes], body: bytes, header: str) -> None:
    """Compare digests (``sha-256``/``sha-512`` → raw bytes) with the body; others are ignored."""
    known = {alg: value for alg, value in digests.items() if alg in _DIGESTS}
    if not known:
        raise MalformedSignature(f"{header} has no SHA-256 or SHA-512 digest")
    for alg, value in known.items():
        if not hmac.compare_digest(_DIGESTS[alg](body).digest(), value):
            raise InvalidSignature(f"{header} {alg} does not match the request body")


def b64decode(value: str, what: str) -> bytes:
    """Strictly decode base64, raising MalformedSignature with ``what`` in the message."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedSignature(f"{what} is not valid base64") from exc


def sign_bytes(private_key: PrivateKey, algorithm: str | None, data: bytes) -> bytes:
    """Sign ``data`` with a named algorithm; ``hs2019``/None pick by key type."""
    try:
        alg = _resolve(algorithm, private_key.public_key())
    except InvalidSignature as exc:  # a caller bug when signing, not a protocol failure
        raise ValueError(str(exc)) from exc
    if isinstance(private_key, Ed25519PrivateKey):
        return private_key.sign(data)
    if alg == "rsa-pss-sha512":
        return private_key.sign(data, _pss(), hashes.SHA512())
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def verify_bytes(public_key: PublicKey, algorithm: str | None, data: bytes, sig: bytes) -> None:
    """Verify a raw signature, raising InvalidSignature on mismatch or key/algorithm clash."""
    alg = _resolve(algorithm, public_key)
    try:
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(sig, data)
        elif alg == "rsa-pss-sha512":
            public_key.verify(sig, data, _pss(), hashes.SHA512())
        elif algorithm is None:
            # RFC 9421 without ``alg``: an RSA key alone cannot tell which padding the
            # signer chose, and both are sound for the same key, so accept either.
            try:
                public_key.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
            except _CryptoInvalidSignature:
                public_key.verify(sig, data, _pss(), hashes.SHA512())
        else:
            public_key.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    except _CryptoInvalidSignature as exc:
        raise InvalidSignature("signature does not match") from exc


def _resolve(algorithm: str | None, key: object) -> str:
    """Map an algorithm name and key to one concrete algorithm, or refuse the pair."""
    if isinstance(key, Ed25519PublicKey):
        if algorithm in (None, "hs2019", "ed25519"):
            return "ed25519"
    elif isinstance(key, RSAPublicKey):
        if algorithm in (None, "hs2019", "rsa-sha256", "rsa-v1_5-sha256"):
            return "rsa-v1_5-sha256"
        if algorithm == "rsa-pss-sha512":
            return algorithm
    else:
        raise InvalidSignature(f"unsupported key type {type(key).__name__}")
    raise InvalidSignature(f"algorithm {algorithm!r} cannot be used with a {type(key).__name__}")


def _pss() -> padding.PSS:
    # RFC 9421 section 3.3.1: MGF1 with SHA-512 and a 64-byte salt.
    return padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return moment


# --- draft-cavage-http-signatures-12 -------------------------------------------------------


def parse_cavage_params(value: str) -> dict[str, str]:
    """Parse a cavage ``Signature`` header into its parameters (names as written)."""
    params: dict[str, str] = {}
    pos = 0
    value = value.strip()
    while pos < len(value):
        match = _PARAM.match(value, pos)
        if match is None or match.end() == pos:
            raise MalformedSignature(f"garbled Signature header near {value[pos : pos + 20]!r}")
        name = match.group(1)
        if name.lower() in {seen.lower() for seen in params}:
            raise MalformedSignature(f"Signature header repeats parameter {name!r}")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()
    return params


def cavage_signing_string(
    method: str,
    url: str,
    headers: Mapping[str, str],
    covered: Sequence[str],
    created: str | None = None,
    expires: str | None = None,
) -> bytes:
    """Build the draft-cavage-12 signing string for the covered header names."""
    parts = split_url(url)
    lines = []
    for name in covered:
        value: str | None
        if name == "(request-target)":
            value = f"{method.lower()} {path_and_query(parts)}"
        elif name in ("(created)", "(expires)"):
            value = created if name == "(created)" else expires
        elif name == "host":
            value = request_authority(parts, headers)
        else:
            value = header_value(headers, name)
        if value is None:
            raise MalformedSignature(f"{name} is covered but missing from the request")
        lines.append(f"{name}: {value}")
    return "\n".join(lines).encode("utf-8")


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    *,
    algorithm: str | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Sign a request (cavage-12) and return the headers to add: Host, Date, Digest, Signature.

    Bodies cover ``(request-target) host date digest content-type``; body-less requests cover
    ``(request-target) host date accept``. Content-Type/Accept are covered only if supplied.
    ``algorithm`` defaults to ``rsa-sha256`` for RSA keys and ``hs2019`` for Ed25519 keys.
    """
    if algorithm is None:
        algorithm = "hs2019" if isinstance(private_key, Ed25519PrivateKey) else "rsa-sha256"
    if algorithm not in CAVAGE_ALGORITHMS:
        raise ValueError(f"unsupported cavage algorithm {algorithm!r}")
    if '"' in key_id:
        raise ValueError("key_id must not contain a double quote")
    host = url_authority(urlsplit(url))  # a bad port raises ValueError here, as it should
    if host is None:
        raise ValueError(f"cannot sign a request for a relative URL {url!r}")
    added = {
        "Host": header_value(headers, "host") or host,
        "Date": header_value(headers, "date") or http_date(now or datetime.now(UTC)),
    }
    covered = ["(request-target)", "host", "date"]
    if body is not None:
        added["Digest"] = body_digest(body)
        covered += ["digest", "content-type"]
    else:
        covered.append("accept")
    merged = {k: v for k, v in headers.items() if k.lower() not in {n.lower() for n in added}}
    merged.update(added)
    covered = [c for c in covered if c.startswith("(") or header_value(merged, c) is not None]
    signature = sign_bytes(
        private_key, algorithm, cavage_signing_string(method, url, merged, covered)
    )
    added["Signature"] = (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )
    return added


def _parse_cavage(
    method: str, url: str, headers: Mapping[str, str], body: bytes | None, value: str
) -> ParsedSignature:
    params = {k.lower(): v for k, v in parse_cavage_params(value).items()}
    for required in ("keyid", "signature"):
        if not params.get(required):
            raise MalformedSignature(f"Signature header lacks {required!r}")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in CAVAGE_ALGORITHMS:
        raise MalformedSignature(f"unsupported signature algorithm {algorithm!r}")
    # draft-12 defaults to "(created)", but deployed servers (and Appendix C.1) use "date".
    covered = tuple(params.get("headers", "date").lower().split())
    for required in ("(request-target)", "host"):
        if required not in covered:
            raise MalformedSignature(f"signature must cover {required}")
    if "date" not in covered and "(created)" not in covered:
        raise MalformedSignature("signature must cover date or (created)")
    if body and "digest" not in covered:
        raise MalformedSignature("request has a body but the signature does not cover digest")
    if "digest" in covered:
        check_digests(_parse_digest_header(header_value(headers, "digest")), body or b"", "Digest")
    created, expires = params.get("created"), params.get("expires")
    return ParsedSignature(
        scheme="cavage",
        key_id=params["keyid"],
        algorithm=algorithm,
        signature_base=cavage_signing_string(method, url, headers, covered, created, expires),
        signature=b64decode(params["signature"], "signature"),
        covered=covered,
        created=_unix(created, "created") if "(created)" in covered else None,
        expires=_unix(expires, "expires") if "(expires)" in covered else None,
        date=header_value(headers, "date") if "date" in covered else None,
    )


def _parse_digest_header(value: str | None) -> dict[str, bytes]:
    if value is None:
        raise MalformedSignature("digest is covered but the Digest header is missing")
    digests: dict[str, bytes] = {}
    for item in value.split(","):
        alg, sep, encoded = item.strip().partition("=")
        if not sep:
            raise MalformedSignature(f"garbled Digest header {value!r}")
        digests[alg.lower()] = b64decode(encoded, "Digest")
    return digests


def _unix(value: str | None, name: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value or ""), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise MalformedSignature(f"{name} is not a Unix timestamp") from exc


# --- shared entry points -------------------------------------------------------------------


def parse_signature(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    label: str | None = None,
) -> ParsedSignature:
    """Extract the signature from a request and check the body digest; no key needed yet.

    RFC 9421 (``Signature-Input``) wins over cavage (``Signature`` or
    ``Authorization: Signature``). ``label`` picks an RFC 9421 signature; default is the first.
    """
    if header_value(headers, "signature-input") is not None:
        # Imported here because rfc9421 builds on this module's errors and helpers.
        from federation.rfc9421 import parse_rfc9421

        return parse_rfc9421(method, url, headers, body, label=label)
    value = header_value(headers, "signature")
    if value is None:
        scheme, _, rest = (header_value(headers, "authorization") or "").partition(" ")
        if scheme.lower() != "signature":
            raise MalformedSignature("request has no Signature header")
        value = rest
    return _parse_cavage(method, url, headers, body, value)


def verify_signature(
    parsed: ParsedSignature,
    public_key: PublicKey,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> None:
    """Check the signed timestamps against ``now`` ± ``window`` and the signature itself."""
    now = _aware(now)
    if parsed.date is not None:
        try:
            date = parsedate_to_datetime(parsed.date)
        except (TypeError, ValueError, IndexError) as exc:
            raise MalformedSignature(f"unparseable Date header {parsed.date!r}") from exc
        _check_window(date if date.tzinfo else date.replace(tzinfo=UTC), now, window, "Date")
    if parsed.created is not None:
        _check_window(parsed.created, now, window, "created")
    if parsed.expires is not None and now > parsed.expires:
        raise InvalidSignature(f"signature expired at {parsed.expires.isoformat()}")
    verify_bytes(public_key, parsed.algorithm, parsed.signature_base, parsed.signature)


def _check_window(moment: datetime, now: datetime, window: timedelta, what: str) -> None:
    if abs(now - moment) > window:
        raise InvalidSignature(
            f"{what} {moment.isoformat()} is more than {window} away from {now.isoformat()}"
        )

"""RFC 9421 HTTP Message Signatures: the Structured Field subset, signature base, sign/parse.

Verification of a parsed signature is shared with cavage: see
:func:`federation.httpsig.verify_signature`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import SplitResult

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.httpsig import (
    MalformedSignature,
    ParsedSignature,
    PrivateKey,
    b64decode,
    check_digests,
    header_value,
    path_and_query,
    request_authority,
    sign_bytes,
    split_url,
    url_authority,
)

RFC9421_ALGORITHMS = frozenset({"rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519"})
_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,3})?")
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")


class Token(str):
    """An sf-token, kept apart from sf-string so it serializes without quotes."""

    __slots__ = ()


BareItem = int | float | str | bytes | bool
Params = tuple[tuple[str, BareItem], ...]


@dataclass(frozen=True)
class Item:
    """An sf-item: a bare item with parameters."""

    value: BareItem
    params: Params = ()


@dataclass(frozen=True)
class InnerList:
    """An sf-inner-list: items with parameters, plus the list's own parameters."""

    items: tuple[Item, ...]
    params: Params = ()


class _Parser:
    """Recursive-descent parser for the RFC 8941 dictionary grammar."""

    def __init__(self, text: str, field: str) -> None:
        self.text, self.field, self.pos = text.strip(" \t"), field, 0

    def fail(self, why: str) -> MalformedSignature:
        return MalformedSignature(f"garbled {self.field} header ({why} at offset {self.pos})")

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def dictionary(self) -> dict[str, Item | InnerList]:
        members: dict[str, Item | InnerList] = {}
        while self.pos < len(self.text):
            key = self.key()
            if self.peek() == "=":
                self.pos += 1
                members[key] = self.inner_list() if self.peek() == "(" else self.item()
            else:
                members[key] = Item(True, self.params())
            while self.peek() in (" ", "\t"):
                self.pos += 1
            if self.pos == len(self.text):
                break
            if self.peek() != ",":
                raise self.fail("expected ','")
            self.pos += 1
            while self.peek() in (" ", "\t"):
                self.pos += 1
            if self.pos == len(self.text):
                raise self.fail("trailing ','")
        return members

    def inner_list(self) -> InnerList:
        self.pos += 1  # "("
        items: list[Item] = []
        while True:
            while self.peek() == " ":
                self.pos += 1
            if self.pos == len(self.text):
                raise self.fail("unterminated inner list")
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.params())
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("expected ' ' or ')' in inner list")

    def item(self) -> Item:
        return Item(self.bare_item(), self.params())

    def params(self) -> Params:
        params: dict[str, BareItem] = {}
        while self.peek() == ";":
            self.pos += 1
            while self.peek() == " ":
                self.pos += 1
            key = self.key()
            if self.peek() == "=":
                self.pos += 1
                params[key] = self.bare_item()
            else:
                params[key] = True
        return tuple(params.items())

    def key(self) -> str:
        return self.match(_KEY, "expected a key").group(0)

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            return b64decode(self.match(_BYTES, "bad byte sequence").group(1), self.field)
        if char == "?":
            flag = self.match(re.compile(r"\?([01])"), "bad boolean").group(1)
            return flag == "1"
        if char == "-" or char.isdigit():
            number = self.match(_NUMBER, "bad number").group(0)
            return float(number) if "." in number else int(number)
        return Token(self.match(_TOKEN, "unexpected character").group(0))

    def string(self) -> str:
        out = []
        self.pos += 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise self.fail("bad escape in string")
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not " " <= char <= "~":
                raise self.fail("non-printable character in string")
            else:
                out.append(char)
        raise self.fail("unterminated string")

    def match(self, pattern: re.Pattern[str], why: str) -> re.Match[str]:
        found = pattern.match(self.text, self.pos)
        if found is None:
            raise self.fail(why)
        self.pos = found.end()
        return found


def parse_dictionary(value: str, field: str) -> dict[str, Item | InnerList]:
    """Parse an RFC 8941 dictionary; ``field`` names the header in error messages."""
    return _Parser(value, field).dictionary()


def serialize_bare_item(value: BareItem) -> str:
    """Serialize a bare item per RFC 8941 section 4.1.3."""
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, Token):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_params(params: Params) -> str:
    """Serialize parameters; a true boolean is written as the bare key."""
    return "".join(
        f";{key}" if value is True else f";{key}={serialize_bare_item(value)}"
        for key, value in params
    )


def serialize_inner_list(inner: InnerList) -> str:
    """Serialize an inner list with its parameters (the ``@signature-params`` value)."""
    items = " ".join(serialize_bare_item(i.value) + serialize_params(i.params) for i in inner.items)
    return f"({items}){serialize_params(inner.params)}"


def content_digest(body: bytes) -> str:
    """Return the RFC 9530 ``Content-Digest`` value for a body: ``sha-256=:<base64>:``."""
    return "sha-256=" + serialize_bare_item(hashlib.sha256(body).digest())


def component_names(inner: InnerList) -> tuple[str, ...]:
    """Return the covered component names, refusing parameters, duplicates and non-strings."""
    names = []
    for item in inner.items:
        if not isinstance(item.value, str) or isinstance(item.value, Token):
            raise MalformedSignature("covered components must be strings")
        if item.params:
            raise MalformedSignature(f"component parameters are not supported ({item.value!r})")
        if item.value in names:
            raise MalformedSignature(f"component {item.value!r} is covered twice")
        names.append(item.value)
    return tuple(names)


def signature_base(method: str, url: str, headers: Mapping[str, str], inner: InnerList) -> bytes:
    """Build the RFC 9421 section 2.5 signature base, ending with ``@signature-params``."""
    parts = split_url(url)
    lines = []
    for name in component_names(inner):
        if name.startswith("@"):
            value = _derived(name, method, parts, headers)
        else:
            found = header_value(headers, name)
            if found is None:
                raise MalformedSignature(f"covered header {name!r} is missing")
            value = found
        if "\n" in value:
            raise MalformedSignature(f"component {name!r} contains a newline")
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {serialize_inner_list(inner)}')
    return "\n".join(lines).encode("utf-8")


def _derived(name: str, method: str, parts: SplitResult, headers: Mapping[str, str]) -> str:
    if name == "@method":
        return method.upper()
    if name == "@authority":
        return (url_authority(parts) or request_authority(parts, headers)).lower()
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return f"?{parts.query}"
    if name == "@request-target":
        return path_and_query(parts)
    if name in ("@scheme", "@target-uri"):
        authority = url_authority(parts)
        if not parts.scheme or authority is None:
            raise MalformedSignature(f"{name} needs the absolute request URL")
        if name == "@scheme":
            return parts.scheme.lower()
        return f"{parts.scheme.lower()}://{authority}{path_and_query(parts)}"
    raise MalformedSignature(f"unsupported derived component {name!r}")


def parse_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    label: str | None = None,
) -> ParsedSignature:
    """Extract one RFC 9421 signature (the first, or ``label``) and check Content-Digest."""
    inputs = parse_dictionary(header_value(headers, "signature-input") or "", "Signature-Input")
    signature_field = header_value(headers, "signature")
    if signature_field is None:
        raise MalformedSignature("Signature-Input is present but Signature is missing")
    signatures = parse_dictionary(signature_field, "Signature")
    if not inputs:
        raise MalformedSignature("Signature-Input is empty")
    label = label or next(iter(inputs))
    spec, signature = inputs.get(label), signatures.get(label)
    if not isinstance(spec, InnerList):
        raise MalformedSignature(f"Signature-Input has no inner list labelled {label!r}")
    if not isinstance(signature, Item) or not isinstance(signature.value, bytes):
        raise MalformedSignature(f"Signature has no byte sequence labelled {label!r}")
    names = component_names(spec)
    params = dict(spec.params)
    key_id, alg = params.get("keyid"), params.get("alg")
    if not isinstance(key_id, str) or not key_id:
        raise MalformedSignature("signature parameters lack a keyid string")
    if alg is not None and alg not in RFC9421_ALGORITHMS:
        raise MalformedSignature(f"unsupported signature algorithm {alg!r}")
    if "@method" not in names:
        raise MalformedSignature("signature must cover @method")
    if "@target-uri" not in names and not {"@authority", "@path"} <= set(names):
        raise MalformedSignature("signature must cover @target-uri or @authority and @path")
    created, expires = _timestamp(params, "created"), _timestamp(params, "expires")
    if created is None and "date" not in names:
        raise MalformedSignature("signature needs a created parameter or a covered date")
    if body and "content-digest" not in names:
        raise MalformedSignature("request has a body but content-digest is not covered")
    if "content-digest" in names:
        check_digests(
            _content_digests(header_value(headers, "content-digest")), body or b"", "Content-Digest"
        )
    return ParsedSignature(
        scheme="rfc9421",
        key_id=key_id,
        algorithm=str(alg) if alg is not None else None,
        signature_base=signature_base(method, url, headers, spec),
        signature=signature.value,
        covered=names,
        created=created,
        expires=expires,
        date=header_value(headers, "date") if "date" in names else None,
        label=label,
    )


def _timestamp(params: Mapping[str, BareItem], name: str) -> datetime | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedSignature(f"{name} must be an integer")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise MalformedSignature(f"{name} is out of range") from exc


def _content_digests(value: str | None) -> dict[str, bytes]:
    if value is None:
        raise MalformedSignature("content-digest is covered but the header is missing")
    digests = {}
    for alg, member in parse_dictionary(value, "Content-Digest").items():
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise MalformedSignature(f"Content-Digest {alg} is not a byte sequence")
        digests[alg] = member.value
    return digests


def sign_request_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    *,
    created: datetime | None = None,
    expires: datetime | None = None,
    components: Sequence[str] | None = None,
    label: str = "sig1",
    alg: str | None = None,
    include_alg: bool = True,
    nonce: str | None = None,
    tag: str | None = None,
) -> dict[str, str]:
    """Sign a request (RFC 9421); return Content-Digest (for bodies), Signature-Input, Signature.

    Default components are ``@method @target-uri`` plus ``content-digest content-type`` for
    bodies; ``alg`` defaults to ``ed25519`` or ``rsa-v1_5-sha256`` by key type.
    """
    if alg is None:
        alg = "ed25519" if isinstance(private_key, Ed25519PrivateKey) else "rsa-v1_5-sha256"
    if alg not in RFC9421_ALGORITHMS:
        raise ValueError(f"unsupported RFC 9421 algorithm {alg!r}")
    if any(t is not None and t.tzinfo is None for t in (created, expires)):
        raise ValueError("created and expires must be timezone-aware")
    if not _KEY.fullmatch(label):
        raise ValueError(f"label {label!r} is not a structured-field key")
    added = {"Content-Digest": content_digest(body)} if body is not None else {}
    merged = {k: v for k, v in headers.items() if k.lower() != "content-digest"} | added
    if components is None:
        components = ["@method", "@target-uri"]
        if body is not None:
            components.append("content-digest")
            if header_value(merged, "content-type") is not None:
                components.append("content-type")
    params: list[tuple[str, BareItem]] = [
        ("created", int((created or datetime.now(UTC)).timestamp()))
    ]
    if expires is not None:
        params.append(("expires", int(expires.timestamp())))
    params.append(("keyid", key_id))
    params += [("alg", alg)] if include_alg else []
    params += [(name, value) for name, value in (("nonce", nonce), ("tag", tag)) if value]
    inner = InnerList(tuple(Item(name) for name in components), tuple(params))
    signature = sign_bytes(private_key, alg, signature_base(method, url, merged, inner))
    added["Signature-Input"] = f"{label}={serialize_inner_list(inner)}"
    added["Signature"] = f"{label}={serialize_bare_item(signature)}"
    return added

"""ActivityStreams JSON from peers → clean node data, through the one validation layer.

Peers may run other vocabulary versions: terms we do not know are dropped (we index what we
understand) instead of rejecting the whole measure.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

import orjson

from federation.documents import LIBRARY_NUMBER_KEYS, LIBRARY_TEXT_KEYS, LICENCE_URIS
from node.markup import html_to_text, sanitize_html
from node.validation import ValidationError, validate_library, validate_measure
from node.vocab import Vocabularies

LICENCE_BY_URI = {uri: term for term, uri in LICENCE_URIS.items()}
_LONG_NUMBER = re.compile(rb"\d{19}")  # may exceed 64 bits (also matches inside strings)
MAX_DEPTH = 64  # nesting of objects and arrays in an activity (real ones: fewer than 10)
_UNSET = object()


class ObjectError(ValueError):
    """A remote object cannot be used (malformed, or fails validation)."""


def loads_exact(body: bytes) -> Any:
    """A request body's JSON, read exactly as ``json`` reads it; ValueError if it is none.

    orjson (7× faster on a typical Create) reads most bodies; a body with a run of 19 or
    more digits goes to ``json``, because orjson turns integers beyond 64 bits into floats
    and loses their digits, and so does what orjson refuses. ``NaN``, ``Infinity`` and
    numbers too large for a float (not JSON, or not storable: PostgreSQL's json type
    refuses them) and nesting deeper than ``MAX_DEPTH`` are errors. So the same bytes
    always give the same document, and one that can be stored: a body kept as received
    (the inbox spool) reads back exactly as it was checked.
    """
    doc: Any = _UNSET
    if _LONG_NUMBER.search(body) is None:
        with contextlib.suppress(orjson.JSONDecodeError):
            doc = orjson.loads(body)
    if doc is _UNSET:
        try:
            doc = json.loads(body, parse_constant=_no_constant, parse_float=_finite)
        except RecursionError:
            raise ValueError(f"the JSON is nested more than {MAX_DEPTH} levels deep") from None
    # Cheap first: a body with few brackets cannot be nested deeply.
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and _deeper_than(doc, MAX_DEPTH):
        raise ValueError(f"the JSON is nested more than {MAX_DEPTH} levels deep")
    return doc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large a number")
    return value


def _deeper_than(doc: Any, limit: int) -> bool:
    """Whether objects and arrays in ``doc`` nest more than ``limit`` levels deep."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def host_of(url: str) -> str:
    """The authority (host[:port]) of a URL, lowercased; "" for what is not a URL."""
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:  # e.g. "http://[x/" (a broken IPv6 literal)
        return ""


def web_url(value: Any) -> str | None:
    """An http(s) URL of at most 2048 characters, or None (no javascript: links from peers)."""
    if not isinstance(value, str) or len(value) > 2048:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def object_id(value: Any) -> str | None:
    """The id of an object given inline or by reference."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


MAX_ID_BYTES = 2048  # stored ids are indexed, and indexes limit a row's size


def storable(text: str, limit: int = MAX_ID_BYTES) -> bool:
    """Whether ``text`` is at most ``limit`` bytes of UTF-8 (a lone surrogate, which JSON
    escapes allow, is not text at all)."""
    try:
        return len(text.encode()) <= limit
    except UnicodeEncodeError:
        return False


def storable_id(value: Any) -> str | None:
    """``object_id``, if the database can store and index it."""
    found = object_id(value)
    return found if found is not None and storable(found) else None


def first_url(value: Any) -> str | None:
    """A URL from a string, a Link object or a list of them (prefers text/html)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        href = value.get("href") or value.get("id")
        return href if isinstance(href, str) else None
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item.get("mediaType") == "text/html":
                return first_url(item)
        for item in value:
            url = first_url(item)
            if url:
                return url
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _known(vocab: Vocabularies, scheme: str, values: Any) -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        return []
    known = (vocab[scheme].resolve(v) for v in values if isinstance(v, str))
    return [term for term in known if term is not None]


def _one(vocab: Vocabularies, scheme: str, value: Any) -> str | None:
    terms = _known(vocab, scheme, value)
    return terms[0] if terms else None


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    return html_to_text(value)[:limit]


def measure_fields(doc: dict[str, Any], vocab: Vocabularies) -> dict[str, Any]:
    """Validated measure fields from an Article (bibnetz extension fields where present)."""
    source = doc.get("source")
    if isinstance(source, dict) and source.get("mediaType") == "text/markdown":
        body = str(source.get("content") or "")
    else:
        body = _text(doc.get("content"), 100_000)
    title = doc.get("name") if isinstance(doc.get("name"), str) else None
    if not title:
        title = _text(doc.get("summary") or doc.get("content"), 120) or "(ohne Titel)"
    licence = doc.get("license")
    coop = _dict(doc.get("cooperation"))
    tags = doc.get("keywords")
    if not isinstance(tags, list):
        tags = [
            t["name"].lstrip("#")
            for t in doc.get("tag") or []
            if isinstance(t, dict) and t.get("type") == "Hashtag" and isinstance(t.get("name"), str)
        ]
    raw: dict[str, Any] = {
        "kind": _one(vocab, "measure-kinds", doc.get("measureKind")) or "measure",
        "title": title[:200],
        "summary": _text(doc.get("summary"), 1000),
        "body": body[:100_000],
        "fields_of_action": _known(vocab, "fields-of-action", doc.get("fieldsOfAction")),
        "target_groups": _known(vocab, "target-groups", doc.get("targetGroups")),
        "formats": _known(vocab, "formats", doc.get("formats")),
        "partners": _known(vocab, "partners", doc.get("partners")),
        "tags": [str(t)[:50] for t in tags if isinstance(t, str)][:20],
        "effort": _one(vocab, "effort", doc.get("effort")),
        "cost_band": _one(vocab, "cost-bands", doc.get("costBand")),
        "status": _one(vocab, "statuses", doc.get("measureStatus")) or "done",
        "volunteers_involved": doc.get("volunteersInvolved")
        if isinstance(doc.get("volunteersInvolved"), bool)
        else None,
        "funding": _text(doc.get("funding"), 300),
        "duration": _text(doc.get("duration"), 200),
        "licence": LICENCE_BY_URI.get(licence, "CC-BY-4.0") if isinstance(licence, str) else None,
        "language": doc.get("language") if isinstance(doc.get("language"), str) else "de",
        "coop_capacity": _text(coop.get("capacity"), 300),
        "coop_region": _text(coop.get("region"), 200),
        "coop_deadline": coop.get("deadline"),
        "published_at": doc.get("published"),
    }
    try:
        fields = validate_measure(raw, vocab)
    except ValidationError as exc:
        raise ObjectError(f"measure {doc.get('id')}: {exc}") from exc
    snapshot = _dict(doc.get("librarySnapshot"))
    fields["snapshot_population"] = _number(snapshot.get("population"), 10_000_000, integer=True)
    fields["snapshot_area_m2"] = _number(snapshot.get("publicAreaM2"), 1_000_000)
    fields["snapshot_fte"] = _number(snapshot.get("staffFte"), 10_000)
    fields["url"] = web_url(first_url(doc.get("url"))) or web_url(doc.get("id"))
    return fields


def _number(value: Any, high: float, *, integer: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        return None
    return int(value) if integer else float(value)


def library_fields(doc: dict[str, Any], vocab: Vocabularies) -> dict[str, Any]:
    """Validated profile fields of a bibnetz library actor (for the local mirror row)."""
    profile = _dict(doc.get("library"))
    raw: dict[str, Any] = {
        "name": _text(doc.get("name"), 200) or str(doc.get("preferredUsername") or "?")[:200],
        "summary": _text(doc.get("summary"), 5000),
        "kind": _one(vocab, "organisation-kinds", profile.get("kind"))
        or ("association" if doc.get("type") == "Group" else "library"),
        "federal_state": _one(vocab, "federal-states", profile.get("federalState")),
        "operator_type": _one(vocab, "operator-types", profile.get("operatorType")),
    }
    for column, key in {**LIBRARY_TEXT_KEYS, **LIBRARY_NUMBER_KEYS}.items():
        raw[column] = profile.get(key)
    try:
        return validate_library(raw, vocab)
    except ValidationError as exc:
        # A peer's bad number must not hide the whole library: keep what is valid.
        bad = {e.field for e in exc.errors}
        if "name" in bad:
            raise ObjectError(f"actor {doc.get('id')}: {exc}") from exc
        return validate_library({k: v for k, v in raw.items() if k not in bad}, vocab)


def reply_html(doc: dict[str, Any]) -> str:
    """Sanitised HTML of a reply (Note) for display under a measure."""
    content = doc.get("content")
    return sanitize_html(content) if isinstance(content, str) else ""

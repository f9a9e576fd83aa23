"""UI translations: JSON catalogues keyed by the English source text, German first."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from aiohttp import web

CATALOGUE_DIR = Path(__file__).parent / "translations"
LANGUAGES = ("de", "en")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The message catalogue of a language (English source text → translation)."""
    path = CATALOGUE_DIR / f"{lang}.json"
    if not path.is_file():
        return {}
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def translator(lang: str) -> Callable[..., str]:
    """A gettext-like function for templates: ``_("Hello {name}", name=…)``."""
    messages = catalogue(lang)

    def gettext(message: str, **params: object) -> str:
        text = messages.get(message) or message
        return text.format(**params) if params else text

    return gettext


def negotiate_language(request: web.Request, default: str) -> str:
    """Pick the UI language: ?lang=, then the lang cookie, then Accept-Language."""
    for candidate in (request.query.get("lang"), request.cookies.get("lang")):
        if candidate in LANGUAGES:
            return candidate
    header = request.headers.get("Accept-Language", "")
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        piece = part.strip()
        if not piece:
            continue
        code, _, q = piece.partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((weight, code.split("-")[0].strip().lower()))
    for _weight, code in sorted(ranked, key=lambda item: -item[0]):
        if code in LANGUAGES:
            return code
    return default

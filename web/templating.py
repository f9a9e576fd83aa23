"""Jinja2 environment and the one render helper every UI handler uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from node import keys
from web.i18n import negotiate_language, translator

TEMPLATE_DIR = Path(__file__).parent / "templates"


def setup_templates(app: web.Application) -> None:
    """Create the template environment (autoescaping on) for this app."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app[keys.TEMPLATES] = env


def render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """Render a template in the request's language."""
    settings = request.app[keys.SETTINGS]
    lang = negotiate_language(request, settings.default_language)
    env = request.app[keys.TEMPLATES]
    html = env.get_template(template).render(
        **context,
        _=translator(lang),
        lang=lang,
        vocab=request.app[keys.VOCAB],
        settings=settings,
        url_for=lambda name, **parts: str(request.app.router[name].url_for(**parts)),
    )
    response = web.Response(text=html, content_type="text/html", status=status)
    if request.query.get("lang") == lang:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response

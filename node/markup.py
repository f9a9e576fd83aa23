"""Markdown to safe HTML, and sanitising of HTML that arrives from other servers."""

from __future__ import annotations

import html as html_lib
from functools import cache

import nh3
from markdown_it import MarkdownIt

# What a measure's description may contain after sanitising: structure, emphasis, links.
ALLOWED_TAGS = {
    "p", "br", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "b", "i", "a", "code",
    "pre", "blockquote", "hr", "table", "thead", "tbody", "tr", "th", "td", "span",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "span": {"class"}}


@cache
def _markdown() -> MarkdownIt:
    # Raw HTML in Markdown is switched off: text from librarians is text, not markup.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def sanitize_html(html: str) -> str:
    """Keep only harmless tags and attributes; links get rel=noopener nofollow."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow ugc",
    )


def render_markdown(text: str) -> str:
    """Render Markdown to sanitised HTML (headings are shifted so h1 never appears)."""
    html = _markdown().render(text)
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return sanitize_html(html)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment (for summaries and the search index)."""
    return html_lib.unescape(nh3.clean(html, tags=set(), attributes={})).strip()

"""Any search as an Atom feed (a saved search to subscribe to) or as a CSV download."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from xml.etree import ElementTree as ET

from aiohttp import web

from node import keys
from node.interchange import spreadsheet_safe
from web.api import bad_parameter, searched
from web.params import ParameterError, parse_search

ATOM = "http://www.w3.org/2005/Atom"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CSV_MAX_ROWS = 5000
CSV_COLUMNS = [
    "title", "summary", "kind", "fields_of_action", "target_groups", "formats", "cost_band",
    "effort", "status", "published", "library", "library_account", "population_at_publication",
    "url",
]  # fmt: skip


async def atom(request: web.Request) -> web.Response:
    """GET /api/v1/measures.atom: the newest 50 results of a search."""
    settings, vocab = request.app[keys.SETTINGS], request.app[keys.VOCAB]
    try:
        query = replace(parse_search(request.query, vocab), order="newest", limit=50,
                        with_facets=False, cursor=None)  # fmt: skip
    except ParameterError as exc:
        raise bad_parameter(exc.name, exc.message) from None
    result = await searched(request, query)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    self_url = f"{settings.public_url}{request.path_qs}"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = self_url
    # XML 1.0 cannot carry control characters, whatever a client puts into q.
    title = CONTROL.sub("", request.query.get("q", "")) or "alle Maßnahmen"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"bibnetz · {settings.node_name}: {title}"
    newest = max((h.measure.updated_at for h in result.items), default=None)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = (newest.isoformat() if newest else
                                                       "1970-01-01T00:00:00+00:00")  # fmt: skip
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    for hit in result.items:
        measure, library = hit.measure, hit.library
        url = measure.url or f"{settings.public_url}/measures/{measure.uid}"
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = measure.ap_id or url
        ET.SubElement(entry, f"{{{ATOM}}}title").text = measure.title
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = measure.updated_at.isoformat()
        ET.SubElement(entry, f"{{{ATOM}}}published").text = measure.published_at.isoformat()
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=url)
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(author, f"{{{ATOM}}}name").text = library.name
        kind = vocab["measure-kinds"].label(measure.kind, "de")
        ET.SubElement(entry, f"{{{ATOM}}}category", term=measure.kind, label=kind)
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = measure.summary or measure.title
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return web.Response(body=body, content_type="application/atom+xml", charset="utf-8")


async def csv_export(request: web.Request) -> web.Response:
    """GET /api/v1/measures.csv: every result of a search (up to CSV_MAX_ROWS) as CSV."""
    settings, vocab = request.app[keys.SETTINGS], request.app[keys.VOCAB]
    try:
        query = replace(parse_search(request.query, vocab), limit=100, with_facets=False)
    except ParameterError as exc:
        raise bad_parameter(exc.name, exc.message) from None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = 0
    while rows < CSV_MAX_ROWS:
        result = await searched(request, query)
        for hit in result.items:
            m, lib = hit.measure, hit.library
            writer.writerow([spreadsheet_safe(str(cell)) for cell in [
                m.title, m.summary, m.kind, "; ".join(m.fields_of_action),
                "; ".join(m.target_groups), "; ".join(m.formats), m.cost_band or "",
                m.effort or "", m.status, m.published_at.date().isoformat(), lib.name,
                f"{lib.handle}@{lib.domain or settings.domain}",
                "" if m.snapshot_population is None else m.snapshot_population,
                m.url or f"{settings.public_url}/measures/{m.uid}",
            ]])  # fmt: skip
            rows += 1
        if not result.next_cursor or not result.items:
            break
        query = replace(query, cursor=result.next_cursor)
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="bibnetz-massnahmen.csv"'},
    )

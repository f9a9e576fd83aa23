"""Benchmark: the search service over N measures from L libraries on a fresh SQLite file.

Usage: python -m bench.search [--measures N] [--libraries L] [--queries Q] [--smoke]
                              [--database PATH] [--reuse]

Fills the database (bench.search_data), then times mixed query loads through the
node's ``Searcher`` in-process (on SQLite: one worker thread per search, as the node serves):
text + two facets + a population range + facet counts, the same with "my library"
(combined ranking), and the same filters without text (newest first).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.common import median, percentile
from bench.search_data import fill_database, library_rows
from bench.search_http import http_load
from bench.search_sql import capture
from node.db import create_engine, create_sessionmaker, create_thread_engine
from node.search import Range, Searcher, SearchQuery
from tests.node.search_corpus import BLOCKS

TERMS = (
    "Lesesommer", "Makerspace", "Sanierung", "Ehrenamt", "Bilderbuchkino", "Sprachcafé",
    "Onleihe", "Repair-Café", '"Bibliothek der Dinge"', "lese*", "Förderverein",
    "Veranstaltungen", "Gebäude", "Open Library", "Kita", "Senioren", "Jugendliche",
    "Podcast", "Klimawoche", "Hausaufgabenhilfe",
)  # fmt: skip
FIELDS = ("reading-promotion", "media-education", "events-culture", "third-place",
          "collection", "volunteering", "learning-place", "sustainability")  # fmt: skip
GROUPS = ("children-0-5", "children-6-12", "teens-13-17", "adults", "seniors-60",
          "kita-schools", "migration", "volunteers")  # fmt: skip


def mixed_queries(count: int, libraries: list[dict[str, Any]], seed: int = 11) -> list[SearchQuery]:
    """Text + one field of action + one target group + a population range (±30 % of a
    random library), facet counts on: what a librarian's filtered search looks like.

    70 % take word, field and group from one corpus block (queries with hits), 20 % combine
    topic words and facets at random (often few hits), 10 % use a word in most measures.
    """
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        population = rng.choice(libraries)["population"]
        block = rng.choice(BLOCKS)
        field, group = rng.choice(block.fields), rng.choice(block.groups)
        roll = rng.random()
        if roll < 0.7:
            text = rng.choice([w for w in block.title.split() if len(w) > 5] or [block.title])
        elif roll < 0.9:
            text, field, group = rng.choice(TERMS), rng.choice(FIELDS), rng.choice(GROUPS)
        else:
            text = rng.choice(("Bücherei", "Ehrenamtliche", "Ergebnisse"))
        queries.append(
            SearchQuery(
                text=text,
                fields_of_action=(field,),
                target_groups=(group,),
                population=Range(population * 0.7, population * 1.3),
            )
        )
    return queries


async def run_load(
    url: str, name: str, queries: list[SearchQuery], say: Callable[[str], None] = print
) -> list[float]:
    """Time each query (ms) after a short warm-up; print p50/p95/max and result sizes."""
    engine = create_engine(url)
    reader = create_thread_engine(url)
    # As the node serves it: on SQLite the whole search runs in a worker thread.
    searcher = Searcher(create_sessionmaker(engine), reader)
    timings, totals, approximate = [], [], 0
    try:
        for query in queries[:5]:
            await searcher.search(query)
        for query in queries:
            started = time.perf_counter()
            result = await searcher.search(query)
            timings.append((time.perf_counter() - started) * 1000)
            totals.append(result.total)
            approximate += result.facets_approximate
    finally:
        if reader is not None:
            reader.dispose()
        await engine.dispose()
    say(f"{name}: p50 {median(timings):.1f} ms, p95 {percentile(timings, 95):.1f} ms, "
        f"max {max(timings):.1f} ms over {len(timings)} queries "
        f"(hits: median {median([float(t) for t in totals]):.0f}, max {max(totals)}; "
        f"approximate facets: {approximate})")  # fmt: skip
    return timings


async def main(args: argparse.Namespace) -> None:
    """Generate (unless reused) and run the loads."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.database) if args.database else Path(tmp) / "search.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        print(f"python {platform.python_version()}, {platform.machine()}, database {path}")
        started = time.perf_counter()
        if args.reuse and path.exists():
            libraries = library_rows(args.libraries, random.Random(7))  # same seed as filled
        else:
            path.unlink(missing_ok=True)
            libraries = await fill_database(
                url, measures=args.measures, libraries=args.libraries, say=print
            )
            size = path.stat().st_size / 2**20
            seconds = time.perf_counter() - started
            print(f"generated {args.measures:,} measures, {args.libraries:,} libraries: "
                  f"{seconds:.0f} s, {size:.0f} MiB")  # fmt: skip
        queries = mixed_queries(args.queries, libraries)
        picked = random.Random(3).sample(libraries, k=min(20, len(libraries)))
        mine = [replace(q, my_library=picked[i % len(picked)]["id"]) for i, q in enumerate(queries)]
        direct = await run_load(
            url, "text + 2 facets + population range + facets (relevance)", queries
        )
        captured = await capture(url, queries)
        await http_load(
            path, queries, captured, direct, "text + 2 facets + population range + facets"
        )
        await run_load(url, "same, ranked for my library (combined)", mine)
        await run_load(url, "same filters without text (newest first)",
                       [replace(q, text="") for q in queries])  # fmt: skip


def cli() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--measures", type=int, default=100_000)
    parser.add_argument("--libraries", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--database", help="keep the database at this path")
    parser.add_argument("--reuse", action="store_true", help="reuse --database if it exists")
    parser.add_argument("--smoke", action="store_true", help="tiny run to check it works")
    args = parser.parse_args()
    if args.smoke:
        args.measures, args.libraries, args.queries = 2_000, 50, 30
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()

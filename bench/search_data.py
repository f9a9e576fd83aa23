"""Synthetic but realistic search data: libraries of all sizes and measures built from the
hand-written German blocks of the test corpus, bulk-loaded into any database URL."""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from node import migrate
from node.db import create_engine, create_sessionmaker, unit_of_work
from node.models import Library, Measure
from node.search import rebuild
from tests.node.search_corpus import synthetic_text

STATES = ("DE-BW", "DE-BY", "DE-NI", "DE-NW", "DE-HE", "DE-SN", "DE-ST", "DE-TH", "DE-SH",
          "DE-RP", "DE-BB", "DE-MV", "DE-SL")  # fmt: skip
EXTRA_FIELDS = ("public-relations", "volunteering", "cooperation", "funding", "strategy")
CHUNK = 5000
Say = Callable[[str], None]


def library_rows(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Libraries from villages (800) to cities (~300,000): log-uniform population."""
    rows = []
    for n in range(count):
        population = int(math.exp(rng.uniform(math.log(800), math.log(300_000))))
        kind = rng.choices(("library", "association", "fachstelle"), (90, 6, 4))[0]
        remote = n % 5 != 0
        rows.append({
            "id": n + 1, "handle": f"bib{n}", "domain": f"peer{n % 40}.example" if remote else "",
            "is_local": not remote, "ap_id": f"https://peer{n % 40}.example/l/bib{n}" if remote
            else None, "name": f"Bücherei {n}", "kind": kind, "town": f"Ort {n}",
            "federal_state": rng.choice(STATES), "population": population,
            "public_area_m2": round(population * rng.uniform(0.02, 0.06), 1),
            "staff_fte": round(max(0.0, population / 4000 * rng.uniform(0.5, 1.5)), 2),
            "summary": "",
        })  # fmt: skip
    return rows


def measure_rows(
    start_id: int, count: int, libraries: list[dict[str, Any]], rng: random.Random
) -> list[dict[str, Any]]:
    """``count`` measures with ids from ``start_id``; dates spread over five years."""
    origin = datetime(2021, 1, 1, tzinfo=UTC)
    rows = []
    for ident in range(start_id, start_id + count):
        lib = rng.choice(libraries)
        block, body = synthetic_text(rng)
        fields = list(block.fields)
        if rng.random() < 0.3:
            fields.append(rng.choice(EXTRA_FIELDS))
        published = origin + timedelta(seconds=rng.randint(0, 5 * 365 * 86400))
        shrink = rng.uniform(0.9, 1.0)  # older snapshots: the library grew a little since
        rows.append({
            "id": ident, "uid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "library_id": lib["id"], "is_local": lib["is_local"], "kind": block.kind,
            "title": f"{block.title} ({lib['town']})", "summary": block.summary, "body": body,
            "fields_of_action": list(dict.fromkeys(fields)), "target_groups": list(block.groups),
            "formats": list(block.formats), "partners": [], "tags": [],
            "cost_band": block.cost, "effort": block.effort, "status": block.status,
            "snapshot_population": int(lib["population"] * shrink),
            "snapshot_area_m2": lib["public_area_m2"], "snapshot_fte": lib["staff_fte"],
            "published_at": published, "created_at": published, "updated_at": published,
        })  # fmt: skip
    return rows


async def fill_database(
    url: str, *, measures: int, libraries: int, seed: int = 7, say: Say = print
) -> list[dict[str, Any]]:
    """Migrate ``url`` and fill it with libraries and measures, then build the index.

    Returns the library rows (the benchmark picks "my library" from them).
    """
    rng = random.Random(seed)
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        sessions = create_sessionmaker(engine)
        libs = library_rows(libraries, rng)
        started = time.perf_counter()
        async with unit_of_work(sessions) as session:
            await session.execute(insert(Library), libs)
            for start in range(0, measures, CHUNK):
                count = min(CHUNK, measures - start)
                await session.execute(insert(Measure), measure_rows(start + 1, count, libs, rng))
                say(f"  measures {start + count:,}/{measures:,} "
                    f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
        started = time.perf_counter()
        async with unit_of_work(sessions) as session:

            def progress(done: int, total: int) -> None:
                if done % 20_000 < 2000 or done == total:
                    say(f"  indexed {done:,}/{total:,} ({time.perf_counter() - started:.0f} s)")

            await rebuild(session, progress)
        say(f"  index built in {time.perf_counter() - started:.1f} s")
    finally:
        await engine.dispose()
    return libs

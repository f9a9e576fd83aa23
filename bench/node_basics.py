"""Benchmark: start-up time and idle memory of a node, and the measure import rate.

Usage: python -m bench.node_basics [--rows N] [--starts N] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import tempfile
import time
from pathlib import Path

from bench.common import free_port, median, rss_mib, start_node
from node import migrate
from node.db import create_engine, create_sessionmaker, unit_of_work
from node.interchange import import_measures, read_rows, validate_rows
from node.libraries import create_library
from node.vocab import load_vocabularies

FIELDS = ["reading-promotion", "media-education", "events-culture", "third-place", "volunteering"]
GROUPS = ["children-0-5", "children-6-12", "teens-13-17", "adults", "seniors-60"]


async def bench_startup(starts: int) -> None:
    """Start fresh nodes; report time to a healthy /healthz and RSS after 2 s idle."""
    times, rss = [], []
    for _ in range(starts):
        with tempfile.TemporaryDirectory() as tmp:
            proc, seconds = await start_node(Path(tmp) / "data", free_port())
            await asyncio.sleep(2)
            rss.append(rss_mib(proc.pid))
            times.append(seconds)
            proc.terminate()
            await proc.wait()
    print(f"start-up to healthy (empty data dir, incl. migrations + key generation): "
          f"median {median(times):.2f} s, max {max(times):.2f} s over {starts} starts")  # fmt: skip
    print(f"idle resident memory: median {median(rss):.1f} MiB")


def write_rows(path: Path, rows: int) -> None:
    """A CSV of synthetic but valid measures."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["title", "summary", "kind", "fields_of_action", "target_groups", "body"])
        for i in range(rows):
            writer.writerow([
                f"Maßnahme {i}: Lesenacht für Familien",
                "Eine Nacht in der Bücherei mit Taschenlampen und Geschichten.",
                "event-concept",
                f"{FIELDS[i % 5]}; {FIELDS[(i + 2) % 5]}",
                GROUPS[i % 5],
                "## Ausgangslage\nWenig Besuch am Abend.\n## Umsetzung\n" + "Text " * 40,
            ])  # fmt: skip


async def bench_import(rows: int) -> None:
    """Import a CSV of ``rows`` measures into an empty SQLite node; report rows per second."""
    vocab = load_vocabularies()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "measures.csv"
        write_rows(source, rows)
        engine = create_engine(f"sqlite+aiosqlite:///{tmp}/bench.sqlite3")
        await migrate.upgrade(engine)
        sessions = create_sessionmaker(engine)
        async with unit_of_work(sessions) as session:
            library = await create_library(session, vocab, "bench", {"name": "Bench"})
        started = time.perf_counter()
        clean = validate_rows(read_rows(source, "csv"), vocab)
        checked = time.perf_counter()
        async with unit_of_work(sessions) as session:
            await import_measures(session, library, clean)
        done = time.perf_counter()
        await engine.dispose()
    print(f"import of {rows} CSV rows (SQLite): read+validate {checked - started:.2f} s, "
          f"write {done - checked:.2f} s, total {rows / (done - started):,.0f} rows/s")  # fmt: skip


def main() -> None:
    """Run the benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.starts = 200, 1
    cores = len(os.sched_getaffinity(0))
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {cores} cores")
    asyncio.run(bench_startup(args.starts))
    asyncio.run(bench_import(args.rows))


if __name__ == "__main__":
    main()

"""A German test corpus: hand-written measures combined with libraries of varied sizes.

``BLOCKS`` are ~60 measures as small public libraries describe them; ``LIBRARIES`` are
libraries from villages to middle towns in several federal states. ``corpus()`` combines
them deterministically into several hundred measures (the tests) and ``synthetic_*`` scale
the same blocks to any size (the benchmark).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path


@dataclass(frozen=True)
class Block:
    """One hand-written measure (text and classification)."""

    title: str
    summary: str
    body: str
    kind: str
    fields: tuple[str, ...]
    groups: tuple[str, ...]
    formats: tuple[str, ...] = ()
    cost: str | None = None
    effort: str | None = None
    status: str = "done"


@dataclass(frozen=True)
class LibrarySpec:
    """A library of the corpus with its profile numbers."""

    handle: str
    name: str
    state: str
    population: int | None
    area: float | None
    fte: float | None
    kind: str = "library"
    domain: str = ""  # empty: local to the test node; else a remote mirror


# search_corpus.txt: per block a title, a summary, body lines, then
# "@ kind cost effort status | formats" and "@ fields of action | target groups"
# (ids of the built-in vocabularies); blocks are separated by blank lines.
_RAW = (Path(__file__).parent / "search_corpus.txt").read_text(encoding="utf-8")


def _parse(raw: str) -> tuple[Block, ...]:
    blocks = []
    for chunk in raw.strip().split("\n\n"):
        lines = chunk.splitlines()
        head, formats = lines[-2].removeprefix("@ ").split(" | ")
        fields, groups = lines[-1].removeprefix("@ ").split(" | ")
        kind, cost, effort, status = head.split()
        blocks.append(
            Block(lines[0], lines[1], " ".join(lines[2:-2]), kind, tuple(fields.split()),
                  tuple(groups.split()), tuple(formats.split()), cost, effort, status)
        )  # fmt: skip
    return tuple(blocks)


BLOCKS = _parse(_RAW)

# Realistic libraries: villages to middle towns; the numbers are plausible, not real.
LIBRARIES: tuple[LibrarySpec, ...] = (
    LibrarySpec("heideloh", "Gemeindebücherei Heideloh", "DE-NI", 6000, 250.0, 1.5),
    LibrarySpec("wiesental", "Bücherei Wiesental", "DE-BW", 6400, 280.0, 1.6),
    LibrarySpec("moorbach", "Bücherei Moorbach", "DE-NI", 5600, 230.0, 1.4),
    LibrarySpec("seeburg", "Stadtbibliothek Seeburg", "DE-BY", 21000, 900.0, 6.5),
    LibrarySpec("kleinau", "Ehrenamtliche Bücherei Kleinau", "DE-ST", 1200, 60.0, 0.0),
    LibrarySpec("talheim", "Gemeindebibliothek Talheim", "DE-BW", 9800, 400.0, 2.5),
    LibrarySpec(
        "fachstelle-nord", "Büchereifachstelle Nord", "DE-SH", None, None, 4.0, "fachstelle"
    ),
    LibrarySpec(
        "lindenau", "Stadtbücherei Lindenau", "DE-SN", 14500, 620.0, 3.8, domain="peer.example"
    ),
    LibrarySpec(
        "brückfeld", "Bücherei Brückfeld", "DE-NI", 6100, 240.0, 1.5, domain="peer.example"
    ),
    LibrarySpec(
        "ostheim", "Stadtbibliothek Ostheim", "DE-TH", 48000, 2100.0, 14.0, domain="other.example"
    ),
    # Brückfeld's twin in another state: similarity ties are broken by the federal state.
    LibrarySpec("zwilling", "Bücherei Zwilling", "DE-BW", 6100, 240.0, 1.5, domain="other.example"),
)


def corpus(seed: int = 4) -> list[tuple[int, Block, datetime]]:
    """(library index, block, published_at) for several hundred measures, deterministic.

    Every library publishes a varied share of the blocks; the dates spread over three years
    so "newest" orders are meaningful and unique.
    """
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    out: list[tuple[int, Block, datetime]] = []
    for lib_index in range(len(LIBRARIES)):
        share = rng.sample(BLOCKS, k=rng.randint(28, 45))
        out.extend((lib_index, block, start) for block in share)
    rng.shuffle(out)
    return [
        (i, b, start + timedelta(hours=65 * n + rng.randint(0, 5)))
        for n, (i, b, _) in enumerate(out)
    ]


FILLER = (
    "Ausgangslage: Wenig Personal, viele Ideen und ein kleines Budget.",
    "Umsetzung: Wir haben das Vorhaben in kleine Schritte geteilt und Zuständigkeiten verteilt.",
    "Ergebnisse: Die Rückmeldungen waren positiv, die Zahlen sind gestiegen.",
    "Lessons learned: Früh planen, Partner einbinden und Ehrenamtliche wertschätzen.",
    "Materialien: Checklisten, Plakatvorlagen und Pressetexte teilen wir gern.",
    "Kontakt: Schreiben Sie uns über das Funktionspostfach der Bücherei.",
)


def synthetic_text(rng: random.Random) -> tuple[Block, str]:
    """A block and a longer body (block body plus filler paragraphs) for the benchmark."""
    block = rng.choice(BLOCKS)
    paragraphs = [block.body, *rng.sample(FILLER, k=3), rng.choice(BLOCKS).body]
    return block, "\n\n".join(paragraphs)

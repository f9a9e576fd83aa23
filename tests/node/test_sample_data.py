"""The example files and the demo data pass the validation layer unchanged."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from node.demo_data import DEMO_LIBRARIES, DEMO_TOOLKIT, DemoLibrary
from node.validation import (
    MEASURE_FIELDS,
    validate_handle,
    validate_library,
    validate_measure,
    validate_toolkit,
)
from node.vocab import load_vocabularies

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VOCAB = load_vocabularies()
CSV_COLUMNS = [
    "title", "summary", "kind", "body", "fields_of_action", "target_groups", "formats",
    "partners", "tags", "effort", "volunteers_involved", "cost_band", "funding", "duration",
    "status", "licence", "language", "coop_capacity", "coop_region", "coop_deadline",
]  # fmt: skip
BODY_SECTIONS = ("## Ausgangslage", "## Umsetzung", "## Ergebnisse", "## Was wir gelernt haben")


def _json_measures() -> list[dict[str, Any]]:
    data = json.loads((EXAMPLES / "measures.json").read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def _csv_header() -> list[str]:
    with (EXAMPLES / "measures.csv").open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def _csv_measures() -> list[dict[str, str]]:
    with (EXAMPLES / "measures.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _demo_measures() -> list[tuple[str, dict[str, Any]]]:
    return [(lib.handle, m) for lib in DEMO_LIBRARIES for m in lib.measures]


def test_there_are_at_least_twenty_example_measures() -> None:
    assert len(_json_measures()) >= 20
    assert len(_csv_measures()) == len(_json_measures())


def test_example_json_uses_only_measure_fields() -> None:
    for item in _json_measures():
        assert set(item) <= set(MEASURE_FIELDS) - {"id", "published_at"}, item["title"]


@pytest.mark.parametrize("index", range(len(_json_measures())))
def test_json_example_measure_is_valid(index: int) -> None:
    item = _json_measures()[index]
    clean = validate_measure(item, VOCAB)
    assert clean["title"] == item["title"]
    for section in BODY_SECTIONS:
        assert section in clean["body"], (item["title"], section)


def test_csv_header_has_the_documented_columns() -> None:
    assert _csv_header() == CSV_COLUMNS


@pytest.mark.parametrize("index", range(len(_csv_measures())))
def test_csv_example_measure_is_valid(index: int) -> None:
    row = _csv_measures()[index]
    assert row["volunteers_involved"] in ("yes", "no")
    validate_measure(row, VOCAB)


def test_csv_and_json_examples_hold_the_same_measures() -> None:
    from_json = [validate_measure(m, VOCAB) for m in _json_measures()]
    from_csv = [validate_measure(m, VOCAB) for m in _csv_measures()]
    assert len(from_json) == len(from_csv)
    for j, c in zip(from_json, from_csv, strict=True):
        assert set(j) == set(c), j["title"]
        for field in j:
            assert j[field] == c[field], (j["title"], field)


def test_all_measure_kinds_appear_in_the_examples() -> None:
    kinds = set(VOCAB["measure-kinds"].ids)
    assert {validate_measure(m, VOCAB)["kind"] for m in _json_measures()} == kinds
    assert {validate_measure(m, VOCAB)["kind"] for m in _csv_measures()} == kinds


def test_cooperation_examples_say_capacity_region_and_deadline() -> None:
    for item in _json_measures():
        clean = validate_measure(item, VOCAB)
        if clean["kind"] in ("cooperation-offer", "cooperation-request"):
            assert clean["coop_capacity"], clean["title"]
            assert clean["coop_region"], clean["title"]
            assert clean["coop_deadline"] is not None, clean["title"]


def test_demo_has_four_organisations_with_unique_valid_handles() -> None:
    handles = [validate_handle(lib.handle) for lib in DEMO_LIBRARIES]
    assert handles == [lib.handle for lib in DEMO_LIBRARIES]
    assert len(set(handles)) == len(handles) == 4


@pytest.mark.parametrize("library", DEMO_LIBRARIES, ids=lambda lib: lib.handle)
def test_demo_profile_is_valid(library: DemoLibrary) -> None:
    clean = validate_library(library.profile, VOCAB)
    assert clean["name"] == library.profile["name"]
    assert clean["reference_year"] == 2025


@pytest.mark.parametrize(
    ("handle", "measure"),
    _demo_measures(),
    ids=[f"{h}-{i}" for i, (h, _) in enumerate(_demo_measures())],
)
def test_demo_measure_is_valid(handle: str, measure: dict[str, Any]) -> None:
    clean = validate_measure(measure, VOCAB)
    assert clean["title"] == measure["title"], handle


def test_demo_measure_counts_fit_the_organisations() -> None:
    for library in DEMO_LIBRARIES:
        kind = validate_library(library.profile, VOCAB)["kind"]
        expected = range(3, 4) if kind == "association" else range(5, 8)
        assert len(library.measures) in expected, library.handle


def test_demo_includes_one_association() -> None:
    kinds = [validate_library(lib.profile, VOCAB)["kind"] for lib in DEMO_LIBRARIES]
    assert kinds.count("association") == 1


def test_demo_populations_differ_by_at_least_a_factor_of_ten() -> None:
    populations = [validate_library(lib.profile, VOCAB)["population"] for lib in DEMO_LIBRARIES]
    assert all(isinstance(p, int) and p > 0 for p in populations)
    assert max(populations) >= 10 * min(populations)


def test_demo_toolkit_belongs_to_demo_libraries() -> None:
    handles = {lib.handle for lib in DEMO_LIBRARIES}
    assert set(DEMO_TOOLKIT) <= handles
    assert len(DEMO_TOOLKIT) == 3


@pytest.mark.parametrize("handle", sorted(DEMO_TOOLKIT))
def test_demo_toolkit_is_valid(handle: str) -> None:
    raw = DEMO_TOOLKIT[handle]
    clean = validate_toolkit(raw, VOCAB)
    assert clean["workshop_date"] is not None
    assert clean["visibility"] in ("public", "network")
    assert 4 <= len(clean["ratings"]) <= 6
    assert len(clean["ratings"]) == len(raw["ratings"])
    assert clean["priority_fields"]
    assert clean["priority_target_groups"]
    assert clean["planned_measures"] == raw["planned_measures"]

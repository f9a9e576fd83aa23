"""The validation layer: clear, field-named errors for every kind of bad input."""

from __future__ import annotations

from typing import Any

import pytest

from node.validation import (
    ValidationError,
    validate_handle,
    validate_library,
    validate_measure,
    validate_toolkit,
)
from node.vocab import Vocabularies


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("population", "-1", "between 0 and 1e+07"),
        ("population", "10000001", "between 0 and 1e+07"),
        ("population", "12.5", "whole number"),
        ("public_area_m2", "1000001", "between 0 and 1e+06"),
        ("staff_fte", "10001", "between 0 and 10000"),
        ("staff_fte", "viel", "must be a number"),
        ("federal_state", "Atlantis", "unknown value 'Atlantis'"),
        ("kind", "zoo", "unknown value 'zoo'"),
        ("website", "javascript:alert(1)", "must be a web address"),
        ("contact_email", "no-at-sign", "not a valid e-mail"),
        ("ags", "123", "8 digits"),
        ("name", "x" * 201, "too long (201 characters, at most 200)"),
    ],
)
def test_library_field_errors(vocab: Vocabularies, field: str, value: str, message: str) -> None:
    data: dict[str, Any] = {"name": "Bücherei", field: value}
    with pytest.raises(ValidationError) as exc:
        validate_library(data, vocab)
    assert message in errors_of(exc)[field]


def test_all_library_errors_are_reported_at_once(vocab: Vocabularies) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_library({"population": "-3", "staff_fte": "x"}, vocab)
    assert set(errors_of(exc)) == {"name", "population", "staff_fte"}


def test_library_accepts_spreadsheet_style_numbers_and_labels(vocab: Vocabularies) -> None:
    clean = validate_library(
        {
            "name": "  Gemeindebücherei Heideloh ",
            "population": "12.500",
            "staff_fte": "1,5",
            "federal_state": "niedersachsen",
            "ags": "03358001",
            "kind": "Bibliothek",
        },
        vocab,
    )
    assert clean["name"] == "Gemeindebücherei Heideloh"
    assert clean["population"] == 12500
    assert clean["staff_fte"] == 1.5
    assert clean["federal_state"] == "DE-NI"
    assert clean["kind"] == "library"


def test_ags_must_match_state(vocab: Vocabularies) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_library({"name": "X", "federal_state": "DE-BY", "ags": "03358001"}, vocab)
    assert "not the state DE-BY" in errors_of(exc)["ags"]


@pytest.mark.parametrize("handle", ["", "UPPER CASE", "-start", "end.", "ü-bib", "a" * 65])
def test_bad_handles(handle: str) -> None:
    with pytest.raises(ValidationError, match="handle"):
        validate_handle(handle)


@pytest.mark.parametrize("handle", ["a", "stadtbuecherei-musterstadt", "bib_01", "Bib.Nord"])
def test_good_handles(handle: str) -> None:
    assert validate_handle(handle) == handle.lower()


def test_measure_defaults_and_lists(vocab: Vocabularies) -> None:
    clean = validate_measure(
        {
            "title": "Vorlesepaten",
            "fields_of_action": "Leseförderung & Literacy; volunteering",
            "target_groups": ["children-6-12"],
            "tags": "#lesen; lesen; Ehrenamt",
            "volunteers_involved": "ja",
        },
        vocab,
    )
    assert clean["kind"] == "measure"
    assert clean["licence"] == "CC-BY-4.0"
    assert clean["language"] == "de"
    assert clean["fields_of_action"] == ["reading-promotion", "volunteering"]
    assert clean["tags"] == ["lesen", "Ehrenamt"]
    assert clean["volunteers_involved"] is True


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "is required"),
        ("title", "t" * 201, "too long"),
        ("body", "b" * 100_001, "too long"),
        ("fields_of_action", "Leseförderung; Raketenbau", "unknown value(s) 'Raketenbau'"),
        ("target_groups", "Marsianer", "unknown value(s) 'Marsianer'"),
        ("effort", "XXL", "unknown value 'XXL'"),
        ("cost_band", "teuer", "unknown value 'teuer'"),
        ("coop_deadline", "next week", "must be a date"),
        ("tags", ";".join(f"t{i}" for i in range(21)), "at most 20 tags"),
        ("id", "not-a-uuid", "UUID"),
    ],
)
def test_measure_field_errors(vocab: Vocabularies, field: str, value: str, message: str) -> None:
    data: dict[str, Any] = {"title": "Titel", field: value}
    with pytest.raises(ValidationError) as exc:
        validate_measure(data, vocab)
    assert message in errors_of(exc)[field]


def test_control_characters_are_removed(vocab: Vocabularies) -> None:
    assert validate_measure({"title": "Lese\x00nacht\x1b"}, vocab)["title"] == "Lesenacht"


def test_toolkit_results(vocab: Vocabularies) -> None:
    clean = validate_toolkit(
        {
            "workshop_date": "14.03.2025",
            "visibility": "public",
            "ratings": {"reading-promotion": {"rating": 4, "note": "gut aufgestellt"}},
            "priority_fields": ["third-place"],
        },
        vocab,
    )
    assert clean["workshop_date"].isoformat() == "2025-03-14"
    assert clean["ratings"]["reading-promotion"]["rating"] == 4
    with pytest.raises(ValidationError) as exc:
        validate_toolkit({"ratings": {"reading-promotion": 9}}, vocab)
    assert "1 to 5" in errors_of(exc)["ratings.reading-promotion"]


def test_spreadsheet_quirks_are_understood(vocab: Vocabularies) -> None:
    clean = validate_library(
        {
            "name": "Stadtbibliothek",
            "public_area_m2": "1.100",
            "staff_fte": "1.100,5",
            "ags": 3358081,  # Excel dropped the leading zero
            "federal_state": "DE-NI",
            "isil": "de-Demo82",
        },
        vocab,
    )
    assert clean["public_area_m2"] == 1100
    assert clean["staff_fte"] == 1100.5
    assert clean["ags"] == "03358081"
    assert clean["isil"] == "DE-Demo82"
    measure = validate_measure({"title": "T", "body": "a\r\nb", "tags": "# foo; Kita; kita"}, vocab)
    assert measure["body"] == "a\nb"
    assert measure["tags"] == ["foo", "Kita"]


def test_ags_mismatch_is_reported_with_the_other_errors(vocab: Vocabularies) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_library(
            {"name": "X", "federal_state": "DE-BY", "ags": "03358001", "population": "-1"}, vocab
        )
    assert set(errors_of(exc)) == {"ags", "population"}


def test_comma_separated_lists_get_a_hint(vocab: Vocabularies) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_measure({"title": "T", "partners": "Kita, Schule"}, vocab)
    assert "separate several values with ';'" in errors_of(exc)["partners"]


def test_partial_update_keeps_defaults(vocab: Vocabularies) -> None:
    assert "kind" not in validate_library({"kind": ""}, vocab, partial=True)

"""The one validation layer: every write path (CLI, import, web, federation) goes through it.

Input is a mapping of raw values (strings from CSV and forms, or JSON values); output is a
dict of clean values named like the model attributes. Errors name the field and say what is
wrong; a single ``ValidationError`` carries all of them, and nothing is written.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from node.vocab import Vocabularies

HANDLE_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]{0,62}[a-z0-9_])?$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
ISIL_RE = re.compile(r"^[A-Z]{1,4}-[A-Za-z0-9:/-]{1,11}$")
AGS_RE = re.compile(r"^\d{8}$")
LIST_SPLIT_RE = re.compile(r"\s*[;|]\s*")
# Control characters other than tab/newline never belong in text fields.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one field."""

    field: str
    message: str


class ValidationError(ValueError):
    """One or more fields are invalid; ``errors`` lists them all."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationError:
        """An error about one field."""
        return cls([FieldError(field, message)])


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


class _Reader:
    """Reads fields one by one, collecting every error instead of stopping at the first."""

    def __init__(self, data: Mapping[str, Any], vocab: Vocabularies, partial: bool) -> None:
        self.data = data
        self.vocab = vocab
        self.partial = partial
        self.errors: list[FieldError] = []
        self.out: dict[str, Any] = {}

    def _skip(self, name: str) -> bool:
        return self.partial and name not in self.data

    def fail(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def text(self, name: str, max_len: int, *, required: bool = False, default: str = "") -> None:
        if self._skip(name):
            return
        raw = self.data.get(name)
        if _blank(raw):
            if required:
                self.fail(name, "is required")
            else:
                self.out[name] = default
            return
        if not isinstance(raw, str):
            self.fail(name, "must be text")
            return
        value = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
        value = CONTROL_RE.sub("", value).strip()
        if len(value) > max_len:
            self.fail(name, f"is too long ({len(value)} characters, at most {max_len})")
            return
        self.out[name] = value

    def optional_text(self, name: str, max_len: int) -> None:
        if self._skip(name):
            return
        self.text(name, max_len)
        if self.out.get(name) == "":
            self.out[name] = None

    def pattern(self, name: str, regex: re.Pattern[str], hint: str) -> None:
        if self._skip(name):
            return
        raw = self.data.get(name)
        if _blank(raw):
            self.out[name] = None
            return
        value = str(raw).strip()
        if not regex.match(value):
            self.fail(name, f"is not valid ({hint})")
            return
        self.out[name] = value

    def number(
        self, name: str, low: float, high: float, *, integer: bool, required: bool = False
    ) -> None:
        if self._skip(name):
            return
        raw = self.data.get(name)
        if _blank(raw):
            if required:
                self.fail(name, "is required")
            self.out[name] = None
            return
        if isinstance(raw, bool):
            self.fail(name, "must be a number")
            return
        try:
            if isinstance(raw, str):
                text = _normalise_number(raw)
                value = float(text)
            else:
                value = float(raw)  # type: ignore[arg-type]  # caught below if not numeric
        except (TypeError, ValueError):
            self.fail(name, "must be a number")
            return
        if value != value or value in (float("inf"), float("-inf")):
            self.fail(name, "must be a number")
            return
        if integer and value != int(value):
            self.fail(name, "must be a whole number")
            return
        if not low <= value <= high:
            self.fail(name, f"must be between {low:g} and {high:g}")
            return
        self.out[name] = int(value) if integer else value

    def term(self, name: str, scheme: str, *, default: str | None = None) -> None:
        if self._skip(name):
            return
        raw = self.data.get(name)
        if _blank(raw):
            if not (self.partial and default is not None):  # a blank never resets a default
                self.out[name] = default
            return
        term = self.vocab[scheme].resolve(str(raw))
        if term is None:
            allowed = ", ".join(self.vocab[scheme].ids)
            self.fail(name, f"unknown value {str(raw)!r} (allowed: {allowed})")
            return
        self.out[name] = term

    def terms(self, name: str, scheme: str) -> None:
        if self._skip(name):
            return
        values = _as_list(self.data.get(name))
        if values is None:
            self.fail(name, "must be a list")
            return
        result: list[str] = []
        unknown: list[str] = []
        for raw in values:
            term = self.vocab[scheme].resolve(raw)
            if term is None:
                unknown.append(raw)
            elif term not in result:
                result.append(term)
        if unknown:
            hint = " (separate several values with ';')" if any("," in u for u in unknown) else ""
            self.fail(name, f"unknown value(s) {', '.join(map(repr, unknown))}{hint}")
            return
        self.out[name] = result

    def tags(self, name: str) -> None:
        if self._skip(name):
            return
        values = _as_list(self.data.get(name))
        if values is None:
            self.fail(name, "must be a list")
            return
        result: list[str] = []
        for raw in values:
            tag = CONTROL_RE.sub("", raw).strip().lstrip("#").strip()
            if len(tag) > MAX_TAG_LENGTH:
                self.fail(name, f"tag {tag[:20]!r}… is longer than {MAX_TAG_LENGTH} characters")
                return
            if tag and tag.casefold() not in {t.casefold() for t in result}:
                result.append(tag)
        if len(result) > MAX_TAGS:
            self.fail(name, f"at most {MAX_TAGS} tags")
            return
        self.out[name] = result

    def boolean(self, name: str, *, default: bool | None = None) -> None:
        if self._skip(name):
            return
        raw = self.data.get(name)
        if _blank(raw):
            self.out[name] = default
            return
        if isinstance(raw, bool):
            self.out[name] = raw
            return
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "ja", "y", "j", "x", "on"):
            self.out[name] = True
        elif text in ("0", "false", "no", "nein", "n", "off"):
            self.out[name] = False
        else:
            self.fail(name, "must be yes or no")

    def day(self, name: str) -> None:
        if self._skip(name):
            return
        raw = self.data.get(name)
        if _blank(raw):
            self.out[name] = None
            return
        if isinstance(raw, date) and not isinstance(raw, datetime):
            self.out[name] = raw
            return
        text = str(raw).strip()
        for parse in (date.fromisoformat, _german_date):
            try:
                self.out[name] = parse(text)
                return
            except ValueError:
                continue
        self.fail(name, "must be a date like 2025-03-31")

    def timestamp(self, name: str) -> None:
        if self._skip(name):
            return
        raw = self.data.get(name)
        if _blank(raw):
            return
        if isinstance(raw, datetime):
            value = raw
        else:
            try:
                value = datetime.fromisoformat(str(raw).strip().replace("Z", "+00:00"))
            except ValueError:
                self.fail(name, "must be a date and time like 2025-03-31T12:00:00Z")
                return
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        self.out[name] = value.astimezone(UTC)

    def web_url(self, name: str) -> None:
        if self._skip(name):
            return
        raw = self.data.get(name)
        if _blank(raw):
            self.out[name] = None
            return
        value = str(raw).strip()
        if len(value) > 2048:
            self.fail(name, "is too long (at most 2048 characters)")
            return
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.fail(name, "must be a web address starting with http:// or https://")
            return
        self.out[name] = value

    def email(self, name: str, *, required: bool = False) -> None:
        if self._skip(name):
            return
        raw = self.data.get(name)
        if _blank(raw):
            if required:
                self.fail(name, "is required")
            self.out[name] = None
            return
        value = str(raw).strip().lower()
        if len(value) > 254 or not EMAIL_RE.match(value):
            self.fail(name, "is not a valid e-mail address")
            return
        self.out[name] = value

    def done(self) -> dict[str, Any]:
        if self.errors:
            raise ValidationError(self.errors)
        return self.out


def _normalise_number(raw: str) -> str:
    """Spreadsheet numbers in German notation ("1.100", "1.100,5", "1,5") to Python's."""
    text = raw.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if "," in text and "." in text:
        return text.replace(".", "").replace(",", ".")
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
        return text.replace(".", "")  # a thousands separator, not a decimal point
    return text.replace(",", ".")


def _german_date(text: str) -> date:
    return datetime.strptime(text, "%d.%m.%Y").date()


def _as_list(raw: Any) -> list[str] | None:
    if _blank(raw):
        return []
    if isinstance(raw, str):
        return [p for p in LIST_SPLIT_RE.split(raw.strip()) if p]
    if isinstance(raw, list | tuple):
        return [str(v).strip() for v in raw if not _blank(v)]
    return None


def validate_handle(handle: Any) -> str:
    """A library handle: lowercase letters, digits, ``_ . -``; 1–64 characters."""
    value = str(handle or "").strip().lower()
    if not HANDLE_RE.match(value):
        raise ValidationError.single(
            "handle",
            "must be 1–64 lowercase letters, digits, '_', '.' or '-' "
            "(not starting or ending with '.' or '-')",
        )
    return value


LIBRARY_NUMBERS: dict[str, tuple[float, float, bool]] = {
    # field: (low, high, integer) — limits from the issue and the DBS questionnaire
    "population": (0, 10_000_000, True),
    "public_area_m2": (0, 1_000_000, False),
    "staff_fte": (0, 10_000, False),
    "volunteers": (0, 100_000, True),
    "volunteer_fte": (0, 10_000, False),
    "opening_hours": (0, 168, False),
    "media_stock": (0, 100_000_000, True),
    "loans": (0, 1_000_000_000, True),
    "events": (0, 1_000_000, True),
    "reference_year": (1990, 2100, True),
}


def validate_library(
    data: Mapping[str, Any], vocab: Vocabularies, *, partial: bool = False
) -> dict[str, Any]:
    """Clean a library profile; ``partial`` validates only the fields present (updates)."""
    r = _Reader(data, vocab, partial)
    r.text("name", 200, required=True)
    r.term("kind", "organisation-kinds", default="library")
    r.text("summary", 5000)
    r.text("town", 120)
    r.term("federal_state", "federal-states")
    ags = data.get("ags")
    if isinstance(ags, int | str) and re.fullmatch(r"\d{7}", str(ags).strip()):
        # Spreadsheets drop the leading zero of AGS 01…–09… (e.g. all of Lower Saxony).
        r.data = data = {**data, "ags": "0" + str(ags).strip()}
    r.pattern("ags", AGS_RE, "8 digits, the official municipality key")
    isil = data.get("isil")
    if isinstance(isil, str) and "-" in isil:
        prefix, _, rest = isil.strip().partition("-")
        r.data = data = {**data, "isil": f"{prefix.upper()}-{rest}"}
    r.pattern("isil", ISIL_RE, "like DE-123")
    r.optional_text("dbs_id", 16)
    r.web_url("website")
    r.email("contact_email")
    r.term("operator_type", "operator-types")
    for name, (low, high, integer) in LIBRARY_NUMBERS.items():
        r.number(name, low, high, integer=integer)
    r.boolean("manually_approves_followers", default=False)
    r.boolean("discoverable", default=True)
    r.boolean("indexable", default=True)
    ags_value, state = r.out.get("ags"), r.out.get("federal_state")
    expected = AGS_STATE_PREFIX.get(state or "")
    if ags_value and expected and not ags_value.startswith(expected):
        r.fail("ags", f"starts with {ags_value[:2]}, which is not the state {state} ({expected}…)")
    out = r.done()
    if partial:
        # None from a blank optional boolean in an update means "leave as is".
        for flag in ("manually_approves_followers", "discoverable", "indexable"):
            if flag in out and out[flag] is None:
                del out[flag]
    return out


# The first two AGS digits name the federal state.
AGS_STATE_PREFIX = {
    "DE-SH": "01", "DE-HH": "02", "DE-NI": "03", "DE-HB": "04", "DE-NW": "05", "DE-HE": "06",
    "DE-RP": "07", "DE-BW": "08", "DE-BY": "09", "DE-SL": "10", "DE-BE": "11", "DE-BB": "12",
    "DE-MV": "13", "DE-SN": "14", "DE-ST": "15", "DE-TH": "16",
}  # fmt: skip

MEASURE_FIELDS = (
    "id", "kind", "title", "summary", "body", "fields_of_action", "target_groups", "formats",
    "partners", "tags", "effort", "volunteers_involved", "cost_band", "funding", "duration",
    "status", "licence", "language", "coop_capacity", "coop_region", "coop_deadline",
    "published_at",
)  # fmt: skip


def validate_measure(
    data: Mapping[str, Any], vocab: Vocabularies, *, partial: bool = False
) -> dict[str, Any]:
    """Clean a measure; unknown vocabulary terms, bad numbers and over-long text are errors."""
    r = _Reader(data, vocab, partial)
    if not _blank(data.get("id")):
        try:
            r.out["uid"] = str(uuid.UUID(str(data["id"]).strip()))
        except ValueError:
            r.fail("id", "must be a measure id as exported by bibnetz (a UUID)")
    r.term("kind", "measure-kinds", default="measure")
    r.text("title", 200, required=True)
    r.text("summary", 1000)
    r.text("body", 100_000)
    r.terms("fields_of_action", "fields-of-action")
    r.terms("target_groups", "target-groups")
    r.terms("formats", "formats")
    r.terms("partners", "partners")
    r.tags("tags")
    r.term("effort", "effort")
    r.boolean("volunteers_involved")
    r.term("cost_band", "cost-bands")
    r.text("funding", 300)
    r.text("duration", 200)
    r.term("status", "statuses", default="done")
    r.term("licence", "licences", default="CC-BY-4.0")
    r.pattern("language", re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$"), "a language code like de")
    if not partial and r.out.get("language") is None:
        r.out["language"] = "de"
    r.text("coop_capacity", 300)
    r.text("coop_region", 200)
    r.day("coop_deadline")
    r.timestamp("published_at")
    return r.done()


def validate_toolkit(data: Mapping[str, Any], vocab: Vocabularies) -> dict[str, Any]:
    """Clean Toolkit workshop results against the replaceable vocabularies."""
    r = _Reader(data, vocab, partial=False)
    r.day("workshop_date")
    r.term("visibility", "visibility", default="private")
    r.terms("priority_fields", "fields-of-action")
    r.terms("priority_target_groups", "target-groups")
    planned = _as_list(data.get("planned_measures"))
    if planned is None or len(planned) > 30 or any(len(p) > 300 for p in planned):
        r.fail("planned_measures", "must be at most 30 short texts (300 characters each)")
    else:
        r.out["planned_measures"] = [
            CONTROL_RE.sub("", unicodedata.normalize("NFC", p)).strip() for p in planned
        ]
    ratings: dict[str, Any] = {}
    raw_ratings = data.get("ratings") or {}
    if not isinstance(raw_ratings, Mapping):
        r.fail("ratings", "must map fields of action to a rating and a note")
    else:
        for key, entry in raw_ratings.items():
            term = vocab["fields-of-action"].resolve(str(key))
            if term is None:
                r.fail("ratings", f"unknown field of action {key!r}")
                continue
            rating = entry.get("rating") if isinstance(entry, Mapping) else entry
            note = (entry.get("note") or "") if isinstance(entry, Mapping) else ""
            if isinstance(rating, str) and rating.strip().isdigit():
                rating = int(rating.strip())
            if term in ratings:
                r.fail("ratings", f"{key!r} names {term!r} a second time")
                continue
            if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
                r.fail(f"ratings.{term}", "rating must be a whole number from 1 to 5")
                continue
            if not isinstance(note, str) or len(note) > 2000:
                r.fail(f"ratings.{term}", "note must be text of at most 2000 characters")
                continue
            ratings[term] = {"rating": rating, "note": note.strip()}
    r.out["ratings"] = ratings
    return r.done()


def validate_email(value: Any) -> str:
    """A login e-mail address, lowercased."""
    text = str(value or "").strip().lower()
    if len(text) > 254 or not EMAIL_RE.match(text):
        raise ValidationError.single("email", "is not a valid e-mail address")
    return text


def validate_password(value: Any) -> str:
    """A password of at least ten characters."""
    text = str(value or "")
    if len(text) < MIN_PASSWORD_LENGTH:
        raise ValidationError.single(
            "password", f"must be at least {MIN_PASSWORD_LENGTH} characters long"
        )
    if len(text) > 1024:
        raise ValidationError.single("password", "is too long")
    return text

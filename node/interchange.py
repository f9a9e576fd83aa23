"""Measures as spreadsheets and JSON: reading, checking and writing import/export files.

Import is all-or-nothing: every row is validated first, and only a file without errors is
written, in one transaction.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from node import outbox
from node.measures import apply_changes, new_measure_values
from node.models import Library, Measure, utcnow
from node.search import index_measures, index_uids
from node.validation import MEASURE_FIELDS, FieldError, ValidationError, validate_measure
from node.vocab import Vocabularies

LIST_FIELDS = {"fields_of_action", "target_groups", "formats", "partners", "tags"}
MAX_REPORTED_ERRORS = 20


@dataclass(frozen=True)
class RowError:
    """A problem in one row (CSV line number or JSON item number) of an import file."""

    location: str
    errors: tuple[FieldError, ...]

    def __str__(self) -> str:
        details = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        return f"{self.location}: {details}"


class ImportFileError(ValueError):
    """The import file cannot be used; nothing was imported."""

    def __init__(self, problems: Sequence[RowError | str], total_bad: int | None = None) -> None:
        self.problems = list(problems)
        self.total_bad = total_bad if total_bad is not None else len(self.problems)
        lines = [str(p) for p in self.problems[:MAX_REPORTED_ERRORS]]
        if self.total_bad > len(lines):
            lines.append(f"… and {self.total_bad - len(lines)} more rows with errors")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Row:
    """One record of an import file with where it came from."""

    location: str
    data: dict[str, Any]


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    created: int
    updated: int
    unchanged: int


def detect_format(path: Path, explicit: str | None = None) -> str:
    """'csv' or 'json', from the option or the file name."""
    fmt = (explicit or path.suffix.lstrip(".")).lower()
    if fmt not in ("csv", "json"):
        raise ImportFileError([f"cannot tell the format of {path.name}: use --format csv|json"])
    return fmt


def read_rows(path: Path, fmt: str) -> list[Row]:
    """All records of a CSV or JSON file; structural problems raise ImportFileError."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError([f"cannot read {path}: {exc.strerror}"]) from exc
    try:
        text = raw.decode("utf-8-sig")  # Excel writes a byte order mark
    except UnicodeDecodeError:
        # Older German Excel versions save CSV as Windows-1252.
        text = raw.decode("cp1252", errors="replace")
    return _read_csv(text) if fmt == "csv" else _read_json(text)


def _read_csv(text: str) -> list[Row]:
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(["the file is empty"]) from None
    columns = [c.strip().lower() for c in header]
    unknown = [c for c in columns if c and c not in MEASURE_FIELDS]
    if unknown:
        raise ImportFileError(
            [
                f"line 1: unknown column(s) {', '.join(map(repr, unknown))}; "
                f"known columns: {', '.join(MEASURE_FIELDS)}"
            ]
        )
    if "title" not in columns:
        raise ImportFileError(["line 1: the column 'title' is missing"])
    rows: list[Row] = []
    start = reader.line_num + 1
    try:
        for record in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(columns):
                raise ImportFileError(
                    [f"line {line}: {len(record)} cells, but the header has {len(columns)}"]
                )
            cells = [from_spreadsheet(cell) for cell in record]
            rows.append(Row(f"line {line}", dict(zip(columns, cells, strict=False))))
    except csv.Error as exc:
        raise ImportFileError([f"line {reader.line_num}: {exc}"]) from exc
    return rows


def _read_json(text: str) -> list[Row]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError([f"line {exc.lineno}: not valid JSON ({exc.msg})"]) from exc
    items = doc.get("measures") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ImportFileError(["expected a list of measures (or an object with 'measures')"])
    rows: list[Row] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ImportFileError([f"item {number}: expected an object"])
        unknown = [k for k in item if k not in MEASURE_FIELDS]
        if unknown:
            raise ImportFileError(
                [f"item {number}: unknown field(s) {', '.join(map(repr, unknown))}"]
            )
        rows.append(Row(f"item {number}", item))
    return rows


def validate_rows(
    rows: Iterable[Row], vocab: Vocabularies, progress: Callable[[int], None] | None = None
) -> list[tuple[Row, dict[str, Any]]]:
    """Validate every row; raise ImportFileError naming each bad row, else the clean rows."""
    clean: list[tuple[Row, dict[str, Any]]] = []
    problems: list[RowError] = []
    seen_ids: dict[str, str] = {}
    for row in rows:
        try:
            fields = validate_measure(row.data, vocab)
        except ValidationError as exc:
            problems.append(RowError(row.location, tuple(exc.errors)))
        else:
            uid = fields.get("uid")
            if uid and uid in seen_ids:
                problems.append(
                    RowError(
                        row.location,
                        (FieldError("id", f"same id as {seen_ids[uid]}"),),
                    )
                )
            elif uid:
                seen_ids[uid] = row.location
            clean.append((row, fields))
        if progress:
            progress(1)
    if problems:
        raise ImportFileError(problems[:MAX_REPORTED_ERRORS], total_bad=len(problems))
    return clean


async def import_measures(
    session: AsyncSession,
    library: Library,
    clean_rows: Sequence[tuple[Row, dict[str, Any]]],
    *,
    announce: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Write validated rows in the caller's transaction: new ids create, known ids update."""
    ids = [fields["uid"] for _row, fields in clean_rows if "uid" in fields]
    existing: dict[str, Measure] = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for measure in await session.scalars(select(Measure).where(Measure.uid.in_(chunk))):
            existing[measure.uid] = measure
    foreign = [
        RowError(row.location, (FieldError("id", "belongs to a measure of another library"),))
        for row, fields in clean_rows
        if fields.get("uid") in existing and existing[fields["uid"]].library_id != library.id
    ]
    if foreign:
        raise ImportFileError(foreign[:MAX_REPORTED_ERRORS], total_bad=len(foreign))

    created = updated = unchanged = 0
    batch: list[dict[str, Any]] = []
    changed_ids: list[int] = []
    for _row, fields in clean_rows:
        current = existing.get(fields.get("uid", ""))
        if current is None:
            batch.append(new_measure_values(library, fields))
            created += 1
        elif apply_changes(current, fields):
            current.updated_at = utcnow()
            changed_ids.append(current.id)
            updated += 1
            if announce:
                await outbox.record(session, library.id, "Update", "Measure", current.uid)
        else:
            unchanged += 1
        if len(batch) >= 1000:
            await _insert_batch(session, library, batch, announce)
        if progress:
            progress(1)
    await _insert_batch(session, library, batch, announce)
    await index_measures(session, changed_ids)
    return ImportResult(created, updated, unchanged)


async def _insert_batch(
    session: AsyncSession, library: Library, batch: list[dict[str, Any]], announce: bool
) -> None:
    if not batch:
        return
    # Core executemany: an import of thousands of rows must not build ORM objects one by one.
    await session.execute(insert(Measure), batch)
    await index_uids(session, [v["uid"] for v in batch])
    if announce:
        await outbox.record_many(
            session, library.id, "Create", "Measure", [v["uid"] for v in batch]
        )
    batch.clear()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """Prefix cells that Excel or LibreOffice would run as a formula (OWASP CSV injection)."""
    return "'" + value if value.startswith(FORMULA_START) else value


def from_spreadsheet(value: str) -> str:
    """Undo ``spreadsheet_safe`` when a file written by export is imported again."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def measure_record(measure: Measure) -> dict[str, Any]:
    """A measure as an export record (the same field names import reads)."""
    record: dict[str, Any] = {}
    for name in MEASURE_FIELDS:
        value = getattr(measure, "uid" if name == "id" else name)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        record[name] = value
    return record


def write_json(measures: Iterable[Measure], out: TextIO) -> None:
    """Write measures as a JSON list."""
    json.dump([measure_record(m) for m in measures], out, ensure_ascii=False, indent=2)
    out.write("\n")


def write_csv(measures: Iterable[Measure], out: TextIO) -> None:
    """Write measures as CSV (comma-separated, lists joined by '; ')."""
    writer = csv.DictWriter(out, fieldnames=list(MEASURE_FIELDS), lineterminator="\n")
    writer.writeheader()
    for measure in measures:
        record = measure_record(measure)
        for name, value in record.items():
            if name in LIST_FIELDS:
                record[name] = "; ".join(value)
            elif isinstance(value, bool):
                record[name] = "yes" if value else "no"
            elif value is None:
                record[name] = ""
            elif isinstance(value, str):
                record[name] = spreadsheet_safe(value)
        writer.writerow(record)

"""Index objects outside the SQLAlchemy models: the FTS5 table, its triggers, the tsvector.

Migration 0003 creates them (with a frozen copy of this DDL); this module names them for
queries, for the bulk loader and for the migration environment, which must not mistake
them for drift between models and database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import TSVECTOR

FTS_TABLE = "measure_fts"
PG_DOCUMENT = "document"
PG_DOCUMENT_INDEX = "ix_measure_text_document"

# FTS5 column filters: words match the text columns, facet tokens only facet_terms.
TEXT_COLUMNS = "{title_terms summary_terms body_terms}"
FACET_COLUMN = "facet_terms"

# Written out in full (no string building): the same DDL as migration 0003.
SQLITE_TRIGGERS: Mapping[str, str] = {
    "measure_text_ai": (
        "CREATE TRIGGER measure_text_ai AFTER INSERT ON measure_text BEGIN "
        "INSERT INTO measure_fts(rowid, facet_terms, title_terms, summary_terms, body_terms) "
        "VALUES (new.sort_key, new.facet_terms, new.title_terms, new.summary_terms, "
        "new.body_terms); END"
    ),
    "measure_text_ad": (
        "CREATE TRIGGER measure_text_ad AFTER DELETE ON measure_text BEGIN "
        "INSERT INTO measure_fts(measure_fts, rowid, facet_terms, title_terms, summary_terms, "
        "body_terms) VALUES ('delete', old.sort_key, old.facet_terms, old.title_terms, "
        "old.summary_terms, old.body_terms); END"
    ),
    "measure_text_au": (
        "CREATE TRIGGER measure_text_au AFTER UPDATE ON measure_text BEGIN "
        "INSERT INTO measure_fts(measure_fts, rowid, facet_terms, title_terms, summary_terms, "
        "body_terms) VALUES ('delete', old.sort_key, old.facet_terms, old.title_terms, "
        "old.summary_terms, old.body_terms); "
        "INSERT INTO measure_fts(rowid, facet_terms, title_terms, summary_terms, body_terms) "
        "VALUES (new.sort_key, new.facet_terms, new.title_terms, new.summary_terms, "
        "new.body_terms); END"
    ),
}
FTS_REBUILD = "INSERT INTO measure_fts(measure_fts) VALUES ('rebuild')"

# Query-side views of the objects above, on a private MetaData so Base.metadata (and thus
# the migration comparison) never sees them.
_private = MetaData()
fts_table = Table(FTS_TABLE, _private, Column("rowid", Integer), Column(FTS_TABLE, Text))
pg_text_table = Table(
    "measure_text",
    _private,
    Column("sort_key", Integer),
    Column("facet_terms", Text),
    Column("title_terms", Text),
    Column("summary_terms", Text),
    Column("fields_of_action", Text),
    Column("target_groups", Text),
    Column("formats", Text),
    Column(PG_DOCUMENT, TSVECTOR),
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KEY_SHIFT = 2**20
MS_PER_DAY = 86_400_000


def key_floor(moment: datetime) -> int:
    """The smallest sort key of anything published at or after ``moment``."""
    return ((moment - _EPOCH) // timedelta(milliseconds=1)) * KEY_SHIFT


def sort_key(published_at: datetime, measure_id: int) -> int:
    """The date-ordered integer key of a measure: unique unless two measures share a
    millisecond and have ids a multiple of 2**20 apart, where the index moves the later one
    to a free key of the same millisecond (``node.search.index``)."""
    return key_floor(published_at) + measure_id % KEY_SHIFT


def include_name(name: str | None, type_: str, parent_names: Mapping[Any, str | None]) -> bool:
    """Alembic ``include_name`` hook: hide the dialect-specific full-text objects."""
    if type_ == "table" and name is not None:
        return name != FTS_TABLE and not name.startswith(FTS_TABLE + "_")
    if type_ == "column":
        return not (parent_names.get("table_name") == "measure_text" and name == PG_DOCUMENT)
    if type_ == "index":
        return name != PG_DOCUMENT_INDEX
    return True

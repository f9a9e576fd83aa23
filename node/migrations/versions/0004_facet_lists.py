"""search index: list facets as JSON columns of measure_text, for counting

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 14:10:00.000000

Facet counting read every hit's facet token string and split it (about 17 tokens a hit);
the scalar facets are counted from measure_search's columns now and the list facets
(fields of action, target groups, formats) from these columns. The indexer fills them, so
the index is emptied here and the node rebuilds it on its next start
(``node.search.index_is_stale``; or ``bibnetz index rebuild``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("fields_of_action", "target_groups", "formats")
# Migration 0003's triggers, frozen here: dropped while the index is emptied (a delete per
# row through them is slow on a large index), then made again.
SQLITE_TRIGGERS = {
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


def upgrade() -> None:
    """Apply this revision."""
    for name in COLUMNS:
        op.add_column(
            "measure_text", sa.Column(name, sa.Text(), nullable=False, server_default="[]")
        )
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DELETE FROM measure_text")
    op.execute("DELETE FROM measure_search")
    if sqlite:
        op.execute("INSERT INTO measure_fts(measure_fts) VALUES ('delete-all')")
        for ddl in SQLITE_TRIGGERS.values():
            op.execute(ddl)


def downgrade() -> None:
    """Revert this revision (the index keeps its rows; the columns go)."""
    for name in COLUMNS:
        # Plain DROP COLUMN (SQLite ≥ 3.35): a batch copy of the table would lose the
        # FTS5 triggers that migration 0003 put on it.
        op.execute(f"ALTER TABLE measure_text DROP COLUMN {name}")

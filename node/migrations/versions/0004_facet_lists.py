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


def upgrade() -> None:
    """Apply this revision."""
    for name in COLUMNS:
        op.add_column(
            "measure_text", sa.Column(name, sa.Text(), nullable=False, server_default="[]")
        )
    # measure_text first: on SQLite its delete trigger keeps the FTS5 table in step.
    op.execute("DELETE FROM measure_text")
    op.execute("DELETE FROM measure_search")


def downgrade() -> None:
    """Revert this revision (the index keeps its rows; the columns go)."""
    for name in COLUMNS:
        # Plain DROP COLUMN (SQLite ≥ 3.35): a batch copy of the table would lose the
        # FTS5 triggers that migration 0003 put on it.
        op.execute(f"ALTER TABLE measure_text DROP COLUMN {name}")

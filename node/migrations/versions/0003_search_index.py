"""search index: measure_search, measure_text + FTS5 / tsvector

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000

The full-text objects differ per database and are not part of the models (see
node/search/schema.py): SQLite gets an external-content FTS5 table kept in step by
triggers, PostgreSQL a generated tsvector column over the *same* stemmed token text with
the 'simple' configuration and a GIN index, so both databases return the same hits. The
index starts empty: ``node.search.rebuild`` fills it from the measures.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SORT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_FTS = (
    "CREATE VIRTUAL TABLE measure_fts USING fts5("
    "facet_terms, title_terms, summary_terms, body_terms, "
    "content='measure_text', content_rowid='sort_key', "
    "tokenize='unicode61 remove_diacritics 0')"
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER measure_text_ai AFTER INSERT ON measure_text BEGIN "
    "INSERT INTO measure_fts(rowid, facet_terms, title_terms, summary_terms, body_terms) "
    "VALUES (new.sort_key, new.facet_terms, new.title_terms, new.summary_terms, "
    "new.body_terms); END",
    "CREATE TRIGGER measure_text_ad AFTER DELETE ON measure_text BEGIN "
    "INSERT INTO measure_fts(measure_fts, rowid, facet_terms, title_terms, summary_terms, "
    "body_terms) VALUES ('delete', old.sort_key, old.facet_terms, old.title_terms, "
    "old.summary_terms, old.body_terms); END",
    "CREATE TRIGGER measure_text_au AFTER UPDATE ON measure_text BEGIN "
    "INSERT INTO measure_fts(measure_fts, rowid, facet_terms, title_terms, summary_terms, "
    "body_terms) VALUES ('delete', old.sort_key, old.facet_terms, old.title_terms, "
    "old.summary_terms, old.body_terms); "
    "INSERT INTO measure_fts(rowid, facet_terms, title_terms, summary_terms, body_terms) "
    "VALUES (new.sort_key, new.facet_terms, new.title_terms, new.summary_terms, "
    "new.body_terms); END",
)
# Title A, summary B, body C, facet tokens D (relevance is computed alike on both databases,
# see node/search/sql.py, so the weights only serve ad-hoc queries). A throw-away lexeme
# after each text field keeps phrases from running across fields (FTS5 phrases never
# cross columns); ts_delete removes it again and the position gap stays.
PG_DOCUMENT = (
    "ALTER TABLE measure_text ADD COLUMN document tsvector GENERATED ALWAYS AS (ts_delete("
    "setweight(to_tsvector('simple'::regconfig, title_terms || ' zzfieldbreak'), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, summary_terms || ' zzfieldbreak'), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, body_terms || ' zzfieldbreak'), 'C') || "
    "setweight(to_tsvector('simple'::regconfig, facet_terms), 'D'), "
    "'zzfieldbreak'::text)) STORED"
)
PG_DOCUMENT_INDEX = "CREATE INDEX ix_measure_text_document ON measure_text USING gin (document)"


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "measure_search",
        sa.Column("sort_key", SORT_KEY, autoincrement=False, nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("is_local", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cost_band", sa.String(length=16), nullable=True),
        sa.Column("effort", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("federal_state", sa.String(length=8), nullable=True),
        sa.Column("org_kind", sa.String(length=32), nullable=False),
        sa.Column("snap_population", sa.Integer(), nullable=True),
        sa.Column("snap_area_m2", sa.Float(), nullable=True),
        sa.Column("snap_fte", sa.Float(), nullable=True),
        sa.Column("cur_population", sa.Integer(), nullable=True),
        sa.Column("cur_area_m2", sa.Float(), nullable=True),
        sa.Column("cur_fte", sa.Float(), nullable=True),
        sa.Column("snap_ln_population", sa.Float(), nullable=True),
        sa.Column("snap_ln_area", sa.Float(), nullable=True),
        sa.Column("snap_ln_fte", sa.Float(), nullable=True),
        sa.Column("cur_ln_population", sa.Float(), nullable=True),
        sa.Column("cur_ln_area", sa.Float(), nullable=True),
        sa.Column("cur_ln_fte", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_measure_search_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measures.id"],
            name=op.f("fk_measure_search_measure_id_measures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sort_key", name=op.f("pk_measure_search")),
        sa.UniqueConstraint("measure_id", name=op.f("uq_measure_search_measure_id")),
    )
    op.create_index("ix_measure_search_library_id", "measure_search", ["library_id"])
    op.create_table(
        "measure_text",
        sa.Column("sort_key", SORT_KEY, autoincrement=False, nullable=False),
        sa.Column("facet_terms", sa.Text(), nullable=False),
        sa.Column("title_terms", sa.Text(), nullable=False),
        sa.Column("summary_terms", sa.Text(), nullable=False),
        sa.Column("body_terms", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sort_key"],
            ["measure_search.sort_key"],
            name=op.f("fk_measure_text_sort_key_measure_search"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sort_key", name=op.f("pk_measure_text")),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_FTS)
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    else:
        op.execute(PG_DOCUMENT)
        op.execute(PG_DOCUMENT_INDEX)


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "sqlite":
        for name in ("measure_text_ai", "measure_text_ad", "measure_text_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS measure_fts")
    op.drop_table("measure_text")
    op.drop_index("ix_measure_search_library_id", table_name="measure_search")
    op.drop_table("measure_search")

"""The search index: denormalised, date-ordered copies of measures (see node/search/)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.db import Base

# INTEGER on SQLite makes the key the rowid (no second b-tree); BIGINT on PostgreSQL.
SortKey = BigInteger().with_variant(Integer(), "sqlite")


class MeasureSearch(Base):
    """One indexed measure: filter columns in one narrow row, keyed by a date-ordered key.

    ``sort_key`` = published_at in ms * 2**20 + (measure id mod 2**20), another free key of
    that millisecond where this one is taken: ordering by it is "newest first", and it is the
    FTS5 rowid, so text hits come back in date order for free.
    """

    __tablename__ = "measure_search"
    __table_args__ = (Index("ix_measure_search_library_id", "library_id"),)

    sort_key: Mapped[int] = mapped_column(SortKey, primary_key=True, autoincrement=False)
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("measures.id", ondelete="CASCADE"), unique=True
    )
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    is_local: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(32))
    cost_band: Mapped[str | None] = mapped_column(String(16), nullable=True)
    effort: Mapped[str | None] = mapped_column(String(8), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    # Of the publishing library, refreshed when its profile changes.
    federal_state: Mapped[str | None] = mapped_column(String(8), nullable=True)
    org_kind: Mapped[str] = mapped_column(String(32))
    # Numbers at publication (snap_*) and the library's current numbers (cur_*); *_ln_* are
    # their log coordinates (node.search.similarity.profile_log) so similarity is plain
    # arithmetic on both databases.
    snap_population: Mapped[int | None] = mapped_column(Integer, nullable=True)
    snap_area_m2: Mapped[float | None] = mapped_column(Float, nullable=True)
    snap_fte: Mapped[float | None] = mapped_column(Float, nullable=True)
    cur_population: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cur_area_m2: Mapped[float | None] = mapped_column(Float, nullable=True)
    cur_fte: Mapped[float | None] = mapped_column(Float, nullable=True)
    snap_ln_population: Mapped[float | None] = mapped_column(Float, nullable=True)
    snap_ln_area: Mapped[float | None] = mapped_column(Float, nullable=True)
    snap_ln_fte: Mapped[float | None] = mapped_column(Float, nullable=True)
    cur_ln_population: Mapped[float | None] = mapped_column(Float, nullable=True)
    cur_ln_area: Mapped[float | None] = mapped_column(Float, nullable=True)
    cur_ln_fte: Mapped[float | None] = mapped_column(Float, nullable=True)


class MeasureText(Base):
    """Token text of a measure: what the full-text index is built from.

    ``facet_terms`` holds one opaque token per (dimension, term) — kind, fields of action,
    target groups, formats, cost band, effort, status, federal state, organisation kind — so
    the full-text engine intersects filters with text in one pass, and facet counting reads
    one short string per hit. The other columns are stemmed, folded words.
    Kept apart from ``measure_search`` so filter scans stay narrow. SQLite indexes it with the
    FTS5 table ``measure_fts`` (external content, kept in step by triggers); PostgreSQL with a
    generated ``document`` tsvector column and a GIN index. Both are made by migration 0003
    and are invisible to this model on purpose (see ``node.search.schema``).
    """

    __tablename__ = "measure_text"

    sort_key: Mapped[int] = mapped_column(
        SortKey,
        ForeignKey("measure_search.sort_key", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    facet_terms: Mapped[str] = mapped_column(Text)
    title_terms: Mapped[str] = mapped_column(Text)
    summary_terms: Mapped[str] = mapped_column(Text)
    body_terms: Mapped[str] = mapped_column(Text)
    # The list facets again as compact JSON arrays (sorted, distinct), for counting only:
    # one short value per dimension repeats across hits, so a result set's counts come from
    # a few distinct values instead of splitting every hit's tokens (the scalar facets are
    # counted from measure_search's columns). Filtering still goes through facet_terms.
    fields_of_action: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    target_groups: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    formats: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")

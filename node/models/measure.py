"""Measures (Maßnahmen): what libraries share, local or received from peers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.db import Base
from node.models.types import UTCDateTime, utcnow


class Measure(Base):
    """A measure, idea, event concept, solution, report or cooperation offer."""

    __tablename__ = "measures"
    __table_args__ = (
        Index("ix_measures_library_published", "library_id", "published_at"),
        Index("ix_measures_published", "published_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    is_local: Mapped[bool] = mapped_column(Boolean, default=True)
    # Remote measures keep their ActivityPub id and human URL; local ones derive them.
    ap_id: Mapped[str | None] = mapped_column(String(2048), unique=True, nullable=True)
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)

    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    fields_of_action: Mapped[list[str]] = mapped_column(JSON, default=list)
    target_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    formats: Mapped[list[str]] = mapped_column(JSON, default=list)
    partners: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    effort: Mapped[str | None] = mapped_column(String(8), nullable=True)
    volunteers_involved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    cost_band: Mapped[str | None] = mapped_column(String(16), nullable=True)
    funding: Mapped[str] = mapped_column(String(300), default="")
    duration: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="done")
    licence: Mapped[str] = mapped_column(String(64), default="CC-BY-4.0")
    language: Mapped[str] = mapped_column(String(8), default="de")

    # "Share a task" (cooperation offer / request)
    coop_capacity: Mapped[str] = mapped_column(String(300), default="")
    coop_region: Mapped[str] = mapped_column(String(200), default="")
    coop_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)

    # The publishing library's numbers at publication, so size filters stay true later.
    snapshot_population: Mapped[int | None] = mapped_column(Integer, nullable=True)
    snapshot_area_m2: Mapped[float | None] = mapped_column(Float, nullable=True)
    snapshot_fte: Mapped[float | None] = mapped_column(Float, nullable=True)

    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

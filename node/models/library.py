"""Library profiles (local and remote), their keys and Toolkit workshop results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from node.db import Base
from node.models.types import UTCDateTime, utcnow


class Library(Base):
    """A library, association or Fachstelle: an ActivityPub actor.

    Local libraries have ``is_local`` set, ``domain`` empty and no ``ap_id`` (their ids are
    derived from the node's public URL); remote ones carry their actor id and domain.
    """

    __tablename__ = "libraries"
    __table_args__ = (
        UniqueConstraint("domain", "handle", name="uq_libraries_domain_handle"),
        Index("ix_libraries_population", "population"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(255), default="")
    is_local: Mapped[bool] = mapped_column(Boolean, default=True)
    ap_id: Mapped[str | None] = mapped_column(String(2048), unique=True, nullable=True)
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="library")
    summary: Mapped[str] = mapped_column(Text, default="")
    town: Mapped[str] = mapped_column(String(120), default="")
    federal_state: Mapped[str | None] = mapped_column(String(8), nullable=True)
    ags: Mapped[str | None] = mapped_column(String(8), nullable=True)
    isil: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dbs_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    website: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    operator_type: Mapped[str | None] = mapped_column(String(32), nullable=True)

    # Numbers follow the German library statistics (DBS); see docs in domain.md.
    population: Mapped[int | None] = mapped_column(Integer, nullable=True)
    public_area_m2: Mapped[float | None] = mapped_column(Float, nullable=True)
    staff_fte: Mapped[float | None] = mapped_column(Float, nullable=True)
    volunteers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    volunteer_fte: Mapped[float | None] = mapped_column(Float, nullable=True)
    opening_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    media_stock: Mapped[int | None] = mapped_column(Integer, nullable=True)
    loans: Mapped[int | None] = mapped_column(Integer, nullable=True)
    events: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reference_year: Mapped[int | None] = mapped_column(Integer, nullable=True)

    manually_approves_followers: Mapped[bool] = mapped_column(Boolean, default=False)
    discoverable: Mapped[bool] = mapped_column(Boolean, default=True)
    indexable: Mapped[bool] = mapped_column(Boolean, default=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LibraryKeys(Base):
    """Private key material of a local library; never serialised, never sent."""

    __tablename__ = "library_keys"

    library_id: Mapped[int] = mapped_column(
        ForeignKey("libraries.id", ondelete="CASCADE"), primary_key=True
    )
    rsa_private_pem: Mapped[str] = mapped_column(Text)
    rsa_public_pem: Mapped[str] = mapped_column(Text)
    ed25519_private_pem: Mapped[str] = mapped_column(Text)
    ed25519_public_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ToolkitResult(Base):
    """Results of a library's Toolkit strategy workshop (categories come from a vocabulary)."""

    __tablename__ = "toolkit_results"

    library_id: Mapped[int] = mapped_column(
        ForeignKey("libraries.id", ondelete="CASCADE"), primary_key=True
    )
    workshop_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    # {"<field-of-action id>": {"rating": 1..5, "note": "..."}} from "Reflektieren"
    ratings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    priority_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority_target_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    planned_measures: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

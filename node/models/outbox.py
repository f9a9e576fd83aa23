"""Activities performed by local libraries, waiting for federation to fan them out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from node.db import Base
from node.models.types import UTCDateTime, utcnow


class OutboxActivity(Base):
    """An activity a local library performed (Create/Update/Delete of a measure or profile)."""

    __tablename__ = "outbox_activities"
    __table_args__ = (
        Index("ix_outbox_activities_library_id", "library_id", "id"),
        Index("ix_outbox_activities_undispatched", "dispatched_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    activity_type: Mapped[str] = mapped_column(String(16))
    object_type: Mapped[str] = mapped_column(String(16))
    # The measure uid (or library handle); kept after the object itself is deleted.
    object_ref: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set once federation has fanned the activity out to delivery rows.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The ActivityStreams document as sent, rendered once at dispatch.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

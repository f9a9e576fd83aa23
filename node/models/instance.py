"""The node itself: one row holding the instance actor's keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.db import Base
from node.models.types import UTCDateTime, utcnow


class Instance(Base):
    """Singleton row (id 1): the node's own identity, used to sign fetches (FEP-2677)."""

    __tablename__ = "instance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    rsa_private_pem: Mapped[str] = mapped_column(Text)
    rsa_public_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Tables of the federation layer: remote actors, follow relations, inbox, delivery queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
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


class RemoteActor(Base):
    """A cached actor of another server (a bibnetz library, a Mastodon account, …)."""

    __tablename__ = "remote_actors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    preferred_username: Mapped[str] = mapped_column(String(255), default="")
    domain: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(500), default="")
    inbox: Mapped[str] = mapped_column(String(2048))
    shared_inbox: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    outbox: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    public_key_id: Mapped[str] = mapped_column(String(2048), index=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    # FEP-521a: Ed25519 keys from assertionMethod, {key id: multibase}
    multikeys: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    indexable: Mapped[bool] = mapped_column(Boolean, default=True)
    is_bibnetz: Mapped[bool] = mapped_column(Boolean, default=False)
    # The mirror row in `libraries` when the actor is a bibnetz library.
    library_id: Mapped[int | None] = mapped_column(
        ForeignKey("libraries.id", ondelete="SET NULL"), nullable=True
    )
    document: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    key_refetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Following(Base):
    """A local library follows a remote actor (outgoing Follow)."""

    __tablename__ = "following"
    __table_args__ = (UniqueConstraint("library_id", "remote_actor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    remote_actor_id: Mapped[int] = mapped_column(ForeignKey("remote_actors.id", ondelete="CASCADE"))
    # pending → accepted | rejected
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    backfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Follower(Base):
    """A remote actor follows a local library (incoming Follow)."""

    __tablename__ = "followers"
    __table_args__ = (UniqueConstraint("library_id", "remote_actor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"))
    remote_actor_id: Mapped[int] = mapped_column(ForeignKey("remote_actors.id", ondelete="CASCADE"))
    follow_ap_id: Mapped[str] = mapped_column(String(2048))
    # pending (manual approval) → accepted
    state: Mapped[str] = mapped_column(String(16), default="accepted")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboxActivity(Base):
    """A verified incoming activity: in the inbox spool's file before the 202, in this table
    a moment later (federation/spool.py), processed afterwards."""

    __tablename__ = "inbox_activities"
    __table_args__ = (Index("ix_inbox_activities_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    activity_type: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(2048))
    # The local library whose inbox received it (None: shared inbox).
    library_id: Mapped[int | None] = mapped_column(
        ForeignKey("libraries.id", ondelete="SET NULL"), nullable=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Delivery(Base):
    """One activity to one inbox, with its retry state."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox"),
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        Index("ix_deliveries_host", "host", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("outbox_activities.id", ondelete="CASCADE"))
    inbox: Mapped[str] = mapped_column(String(2048))
    host: Mapped[str] = mapped_column(String(255))
    # pending → sending → done | failed; pending rows of a parked host wait
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PeerHost(Base):
    """Health of a remote host: consecutive failures park it, a success resumes it."""

    __tablename__ = "peer_hosts"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="ok")  # ok | parked | blocked
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    parked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Tombstone(Base):
    """A deleted local object: its URL answers 410 Gone with a Tombstone."""

    __tablename__ = "tombstones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    library_id: Mapped[int | None] = mapped_column(
        ForeignKey("libraries.id", ondelete="SET NULL"), nullable=True
    )
    former_type: Mapped[str] = mapped_column(String(32), default="Article")
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reply(Base):
    """A question or answer under a measure (a Note with inReplyTo), local or remote."""

    __tablename__ = "replies"
    __table_args__ = (Index("ix_replies_measure", "measure_id", "published_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(2048))
    author_name: Mapped[str] = mapped_column(String(500), default="")
    content_html: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

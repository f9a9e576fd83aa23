"""libraries, measures, accounts

Revision ID: 0001
Revises:
Create Date: 2026-11-27 09:15:20.477363
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_accounts_email")),
    )
    op.create_table(
        "instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rsa_private_pem", sa.Text(), nullable=False),
        sa.Column("rsa_public_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance")),
    )
    op.create_table(
        "libraries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(length=64), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("is_local", sa.Boolean(), nullable=False),
        sa.Column("ap_id", sa.String(length=2048), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("town", sa.String(length=120), nullable=False),
        sa.Column("federal_state", sa.String(length=8), nullable=True),
        sa.Column("ags", sa.String(length=8), nullable=True),
        sa.Column("isil", sa.String(length=32), nullable=True),
        sa.Column("dbs_id", sa.String(length=16), nullable=True),
        sa.Column("website", sa.String(length=2048), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("operator_type", sa.String(length=32), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("public_area_m2", sa.Float(), nullable=True),
        sa.Column("staff_fte", sa.Float(), nullable=True),
        sa.Column("volunteers", sa.Integer(), nullable=True),
        sa.Column("volunteer_fte", sa.Float(), nullable=True),
        sa.Column("opening_hours", sa.Float(), nullable=True),
        sa.Column("media_stock", sa.Integer(), nullable=True),
        sa.Column("loans", sa.Integer(), nullable=True),
        sa.Column("events", sa.Integer(), nullable=True),
        sa.Column("reference_year", sa.Integer(), nullable=True),
        sa.Column("manually_approves_followers", sa.Boolean(), nullable=False),
        sa.Column("discoverable", sa.Boolean(), nullable=False),
        sa.Column("indexable", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_libraries")),
        sa.UniqueConstraint("ap_id", name=op.f("uq_libraries_ap_id")),
        sa.UniqueConstraint("domain", "handle", name="uq_libraries_domain_handle"),
    )
    with op.batch_alter_table("libraries", schema=None) as batch_op:
        batch_op.create_index("ix_libraries_population", ["population"], unique=False)

    op.create_table(
        "account_libraries",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_libraries_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_account_libraries_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "library_id", name=op.f("pk_account_libraries")),
    )
    op.create_table(
        "library_keys",
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("rsa_private_pem", sa.Text(), nullable=False),
        sa.Column("rsa_public_pem", sa.Text(), nullable=False),
        sa.Column("ed25519_private_pem", sa.Text(), nullable=False),
        sa.Column("ed25519_public_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_library_keys_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("library_id", name=op.f("pk_library_keys")),
    )
    op.create_table(
        "measures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("is_local", sa.Boolean(), nullable=False),
        sa.Column("ap_id", sa.String(length=2048), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fields_of_action", sa.JSON(), nullable=False),
        sa.Column("target_groups", sa.JSON(), nullable=False),
        sa.Column("formats", sa.JSON(), nullable=False),
        sa.Column("partners", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("effort", sa.String(length=8), nullable=True),
        sa.Column("volunteers_involved", sa.Boolean(), nullable=True),
        sa.Column("cost_band", sa.String(length=16), nullable=True),
        sa.Column("funding", sa.String(length=300), nullable=False),
        sa.Column("duration", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("licence", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("coop_capacity", sa.String(length=300), nullable=False),
        sa.Column("coop_region", sa.String(length=200), nullable=False),
        sa.Column("coop_deadline", sa.Date(), nullable=True),
        sa.Column("snapshot_population", sa.Integer(), nullable=True),
        sa.Column("snapshot_area_m2", sa.Float(), nullable=True),
        sa.Column("snapshot_fte", sa.Float(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_measures_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measures")),
        sa.UniqueConstraint("ap_id", name=op.f("uq_measures_ap_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_measures_uid")),
    )
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_measures_library_published", ["library_id", "published_at"], unique=False
        )
        batch_op.create_index("ix_measures_published", ["published_at"], unique=False)

    op.create_table(
        "outbox_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("activity_type", sa.String(length=16), nullable=False),
        sa.Column("object_type", sa.String(length=16), nullable=False),
        sa.Column("object_ref", sa.String(length=2048), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_outbox_activities_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_activities")),
        sa.UniqueConstraint("uid", name=op.f("uq_outbox_activities_uid")),
    )
    with op.batch_alter_table("outbox_activities", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_activities_library_id", ["library_id", "id"], unique=False)

    op.create_table(
        "toolkit_results",
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("workshop_date", sa.Date(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("priority_fields", sa.JSON(), nullable=False),
        sa.Column("priority_target_groups", sa.JSON(), nullable=False),
        sa.Column("planned_measures", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["libraries.id"],
            name=op.f("fk_toolkit_results_library_id_libraries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("library_id", name=op.f("pk_toolkit_results")),
    )


def downgrade() -> None:
    """Revert this revision."""

    op.drop_table("toolkit_results")
    with op.batch_alter_table("outbox_activities", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_activities_library_id")

    op.drop_table("outbox_activities")
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.drop_index("ix_measures_published")
        batch_op.drop_index("ix_measures_library_published")

    op.drop_table("measures")
    op.drop_table("library_keys")
    op.drop_table("account_libraries")
    with op.batch_alter_table("libraries", schema=None) as batch_op:
        batch_op.drop_index("ix_libraries_population")

    op.drop_table("libraries")
    op.drop_table("instance")
    op.drop_table("accounts")

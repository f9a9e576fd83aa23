"""Alembic environment: runs on the connection handed over by ``node.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import node.models  # noqa: F401  (registers every table on the metadata)
from node.db import Base
from node.search.schema import include_name

target_metadata = Base.metadata


def run(connection: Connection) -> None:
    """Run migrations on an open synchronous connection."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # Full-text objects differ per database and live outside the models on purpose.
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `bibnetz db upgrade`, not the alembic command")
run(connection)

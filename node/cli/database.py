"""`bibnetz db upgrade|downgrade`: schema migrations by hand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from node import migrate
from node.cli.base import (
    command_context,
    common_options,
    friendly_errors,
    main,
    run_async,
)
from node.db import create_engine
from node.settings import Settings


@main.group()
def db() -> None:
    """Database schema (migrations are also applied on every start)."""


@db.command("upgrade")
@common_options
@click.argument("revision", default="head")
@friendly_errors
def db_upgrade(data_dir: Path | None, config_file: Path | None, revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    settings = command_context(data_dir, config_file).settings()

    _migrate(settings, migrate.upgrade, revision)


@db.command("downgrade")
@common_options
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@friendly_errors
def db_downgrade(data_dir: Path | None, config_file: Path | None, revision: str, yes: bool) -> None:
    """Revert migrations down to REVISION ("base" deletes all data)."""
    if not yes:
        click.confirm(f"Downgrade the database to {revision}? Data may be lost", abort=True)
    settings = command_context(data_dir, config_file).settings()

    _migrate(settings, migrate.downgrade, revision)


def _migrate(
    settings: Settings, step: Callable[[AsyncEngine, str], Awaitable[None]], revision: str
) -> None:
    async def work() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await step(engine, revision)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    click.echo(f"Database at revision {run_async(work())}")

"""`bibnetz user add`: staff accounts."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession

from node.cli.base import (
    command_context,
    common_options,
    friendly_errors,
    in_session,
    main,
    run_async,
)
from node.libraries import get_local_library


@main.group()
def user() -> None:
    """Manage staff accounts."""


@user.command("add")
@common_options
@click.argument("email")
@click.option("--library", "handles", multiple=True, help="Library the account may edit.")
@click.option("--admin", is_flag=True, help="Node administrator (may edit every library).")
@click.option(
    "--password",
    envvar="BIBNETZ_NEW_PASSWORD",
    help="Password (default: generate one and print it).",
)
@friendly_errors
def user_add(
    data_dir: Path | None,
    config_file: Path | None,
    email: str,
    handles: tuple[str, ...],
    admin: bool,
    password: str | None,
) -> None:
    """Create a staff account for one or more libraries (or an admin)."""
    from node.accounts import create_account
    from node.passwords import generate_password

    if not handles and not admin:
        raise click.UsageError("give --library HANDLE (repeatable) or --admin")
    settings = command_context(data_dir, config_file).settings()
    secret = password or generate_password()

    async def work(session: AsyncSession) -> None:
        libs = [await get_local_library(session, h) for h in handles]
        await create_account(session, email, secret, is_admin=admin, libraries=libs)

    run_async(in_session(settings, work))
    click.echo(f"Created account {email.strip().lower()}")
    if password is None:
        click.echo(f"Password (shown once): {secret}")

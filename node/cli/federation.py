"""Federation commands: follow, unfollow, following.

The CLI is an entry point like node/app.py, so it may wire in the federation package."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

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
from node.settings import Settings

if TYPE_CHECKING:
    from federation.runtime import Federation

T = TypeVar("T")


def with_federation(settings: Settings, work: Callable[[Federation], Awaitable[T]]) -> T:
    """Run one federation service in a standalone context (no web server needed)."""
    from federation.setup import standalone

    async def run() -> T:
        async with standalone(settings) as fed:
            return await work(fed)

    return run_async(run())


@main.command("follow")
@common_options
@click.argument("account")
@click.option("--library", "handle", required=True, help="Handle of the following library.")
@friendly_errors
def follow_cmd(data_dir: Path | None, config_file: Path | None, account: str, handle: str) -> None:
    """Follow ACCOUNT (name@host or an actor URL); the running node sends the Follow."""
    from federation.fetch import FetchError
    from federation.following import follow

    settings = command_context(data_dir, config_file).settings()
    try:
        result = with_federation(settings, lambda fed: follow(fed, handle, account))
    except FetchError as exc:
        raise click.ClickException(f"cannot reach {account}: {exc}") from exc
    if result.already:
        click.echo(f"@{handle} already follows {result.actor} ({result.state}).")
    else:
        click.echo(
            f"@{handle} asked to follow {result.actor}. The node delivers the request and, once "
            "it is accepted, fetches the existing measures (see `bibnetz following`)."
        )


@main.command("unfollow")
@common_options
@click.argument("account")
@click.option("--library", "handle", required=True, help="Handle of the following library.")
@click.option("--drop", is_flag=True, help="Also forget the measures received from it.")
@friendly_errors
def unfollow_cmd(
    data_dir: Path | None, config_file: Path | None, account: str, handle: str, drop: bool
) -> None:
    """Stop following ACCOUNT (sends Undo)."""
    from federation.following import unfollow

    settings = command_context(data_dir, config_file).settings()
    if with_federation(settings, lambda fed: unfollow(fed, handle, account, drop=drop)):
        click.echo(f"@{handle} no longer follows {account}.")
    else:
        click.echo(f"@{handle} did not follow {account}.")


@main.command("following")
@common_options
@click.option("--library", "handle", required=True, help="Handle of the library.")
@friendly_errors
def following_cmd(data_dir: Path | None, config_file: Path | None, handle: str) -> None:
    """Whom a library follows, with state and how many measures arrived."""
    from sqlalchemy import func, select

    from node.models import Following, Measure, RemoteActor

    settings = command_context(data_dir, config_file).settings()

    async def work(session: AsyncSession) -> list[str]:
        lib = await get_local_library(session, handle)
        counts = (
            select(Measure.library_id, func.count().label("n"))
            .group_by(Measure.library_id)
            .subquery()
        )
        rows = await session.execute(
            select(RemoteActor.ap_id, Following.state, func.coalesce(counts.c.n, 0))
            .join(Following, Following.remote_actor_id == RemoteActor.id)
            .outerjoin(counts, counts.c.library_id == RemoteActor.library_id)
            .where(Following.library_id == lib.id)
            .order_by(RemoteActor.ap_id)
        )
        return [f"{ap_id}\t{state}\t{n} measures" for ap_id, state, n in rows]

    lines = run_async(in_session(settings, work))
    if not lines:
        click.echo(
            f"@{handle} follows nobody yet. Try: bibnetz follow --library {handle} name@host"
        )
    for line in lines:
        click.echo(line)

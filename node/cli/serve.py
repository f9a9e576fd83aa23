"""`bibnetz serve` and `bibnetz demo`: run a node (or a local demo network)."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Any

import click
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from node import keys
from node.cli.base import (
    command_context,
    common_options,
    friendly_errors,
    in_session,
    main,
    run_async,
)
from node.settings import Settings


@main.command()
@common_options
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8080).")
@click.option("--public-url", help="URL under which peers reach this node.")
@friendly_errors
def serve(
    data_dir: Path | None,
    config_file: Path | None,
    host: str | None,
    port: int | None,
    public_url: str | None,
) -> None:
    """Run the node (initialises an empty data directory on the first start)."""
    from node.app import create_app

    settings = command_context(data_dir, config_file).settings(
        host=host, port=port, public_url=public_url
    )
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run_async(_serve(create_app(settings), settings))


async def _serve(app: web.Application, settings: Settings) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for login in app[keys.FIRST_LOGIN]:
        click.echo(
            "\nFirst start: an administrator account was created. Note the password now,\n"
            "it is shown only this once:\n"
            f"    e-mail:   {login.email}\n"
            f"    password: {login.password}\n"
        )
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    click.echo(f"bibnetz node running at {settings.public_url} (data: {settings.data_dir})")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        click.echo("Stopping …")
        await runner.cleanup()


@main.command("demo")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("bibnetz-demo"),
    show_default=True,
    help="Where the demo nodes keep their data (reused on the next run).",
)
@click.option("--config", "config_file", hidden=True, type=click.Path(path_type=Path))
@click.option("--base-port", type=int, default=8701, show_default=True, help="First port.")
@friendly_errors
def demo_cmd(data_dir: Path, config_file: Path | None, base_port: int) -> None:
    """Start a small local network: an association and three libraries of different size."""
    from node.demo import run_demo

    logging.basicConfig(level="WARNING", format="%(levelname)s %(name)s: %(message)s")
    run_async(run_demo(data_dir, base_port=base_port, echo=click.echo))


@main.group("followers")
def followers_group() -> None:
    """See and approve the followers of a library."""


@followers_group.command("list")
@common_options
@click.option("--library", "handle", required=True, help="Handle of the library.")
@friendly_errors
def followers_list(data_dir: Path | None, config_file: Path | None, handle: str) -> None:
    """Followers of a library (pending ones wait for approval)."""
    from federation.moderation import list_followers
    from federation.setup import standalone

    settings = command_context(data_dir, config_file).settings()

    async def work() -> Any:
        async with standalone(settings) as fed:
            return await list_followers(fed, handle)

    rows = run_async(work())
    if not rows:
        click.echo(f"@{handle} has no followers yet.")
    for row in rows:
        click.echo(f"{row.actor}\t{row.state}\t{row.name}")


def _decide(
    data_dir: Path | None, config_file: Path | None, handle: str, actor: str, ok: bool
) -> None:
    from federation.moderation import decide_follower
    from federation.setup import standalone

    settings = command_context(data_dir, config_file).settings()

    async def work() -> bool:
        async with standalone(settings) as fed:
            return await decide_follower(fed, handle, actor, accept=ok)

    if not run_async(work()):
        raise click.ClickException(f"{actor} does not follow @{handle}")
    click.echo(f"{'Accepted' if ok else 'Rejected'} {actor} as follower of @{handle}.")


@followers_group.command("approve")
@common_options
@click.argument("actor")
@click.option("--library", "handle", required=True, help="Handle of the library.")
@friendly_errors
def followers_approve(
    data_dir: Path | None, config_file: Path | None, actor: str, handle: str
) -> None:
    """Accept a follow request (ACTOR is the actor URL shown by `followers list`)."""
    _decide(data_dir, config_file, handle, actor, True)


@followers_group.command("reject")
@common_options
@click.argument("actor")
@click.option("--library", "handle", required=True, help="Handle of the library.")
@friendly_errors
def followers_reject(
    data_dir: Path | None, config_file: Path | None, actor: str, handle: str
) -> None:
    """Reject a follow request or remove a follower."""
    _decide(data_dir, config_file, handle, actor, False)


@main.command("block")
@common_options
@click.argument("host")
@click.option("--drop", is_flag=True, help="Also delete everything received from HOST.")
@friendly_errors
def block_cmd(data_dir: Path | None, config_file: Path | None, host: str, drop: bool) -> None:
    """Block a server: it is never contacted again and its activities are refused."""
    from federation.moderation import block_host
    from federation.setup import standalone

    settings = command_context(data_dir, config_file).settings()

    async def work() -> int:
        async with standalone(settings) as fed:
            return await block_host(fed, host, drop=drop)

    dropped = run_async(work())
    click.echo(f"Blocked {host}." + (f" Dropped {dropped} libraries from it." if drop else ""))


@main.command("unblock")
@common_options
@click.argument("host")
@friendly_errors
def unblock_cmd(data_dir: Path | None, config_file: Path | None, host: str) -> None:
    """Allow a blocked server again."""
    from federation.moderation import unblock_host
    from federation.setup import standalone

    settings = command_context(data_dir, config_file).settings()

    async def work() -> bool:
        async with standalone(settings) as fed:
            return await unblock_host(fed, host)

    click.echo(f"Unblocked {host}." if run_async(work()) else f"{host} was not blocked.")


@main.command("deliveries")
@common_options
@click.option("--activities", default=20, show_default=True, help="How many recent activities.")
@friendly_errors
def deliveries_cmd(data_dir: Path | None, config_file: Path | None, activities: int) -> None:
    """Delivery state per recent activity and per peer host."""
    from federation.delivery_report import delivery_status

    settings = command_context(data_dir, config_file).settings()

    async def work(session: AsyncSession) -> Any:
        return await delivery_status(session, activities=activities)

    report = run_async(in_session(settings, work))
    click.echo("Per peer host (pending / done / failed):")
    if not report.hosts:
        click.echo("  no deliveries yet: nobody follows this node's libraries")
    for host in report.hosts:
        c = host.counts
        extra = f"  last error: {host.last_error}" if host.last_error else ""
        click.echo(
            f"  {host.host:<30} {host.state:<8} {c.pending + c.sending:>6} {c.done:>6} "
            f"{c.failed:>6}{extra}"
        )
    click.echo("Recent activities (pending / done / failed):")
    for act in report.activities:
        c = act.counts
        click.echo(
            f"  {act.created_at:%Y-%m-%d %H:%M} {act.activity_type:<8} {act.object_type:<8} "
            f"{c.pending + c.sending:>4} {c.done:>4} {c.failed:>4}"
        )

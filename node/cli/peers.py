"""Operator commands about peers: followers and approvals, blocks, the delivery and inbox
reports."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from node.cli.base import (
    command_context,
    common_options,
    friendly_errors,
    in_session,
    main,
    open_node,
    run_async,
)
from node.cli.federation import with_federation
from node.settings import Settings


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

    settings = command_context(data_dir, config_file).settings()
    rows = with_federation(settings, lambda fed: list_followers(fed, handle))
    if not rows:
        click.echo(f"@{handle} has no followers yet.")
    for row in rows:
        click.echo(f"{row.actor}\t{row.state}\t{row.name}")


def _decide(
    data_dir: Path | None, config_file: Path | None, handle: str, actor: str, ok: bool
) -> None:
    from federation.moderation import decide_follower

    settings = command_context(data_dir, config_file).settings()
    if not with_federation(settings, lambda fed: decide_follower(fed, handle, actor, accept=ok)):
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
    from federation.moderation import block_host, normalise_host

    settings = command_context(data_dir, config_file).settings()
    dropped = with_federation(settings, lambda fed: block_host(fed, host, drop=drop))
    extra = f" Dropped {dropped} libraries from it." if drop else ""
    click.echo(f"Blocked {normalise_host(host)}.{extra}")


@main.command("unblock")
@common_options
@click.argument("host")
@friendly_errors
def unblock_cmd(data_dir: Path | None, config_file: Path | None, host: str) -> None:
    """Allow a blocked server again."""
    from federation.moderation import unblock_host

    settings = command_context(data_dir, config_file).settings()
    unblocked = with_federation(settings, lambda fed: unblock_host(fed, host))
    click.echo(f"Unblocked {host}." if unblocked else f"{host} was not blocked.")


@main.command("inbox")
@common_options
@click.option("--limit", default=20, show_default=True, help="How many entries per list.")
@click.option(
    "--retry-set-aside",
    is_flag=True,
    help="First try once more to store the activities the database refused (after an "
    "upgrade or a fix); works while the node runs.",
)
@friendly_errors
def inbox_cmd(
    data_dir: Path | None, config_file: Path | None, limit: int, retry_set_aside: bool
) -> None:
    """What came in: waiting in the spool, set aside, not yet processed, failed."""
    from federation.inbox_report import inbox_status

    settings = command_context(data_dir, config_file).settings()
    spool_dir = settings.data_dir / "inbox-spool"
    if retry_set_aside:
        _retry_set_aside(settings, spool_dir)

    async def work(session: AsyncSession) -> Any:
        return await inbox_status(session, spool_dir, limit=limit)

    report = run_async(in_session(settings, work))
    since = f" (oldest received {report.oldest_waiting})" if report.waiting else ""
    click.echo(f"Waiting in the spool, not yet stored: {report.waiting}{since}")
    click.echo(f"Stored, not yet processed: {report.unprocessed}")
    click.echo(
        f"Set aside (the database refused them; kept in {spool_dir / 'failed.spool'}): "
        f"{report.set_aside_total}"
    )
    for item in report.set_aside:
        click.echo(f"  {item.received}  {item.activity_type:<8} {item.ap_id}  from {item.actor}")
    click.echo(f"Processing failed at least once: {report.failed_total}")
    for row in report.failed:
        click.echo(
            f"  {row.received_at:%Y-%m-%d %H:%M}  {row.activity_type:<8} {row.ap_id}  "
            f"{row.state}, {row.attempts} attempt(s): {row.error}"
        )


def _retry_set_aside(settings: Settings, spool_dir: Path) -> None:
    from federation.spool import describe
    from federation.spool_retry import (
        RetryBusy,
        SpoolFilesError,
        describe_outcome,
        retry_set_aside,
    )

    async def work() -> Any:
        async with open_node(settings) as sessionmaker:
            return await retry_set_aside(spool_dir, sessionmaker.kw["bind"])

    try:
        outcome = run_async(work())
    except RetryBusy as exc:
        raise click.ClickException(str(exc)) from None
    except SpoolFilesError as exc:
        raise click.ClickException(
            f"{exc}. Nothing was deleted: what was not stored is in failed.spool or, until "
            "the next retry, in retry/."
        ) from exc
    except (SQLAlchemyError, ConnectionError, socket.gaierror, TimeoutError) as exc:
        raise click.ClickException(
            f"the database did not take them now ({describe(exc)}). What was not stored is "
            "set aside again (some may be stored already); trying again later is safe."
        ) from exc
    except OSError as exc:
        raise click.ClickException(
            f"could not finish ({describe(exc)}). Nothing was deleted: what was not stored "
            "is in failed.spool or, until the next retry, in retry/; trying again is safe."
        ) from exc
    click.echo("\n".join(describe_outcome(outcome)) + "\n")


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

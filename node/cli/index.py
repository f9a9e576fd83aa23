"""`bibnetz index rebuild`: re-index every measure of the node (own and received)."""

from __future__ import annotations

import sys
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


@main.group("index")
def index_group() -> None:
    """The local search index."""


@index_group.command("rebuild")
@common_options
@friendly_errors
def index_rebuild(data_dir: Path | None, config_file: Path | None) -> None:
    """Re-index every measure (after an upgrade, or if search results look stale)."""
    from node.search import rebuild

    settings = command_context(data_dir, config_file).settings()

    async def work(session: AsyncSession) -> int:
        with click.progressbar(length=1, label="Indexing", file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            return await rebuild(session, progress)

    count = run_async(in_session(settings, work))
    click.echo(f"Indexed {count} measures.")

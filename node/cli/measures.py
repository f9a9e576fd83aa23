"""`bibnetz measure import|export`: measures as CSV and JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

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
from node.interchange import (
    detect_format,
    import_measures,
    read_rows,
    validate_rows,
    write_csv,
    write_json,
)
from node.libraries import get_local_library
from node.measures import list_library_measures
from node.vocab import load_vocabularies


@main.group()
def measure() -> None:
    """Import and export measures."""


@measure.command("import")
@common_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--library", "handle", required=True, help="Handle of the library.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), help="Default: by suffix.")
@click.option(
    "--announce/--no-announce",
    default=True,
    show_default=True,
    help="Send the imported measures to followers.",
)
@friendly_errors
def measure_import(
    data_dir: Path | None,
    config_file: Path | None,
    file: Path,
    handle: str,
    fmt: str | None,
    announce: bool,
) -> None:
    """Import measures from a CSV or JSON file: all rows or none."""
    settings = command_context(data_dir, config_file).settings()
    vocab = load_vocabularies(settings.vocab_dir)
    rows = read_rows(file, detect_format(file, fmt))
    if not rows:
        click.echo(f"{file.name} contains no measures; nothing to do.")
        return
    with click.progressbar(
        length=len(rows), label=f"Checking {len(rows)} rows", file=sys.stderr
    ) as bar:
        clean = validate_rows(rows, vocab, progress=bar.update)

    async def work(session: AsyncSession) -> Any:
        lib = await get_local_library(session, handle)
        with click.progressbar(length=len(clean), label="Importing", file=sys.stderr) as bar:
            return await import_measures(
                session, lib, clean, announce=announce, progress=bar.update
            )

    result = run_async(in_session(settings, work))
    click.echo(
        f"Imported {file.name}: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged."
    )


@measure.command("export")
@common_options
@click.option("--library", "handle", required=True, help="Handle of the library.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="json")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout."
)
@friendly_errors
def measure_export(
    data_dir: Path | None, config_file: Path | None, handle: str, fmt: str, output: Path | None
) -> None:
    """Export a library's measures as JSON or CSV (readable by `measure import`)."""
    settings = command_context(data_dir, config_file).settings()

    async def work(session: AsyncSession) -> Any:
        lib = await get_local_library(session, handle)
        return await list_library_measures(session, lib)

    measures = run_async(in_session(settings, work))
    writer = write_csv if fmt == "csv" else write_json
    if output is None:
        writer(measures, sys.stdout)
    else:
        with open(output, "w", encoding="utf-8", newline="") as out:
            writer(measures, out)
        click.echo(f"Wrote {len(measures)} measures to {output}", err=True)

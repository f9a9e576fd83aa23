"""`bibnetz library …`: the libraries hosted on this node."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from node.cli.base import (
    P,
    T,
    command_context,
    common_options,
    friendly_errors,
    in_session,
    main,
    run_async,
)
from node.libraries import create_library, list_local_libraries
from node.validation import LIBRARY_NUMBERS
from node.vocab import load_vocabularies


@main.group()
def library() -> None:
    """Manage the libraries hosted on this node."""


_NUMBER_OPTIONS = {
    "population": "Inhabitants served (DBS 1).",
    "area": "Public floor area in m² (DBS 6).",
    "fte": "Staff in full-time equivalents (DBS 68).",
    "volunteers": "Number of volunteers (DBS 75).",
    "volunteer-fte": "Volunteer FTE (DBS 76).",
    "opening-hours": "Opening hours per week (DBS 8).",
    "media-stock": "Media stock (DBS 13).",
    "loans": "Loans per year (DBS 14).",
    "events": "Events per year (DBS 94).",
    "reference-year": "Year the numbers refer to.",
}
_OPTION_FIELD = {
    "area": "public_area_m2",
    "fte": "staff_fte",
    "volunteer-fte": "volunteer_fte",
    "opening-hours": "opening_hours",
    "media-stock": "media_stock",
    "reference-year": "reference_year",
}
assert {_OPTION_FIELD.get(o, o) for o in _NUMBER_OPTIONS} == set(LIBRARY_NUMBERS)


def _library_options(func: Callable[P, T]) -> Callable[P, T]:
    for option, help_text in reversed(_NUMBER_OPTIONS.items()):
        func = click.option(f"--{option}", "num_" + option.replace("-", "_"), help=help_text)(func)
    for option, help_text in reversed(
        [
            ("kind", "library, association or fachstelle."),
            ("town", "Town or municipality."),
            ("state", "Federal state, e.g. DE-BY or Bayern."),
            ("ags", "8-digit official municipality key (AGS)."),
            ("isil", "ISIL, e.g. DE-123."),
            ("dbs-id", "Library statistics (DBS) id."),
            ("website", "Website URL."),
            ("contact-email", "Functional contact mailbox (no personal names)."),
            ("operator-type", "full-time, part-time or volunteer."),
            ("summary", "A short description."),
        ]
    ):
        func = click.option(f"--{option}", "opt_" + option.replace("-", "_"), help=help_text)(func)
    return func


def _library_data(name: str | None, options: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name}
    for key, value in options.items():
        if value is None:
            continue
        if key.startswith("num_"):
            option = key[4:].replace("_", "-")
            data[_OPTION_FIELD.get(option, option.replace("-", "_"))] = value
        elif key.startswith("opt_"):
            field = key[4:]
            data["federal_state" if field == "state" else field] = value
    return data


@library.command("add")
@common_options
@click.argument("handle")
@click.option("--name", required=True, help="Name of the library.")
@_library_options
@friendly_errors
def library_add(
    data_dir: Path | None, config_file: Path | None, handle: str, name: str, **options: Any
) -> None:
    """Create a library (with its key pairs) on this node."""
    ctx = command_context(data_dir, config_file)
    settings = ctx.settings()
    vocab = load_vocabularies(settings.vocab_dir)
    data = _library_data(name, options)

    async def work(session: AsyncSession) -> str:
        lib = await create_library(session, vocab, handle, data)
        return lib.handle

    created = run_async(in_session(settings, work))
    host = settings.domain
    click.echo(f"Created library {name!r}: @{created}@{host}")


@library.command("list")
@common_options
@friendly_errors
def library_list(data_dir: Path | None, config_file: Path | None) -> None:
    """List the libraries of this node."""
    settings = command_context(data_dir, config_file).settings()

    async def work(session: AsyncSession) -> list[str]:
        rows = await list_local_libraries(session)
        return [
            f"@{lib.handle}\t{lib.name}\t{lib.population or '-'} inhabitants\t{n} measures"
            for lib, n in rows
        ]

    lines = run_async(in_session(settings, work))
    if not lines:
        click.echo("No libraries yet. Create one with: bibnetz library add HANDLE --name NAME")
    for line in lines:
        click.echo(line)

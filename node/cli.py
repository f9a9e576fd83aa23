"""The ``bibnetz`` command line: run a node and manage its libraries, measures and accounts."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from node import keys, migrate
from node.db import create_engine, create_sessionmaker, unit_of_work
from node.interchange import (
    ImportFileError,
    detect_format,
    import_measures,
    read_rows,
    validate_rows,
    write_csv,
    write_json,
)
from node.libraries import NotFound, create_library, get_local_library, list_local_libraries
from node.measures import list_library_measures
from node.settings import Settings, SettingsError, load_settings
from node.validation import LIBRARY_NUMBERS, ValidationError
from node.vocab import VocabularyError, load_vocabularies

P = ParamSpec("P")
T = TypeVar("T")


class Context:
    """What every command gets: settings and vocabularies, built lazily from the options."""

    def __init__(self, data_dir: Path | None, config: Path | None) -> None:
        self.data_dir = data_dir
        self.config = config

    def settings(self, **overrides: Any) -> Settings:
        """Settings from --config/--data, the environment and command options."""
        return load_settings(self.config, data_dir=self.data_dir, **overrides)


def common_options(func: Callable[P, T]) -> Callable[P, T]:
    """Add --data and --config to a command (they may also be given before the command)."""
    func = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="BIBNETZ_CONFIG",
        help="TOML settings file (default: DATA/bibnetz.toml if it exists).",
    )(func)
    func = click.option(
        "--data",
        "data_dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="BIBNETZ_DATA_DIR",
        help="Data directory of the node (default: ./bibnetz-data).",
    )(func)
    return func


def _context(data_dir: Path | None, config_file: Path | None) -> Context:
    parent = click.get_current_context().find_object(Context)
    return Context(
        data_dir or (parent.data_dir if parent else None),
        config_file or (parent.config if parent else None),
    )


def friendly_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn expected errors into a readable message and exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except (SettingsError, VocabularyError, NotFound) as exc:
            raise click.ClickException(str(exc)) from exc
        except ValidationError as exc:
            lines = "\n".join(f"  {e.field}: {e.message}" for e in exc.errors)
            raise click.ClickException(f"invalid input, nothing was saved:\n{lines}") from exc
        except ImportFileError as exc:
            raise click.ClickException(f"nothing was imported:\n{exc}") from exc

    return wrapper


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh event loop."""
    return asyncio.run(coro)


@asynccontextmanager
async def open_node(settings: Settings) -> AsyncIterator[Any]:
    """Open the node's database (applying pending migrations) for a CLI command."""
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def _in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with open_node(settings) as sessionmaker, unit_of_work(sessionmaker) as session:
        return await work(session)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@common_options
@click.version_option("0.1.0", prog_name="bibnetz")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, config_file: Path | None) -> None:
    """bibnetz: a federated network where small public libraries share what worked."""
    ctx.obj = Context(data_dir, config_file)


# --- serve ---------------------------------------------------------------------------------


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

    settings = _context(data_dir, config_file).settings(host=host, port=port, public_url=public_url)
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


# --- library -------------------------------------------------------------------------------


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
    ctx = _context(data_dir, config_file)
    settings = ctx.settings()
    vocab = load_vocabularies(settings.vocab_dir)
    data = _library_data(name, options)

    async def work(session: AsyncSession) -> str:
        lib = await create_library(session, vocab, handle, data)
        return lib.handle

    created = run_async(_in_session(settings, work))
    host = settings.domain
    click.echo(f"Created library {name!r}: @{created}@{host}")


@library.command("list")
@common_options
@friendly_errors
def library_list(data_dir: Path | None, config_file: Path | None) -> None:
    """List the libraries of this node."""
    settings = _context(data_dir, config_file).settings()

    async def work(session: AsyncSession) -> list[str]:
        rows = await list_local_libraries(session)
        return [
            f"@{lib.handle}\t{lib.name}\t{lib.population or '-'} inhabitants\t{n} measures"
            for lib, n in rows
        ]

    lines = run_async(_in_session(settings, work))
    if not lines:
        click.echo("No libraries yet. Create one with: bibnetz library add HANDLE --name NAME")
    for line in lines:
        click.echo(line)


# --- measure -------------------------------------------------------------------------------


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
    settings = _context(data_dir, config_file).settings()
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

    result = run_async(_in_session(settings, work))
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
    settings = _context(data_dir, config_file).settings()

    async def work(session: AsyncSession) -> Any:
        lib = await get_local_library(session, handle)
        return await list_library_measures(session, lib)

    measures = run_async(_in_session(settings, work))
    writer = write_csv if fmt == "csv" else write_json
    if output is None:
        writer(measures, sys.stdout)
    else:
        with open(output, "w", encoding="utf-8", newline="") as out:
            writer(measures, out)
        click.echo(f"Wrote {len(measures)} measures to {output}", err=True)


# --- user ----------------------------------------------------------------------------------


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
    settings = _context(data_dir, config_file).settings()
    secret = password or generate_password()

    async def work(session: AsyncSession) -> None:
        libs = [await get_local_library(session, h) for h in handles]
        await create_account(session, email, secret, is_admin=admin, libraries=libs)

    run_async(_in_session(settings, work))
    click.echo(f"Created account {email.strip().lower()}")
    if password is None:
        click.echo(f"Password (shown once): {secret}")


# --- db ------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema (migrations are also applied on every start)."""


@db.command("upgrade")
@common_options
@click.argument("revision", default="head")
@friendly_errors
def db_upgrade(data_dir: Path | None, config_file: Path | None, revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    settings = _context(data_dir, config_file).settings()

    async def work() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await migrate.upgrade(engine, revision)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    click.echo(f"Database at revision {run_async(work())}")


@db.command("downgrade")
@common_options
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@friendly_errors
def db_downgrade(data_dir: Path | None, config_file: Path | None, revision: str, yes: bool) -> None:
    """Revert migrations down to REVISION ("base" deletes all data)."""
    if not yes:
        click.confirm(f"Downgrade the database to {revision}? Data may be lost", abort=True)
    settings = _context(data_dir, config_file).settings()

    async def work() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await migrate.downgrade(engine, revision)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    click.echo(f"Database at revision {run_async(work())}")


# --- federation ----------------------------------------------------------------------------
# The CLI is an entry point like node/app.py, so it may wire in the federation package.


@main.command("follow")
@common_options
@click.argument("account")
@click.option("--library", "handle", required=True, help="Handle of the following library.")
@friendly_errors
def follow_cmd(data_dir: Path | None, config_file: Path | None, account: str, handle: str) -> None:
    """Follow ACCOUNT (name@host or an actor URL); the running node sends the Follow."""
    from federation.fetch import FetchError
    from federation.following import follow
    from federation.setup import standalone

    settings = _context(data_dir, config_file).settings()

    async def work() -> Any:
        async with standalone(settings) as fed:
            return await follow(fed, handle, account)

    try:
        result = run_async(work())
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
    from federation.setup import standalone

    settings = _context(data_dir, config_file).settings()

    async def work() -> bool:
        async with standalone(settings) as fed:
            return await unfollow(fed, handle, account, drop=drop)

    if run_async(work()):
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

    settings = _context(data_dir, config_file).settings()

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

    lines = run_async(_in_session(settings, work))
    if not lines:
        click.echo(
            f"@{handle} follows nobody yet. Try: bibnetz follow --library {handle} name@host"
        )
    for line in lines:
        click.echo(line)


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

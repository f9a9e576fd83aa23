"""Shared pieces of the command line: the main group, common options, error handling."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from alembic.util import CommandError as AlembicError
from sqlalchemy.ext.asyncio import AsyncSession

from node import migrate
from node.datadir import DataDirInUse
from node.db import create_engine, create_sessionmaker, unit_of_work
from node.interchange import (
    ImportFileError,
)
from node.libraries import NotFound
from node.settings import Settings, SettingsError, load_settings
from node.validation import ValidationError
from node.vocab import VocabularyError

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


def command_context(data_dir: Path | None, config_file: Path | None) -> Context:
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
        except (SettingsError, VocabularyError, NotFound, DataDirInUse) as exc:
            raise click.ClickException(str(exc)) from exc
        except ValidationError as exc:
            lines = "\n".join(f"  {e.field}: {e.message}" for e in exc.errors)
            raise click.ClickException(f"invalid input, nothing was saved:\n{lines}") from exc
        except ImportFileError as exc:
            raise click.ClickException(f"nothing was imported:\n{exc}") from exc
        except AlembicError as exc:
            raise click.ClickException(f"database migration: {exc}") from exc
        except Exception as exc:
            # Federation errors (unreachable peer, bad actor document) carry a readable
            # message; the CLI imports the federation package only inside its commands.
            if type(exc).__name__ in ("FetchError", "GoneError", "ActorError", "UnsafeURL"):
                raise click.ClickException(str(exc)) from exc
            raise

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


async def in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with open_node(settings) as sessionmaker, unit_of_work(sessionmaker) as session:
        return await work(session)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@common_options
@click.version_option("0.1.0", prog_name="bibnetz")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, config_file: Path | None) -> None:
    """bibnetz: a federated network where small public libraries share what worked."""
    ctx.obj = Context(data_dir, config_file)

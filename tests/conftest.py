"""Shared fixtures: a database per test on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from node import migrate
from node.db import create_engine, create_sessionmaker
from node.settings import Settings
from node.vocab import Vocabularies, load_vocabularies

PG_ENV = "BIBNETZ_TEST_DATABASE_URL"

pytest_plugins = ["tests.peers"]


def _backends() -> list[str]:
    return ["sqlite", "postgresql"]


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the test runs against; PostgreSQL needs BIBNETZ_TEST_DATABASE_URL."""
    name: str = request.param
    if name == "postgresql" and not os.environ.get(PG_ENV):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{PG_ENV} must be set in CI so PostgreSQL tests run")
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql+asyncpg://…")
    return name


class DatabaseFactory:
    """Creates empty databases for one test (several nodes need several) and drops them."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.created: list[str] = []

    async def new_url(self) -> str:
        """The URL of a fresh, empty database."""
        name = f"bibnetz_t_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp_path / (name + '.sqlite3')}"
        base = make_url(os.environ[PG_ENV])
        admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        finally:
            await admin.dispose()
        self.created.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        """Drop every PostgreSQL database this factory created."""
        if not self.created:
            return
        admin = create_async_engine(make_url(os.environ[PG_ENV]), isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                for name in self.created:
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            await admin.dispose()


@pytest.fixture
async def databases(backend: str, tmp_path: Path) -> AsyncIterator[DatabaseFactory]:
    """A factory of empty databases on the test's backend."""
    factory = DatabaseFactory(backend, tmp_path)
    yield factory
    await factory.drop_all()


@pytest.fixture
async def database_url(databases: DatabaseFactory) -> str:
    """One empty database for the test."""
    return await databases.new_url()


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated database and its session factory."""
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def vocab() -> Vocabularies:
    """The built-in vocabularies."""
    return load_vocabularies()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings of a node whose data lives in the test's temporary directory."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        public_url="http://127.0.0.1:8080",
        allow_private_peers=True,
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No BIBNETZ_* variables from the developer's shell leak into the test."""
    for key in list(os.environ):
        if key.startswith("BIBNETZ_") and key != PG_ENV:
            monkeypatch.delenv(key)

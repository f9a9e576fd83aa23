"""The search corpus in a database: built once per backend through the real services,
then cloned for every test (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on
PostgreSQL) so tests may change it freely."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from node import migrate, remote
from node.db import create_engine, create_sessionmaker, unit_of_work
from node.interchange import Row, import_measures, validate_rows
from node.libraries import create_library
from node.models import Library, Measure
from node.search import SearchQuery, search
from node.search.text import TextQuery, tokens
from node.vocab import load_vocabularies
from tests.conftest import PG_ENV, DatabaseFactory
from tests.node.search_corpus import LIBRARIES, Block, corpus


def _fields(block: Block) -> dict[str, Any]:
    return {
        "kind": block.kind,
        "title": block.title,
        "summary": block.summary,
        "body": block.body,
        "fields_of_action": list(block.fields),
        "target_groups": list(block.groups),
        "formats": list(block.formats),
        "cost_band": block.cost,
        "effort": block.effort,
        "status": block.status,
    }


async def load_corpus(url: str) -> None:
    """Migrate ``url`` and publish the corpus: local measures by import, remote ones as
    received from peers (so the index is filled by the services' own write paths)."""
    engine = create_engine(url)
    vocab = load_vocabularies()
    try:
        await migrate.upgrade(engine)
        async with unit_of_work(create_sessionmaker(engine)) as session:
            libraries: dict[int, Library] = {}
            for n, spec in enumerate(LIBRARIES):
                profile = {
                    "name": spec.name,
                    "kind": spec.kind,
                    "federal_state": spec.state,
                    "population": spec.population,
                    "public_area_m2": spec.area,
                    "staff_fte": spec.fte,
                }
                if spec.domain:
                    libraries[n] = await remote.upsert_library(
                        session,
                        ap_id=f"https://{spec.domain}/libraries/{spec.handle}",
                        handle=spec.handle,
                        domain=spec.domain,
                        url=None,
                        fields=profile,
                    )
                else:
                    given = {k: v for k, v in profile.items() if v is not None}
                    libraries[n] = await create_library(session, vocab, spec.handle, given)
            local_rows: dict[int, list[Row]] = defaultdict(list)
            for number, (index, block, published) in enumerate(corpus()):
                library = libraries[index]
                if library.is_local:
                    data = {**_fields(block), "published_at": published.isoformat()}
                    local_rows[index].append(Row(f"item {number}", data))
                    continue
                fields = {
                    **_fields(block),
                    "published_at": published,
                    "snapshot_population": library.population,
                    "snapshot_area_m2": library.public_area_m2,
                    "snapshot_fte": library.staff_fte,
                }
                ap_id = f"https://{library.domain}/measures/{number}"
                await remote.upsert_measure(session, library, ap_id, fields)
            for index, rows in local_rows.items():
                clean = validate_rows(rows, vocab)
                await import_measures(session, libraries[index], clean, announce=False)
    finally:
        await engine.dispose()


@dataclass
class CorpusTemplates:
    """One loaded corpus database per backend, built on first use."""

    directory: Path
    sqlite_file: Path | None = None
    pg_name: str | None = None

    def sqlite(self) -> Path:
        """The template SQLite file."""
        if self.sqlite_file is None:
            path = self.directory / "corpus.sqlite3"
            asyncio.run(load_corpus(f"sqlite+aiosqlite:///{path}"))
            self.sqlite_file = path
        return self.sqlite_file

    def postgresql(self) -> str:
        """The template PostgreSQL database name."""
        if self.pg_name is None:
            name = f"bibnetz_t_corpus_{uuid.uuid4().hex[:8]}"
            asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE template0'))
            asyncio.run(load_corpus(_pg_url(name)))
            self.pg_name = name
        return self.pg_name


def _pg_url(name: str) -> str:
    url = make_url(os.environ[PG_ENV]).set(database=name)
    return url.render_as_string(hide_password=False)


async def _pg_admin(statement: str) -> None:
    admin = create_async_engine(make_url(os.environ[PG_ENV]), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


@pytest.fixture(scope="session")
def corpus_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CorpusTemplates]:
    """Lazily built corpus templates, dropped at the end of the session."""
    templates = CorpusTemplates(tmp_path_factory.mktemp("corpus"))
    yield templates
    if templates.pg_name:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{templates.pg_name}" WITH (FORCE)'))


async def clone_corpus(templates: CorpusTemplates, databases: DatabaseFactory) -> str:
    """A fresh copy of the loaded corpus on the test's backend; its URL."""
    if databases.backend == "sqlite":
        target = databases.tmp_path / f"corpus_{uuid.uuid4().hex[:8]}.sqlite3"
        shutil.copyfile(await asyncio.to_thread(templates.sqlite), target)
        return f"sqlite+aiosqlite:///{target}"
    name = f"bibnetz_t_{uuid.uuid4().hex[:12]}"
    template = await asyncio.to_thread(templates.postgresql)
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    databases.created.append(name)
    return _pg_url(name)


@dataclass(frozen=True)
class Record:
    """A measure as plain data, for brute-force expectations computed in Python."""

    uid: str
    title: str
    texts: tuple[list[str], list[str], list[str]]  # tokens of title, summary+tags, body
    values: dict[str, Any]  # kind, fields_of_action, …, federal_state, org_kind
    library: Library
    published: Any
    snapshot: dict[str, Any]

    def text_match(self, query: TextQuery) -> bool:
        """Whether every term matches inside one field (the engines' semantics)."""
        return all(
            any(TextQuery((term,)).marks(field) for field in self.texts) for term in query.terms
        )


async def records(session: AsyncSession) -> list[Record]:
    """Every measure of the database with its library."""
    rows = await session.execute(
        select(Measure, Library).join(Library, Library.id == Measure.library_id)
    )
    out = []
    for measure, library in rows:
        values = {
            "kind": [measure.kind],
            "fields_of_action": measure.fields_of_action,
            "target_groups": measure.target_groups,
            "formats": measure.formats,
            "cost_band": [measure.cost_band] if measure.cost_band else [],
            "effort": [measure.effort] if measure.effort else [],
            "status": [measure.status],
            "federal_state": [library.federal_state] if library.federal_state else [],
            "org_kind": [library.kind],
        }
        texts = (
            tokens(measure.title),
            tokens(f"{measure.summary} {' '.join(measure.tags)}"),
            tokens(measure.body),
        )
        snapshot = {
            "population": measure.snapshot_population,
            "area": measure.snapshot_area_m2,
            "fte": measure.snapshot_fte,
        }
        out.append(
            Record(
                measure.uid, measure.title, texts, values, library, measure.published_at, snapshot
            )
        )
    return out


async def all_uids(session: AsyncSession, query: SearchQuery) -> list[str]:
    """The uids of every hit, following cursors page by page."""
    uids: list[str] = []
    cursor = None
    while True:
        result = await search(session, replace(query, limit=100, cursor=cursor))
        uids.extend(hit.measure.uid for hit in result.items)
        cursor = result.next_cursor
        if cursor is None:
            return uids

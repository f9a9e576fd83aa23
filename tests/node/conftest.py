"""Fixtures of the node tests: the search corpus, loaded once per backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.db import create_engine, create_sessionmaker
from tests.conftest import DatabaseFactory
from tests.node.search_db import CorpusTemplates, clone_corpus, corpus_templates

__all__ = ["corpus", "corpus_templates"]


@pytest.fixture
async def corpus(
    corpus_templates: CorpusTemplates, databases: DatabaseFactory
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A private copy of the loaded search corpus on the test's backend."""
    engine = create_engine(await clone_corpus(corpus_templates, databases))
    yield create_sessionmaker(engine)
    await engine.dispose()

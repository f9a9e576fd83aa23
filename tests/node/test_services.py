"""Library, measure and account services against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from node.accounts import authenticate, create_account, editable_libraries
from node.db import unit_of_work
from node.keypairs import load_ed25519_private, load_rsa_private
from node.libraries import create_library, get_keys, set_toolkit_results, update_library
from node.measures import create_measure, delete_measure, update_measure
from node.models import Library, Measure, OutboxActivity
from node.validation import ValidationError
from node.vocab import Vocabularies

Sessions = async_sessionmaker[AsyncSession]


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_library_gets_keys_and_measures_keep_a_snapshot(
    sessionmaker: Sessions, vocab: Vocabularies
) -> None:
    async with unit_of_work(sessionmaker) as session:
        lib = await create_library(
            session,
            vocab,
            "heideloh",
            {
                "name": "Bücherei Heideloh",
                "population": 6000,
                "staff_fte": 1.5,
                "public_area_m2": 250,
            },
        )
        keys = await get_keys(session, lib)
        assert load_rsa_private(keys.rsa_private_pem).key_size == 2048
        load_ed25519_private(keys.ed25519_private_pem)
        measure = await create_measure(session, vocab, lib, {"title": "Lesenacht", "kind": "idea"})
        assert measure.snapshot_population == 6000

    async with unit_of_work(sessionmaker) as session:
        lib = await session.get_one(Library, lib.id)
        await update_library(session, vocab, lib, {"population": "7000"})
    async with sessionmaker() as session:
        stored = await session.get_one(Measure, measure.id)
        assert stored.snapshot_population == 6000  # the snapshot does not follow the profile
        assert stored.published_at.tzinfo is not None
        kinds = (await session.scalars(select(OutboxActivity.activity_type))).all()
        assert kinds == ["Create", "Update"]


async def test_duplicate_handle_and_bad_input_write_nothing(
    sessionmaker: Sessions, vocab: Vocabularies
) -> None:
    async with unit_of_work(sessionmaker) as session:
        await create_library(session, vocab, "dup", {"name": "Erste"})
    with pytest.raises(ValidationError, match="already taken"):
        async with unit_of_work(sessionmaker) as session:
            await create_library(session, vocab, "DUP", {"name": "Zweite"})
    with pytest.raises(ValidationError) as exc:
        async with unit_of_work(sessionmaker) as session:
            await create_library(session, vocab, "bad handle", {"population": -1})
    assert {e.field for e in exc.value.errors} == {"handle", "name", "population"}
    async with sessionmaker() as session:
        assert await _count(session, Library) == 1


async def test_update_and_delete_measure_record_activities(
    sessionmaker: Sessions, vocab: Vocabularies
) -> None:
    async with unit_of_work(sessionmaker) as session:
        lib = await create_library(session, vocab, "b", {"name": "B"})
        measure = await create_measure(session, vocab, lib, {"title": "Alt"})
    async with unit_of_work(sessionmaker) as session:
        measure = await session.get_one(Measure, measure.id)
        await update_measure(session, vocab, measure, {"title": "Neu"})
        await update_measure(session, vocab, measure, {"title": "Neu"})  # no change, no activity
    async with unit_of_work(sessionmaker) as session:
        measure = await session.get_one(Measure, measure.id)
        assert measure.title == "Neu"
        await delete_measure(session, measure)
    async with sessionmaker() as session:
        assert await _count(session, Measure) == 0
        rows = (
            await session.execute(select(OutboxActivity.activity_type, OutboxActivity.object_ref))
        ).all()
        assert [r[0] for r in rows] == ["Create", "Update", "Delete"]
        assert {r[1] for r in rows} == {measure.uid}


async def test_toolkit_results_are_stored(sessionmaker: Sessions, vocab: Vocabularies) -> None:
    async with unit_of_work(sessionmaker) as session:
        lib = await create_library(session, vocab, "t", {"name": "T"})
        result = await set_toolkit_results(
            session,
            vocab,
            lib,
            {"visibility": "network", "priority_fields": ["Leseförderung", "third-place"]},
        )
        assert result.priority_fields == ["reading-promotion", "third-place"]


async def test_accounts_hash_passwords_and_scope_libraries(
    sessionmaker: Sessions, vocab: Vocabularies
) -> None:
    async with unit_of_work(sessionmaker) as session:
        a = await create_library(session, vocab, "a", {"name": "A"})
        await create_library(session, vocab, "b", {"name": "B"})
        editor = await create_account(
            session, "Team@Example.org", "lange-passphrase", libraries=[a]
        )
        assert editor.email == "team@example.org"
        assert editor.password_hash.startswith("$argon2id$")
        assert [lib.handle for lib in await editable_libraries(session, editor)] == ["a"]
    async with unit_of_work(sessionmaker) as session:
        assert await authenticate(session, "team@example.org", "falsch-falsch") is None
        assert await authenticate(session, "nobody@example.org", "lange-passphrase") is None
        assert await authenticate(session, "TEAM@example.org", "lange-passphrase") is not None
    with pytest.raises(ValidationError, match="at least 10"):
        async with unit_of_work(sessionmaker) as session:
            await create_account(session, "x@example.org", "kurz", is_admin=True)

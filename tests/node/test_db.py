"""node.db: the kept connection of busy writers."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from node.db import KeptConnection, create_engine


async def test_kept_connection_commits_rolls_back_and_recovers(database_url: str) -> None:
    """Each transaction commits on success; a failing one rolls back, and the next works."""
    engine = create_engine(database_url)
    kept = KeptConnection(engine)
    try:
        async with kept.transaction() as conn:
            await conn.execute(text("CREATE TABLE kept_probe (n INTEGER)"))
        async with kept.transaction() as conn:
            await conn.execute(text("INSERT INTO kept_probe VALUES (1)"))
        used: list[AsyncConnection] = []

        async def insert_then_fail() -> None:
            async with kept.transaction() as conn:
                used.append(conn)
                await conn.execute(text("INSERT INTO kept_probe VALUES (2)"))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await insert_then_fail()
        first = used[0]
        async with kept.transaction() as conn:
            assert first.closed  # the possibly broken connection was dropped
            rows = (await conn.execute(text("SELECT n FROM kept_probe"))).scalars().all()
        assert rows == [1]
        async with kept.transaction() as again:
            assert again is conn  # kept between transactions
    finally:
        await kept.close()
        await engine.dispose()

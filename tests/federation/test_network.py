"""Three real nodes on loopback: follow, accept, publish, edit, delete, announce, backfill."""

from __future__ import annotations

from typing import Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.following import follow, unfollow
from node.libraries import create_library, get_local_library, update_library
from node.measures import create_measure, delete_measure, get_measure, update_measure
from node.models import Follower, Following, Library, Measure
from tests.peers import Network, RunningNode, eventually


async def add_library(node: RunningNode, handle: str, **profile: Any) -> None:
    data = {"name": handle.title(), **profile}

    async def work(session: AsyncSession) -> None:
        await create_library(session, node.vocab, handle, data)

    await node.work(work)


async def publish(node: RunningNode, handle: str, title: str, **fields: Any) -> str:
    async def work(session: AsyncSession) -> str:
        library = await get_local_library(session, handle)
        measure = await create_measure(session, node.vocab, library, {"title": title, **fields})
        return measure.uid

    uid = await node.work(work)
    node.fed.wake_delivery.set()
    return uid


async def api_measures(node: RunningNode) -> list[dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{node.url}/api/v1/measures?limit=100") as resp,
    ):
        assert resp.status == 200
        data: dict[str, Any] = await resp.json()
        items: list[dict[str, Any]] = data["items"]
        return items


async def following_state(node: RunningNode, handle: str) -> str | None:
    async with node.sessions() as session:
        library = await get_local_library(session, handle)
        return await session.scalar(
            select(Following.state).where(Following.library_id == library.id)
        )


async def test_follow_publish_edit_delete(network: Network) -> None:
    a = await network.start("a")
    b = await network.start("b")
    await add_library(a, "heideloh", population=6000, staff_fte=1.5)
    await add_library(b, "bardenfeld", population=28000, staff_fte=7.5, federal_state="DE-NI")

    result = await follow(a.fed, "heideloh", b.account("bardenfeld"))
    assert result.actor == b.actor("bardenfeld")
    assert await eventually(
        lambda: _is(following_state(a, "heideloh"), "accepted"), what="Accept at A"
    )
    async with b.sessions() as session:
        assert await session.scalar(select(Follower.state)) == "accepted"

    uid = await publish(
        b, "bardenfeld", "Lesesommer für Grundschulkinder",
        summary="Sechs Wochen Lesen mit Stempelkarte.", fields_of_action="Leseförderung",
        target_groups="6–12 Jahre", kind="event-concept",
    )  # fmt: skip
    items = await eventually(lambda: _titled(a, "Lesesommer für Grundschulkinder"), what="Create")
    [item] = items
    assert item["local"] is False
    assert item["ap_id"] == f"{b.url}/measures/{uid}"
    assert item["fields_of_action"] == ["reading-promotion"]
    assert item["kind"] == "event-concept"
    assert item["snapshot"]["population"] == 28000
    assert item["library"]["name"] == "Bardenfeld"
    assert item["library"]["domain"] == b.settings.domain

    async def grow(session: AsyncSession) -> None:
        library = await get_local_library(session, "bardenfeld")
        await update_library(
            session, b.vocab, library, {"population": "29000", "town": "Bardenfeld"}
        )

    await b.work(grow)
    b.fed.wake_delivery.set()

    async def mirrored() -> bool:
        async with a.sessions() as session:
            mirror = await session.scalar(
                select(Library).where(Library.ap_id == b.actor("bardenfeld"))
            )
            return mirror is not None and mirror.population == 29000 and mirror.town == "Bardenfeld"

    await eventually(mirrored, what="profile Update at A")

    async def edit(session: AsyncSession) -> None:
        measure = await get_measure(session, uid)
        await update_measure(session, b.vocab, measure, {"title": "Lesesommer 2026"})

    await b.work(edit)
    b.fed.wake_delivery.set()
    [edited] = await eventually(lambda: _titled(a, "Lesesommer 2026"), what="Update at A")
    # The same measure, changed in place: no copy under the old title, nothing else lost.
    assert [i["ap_id"] for i in await api_measures(a)] == [item["ap_id"]]
    assert edited["id"] == item["id"]
    assert edited["fields_of_action"] == ["reading-promotion"]

    async def remove(session: AsyncSession) -> None:
        await delete_measure(session, await get_measure(session, uid))

    await b.work(remove)
    b.fed.wake_delivery.set()

    async def gone() -> bool:
        return not any(i["ap_id"].endswith(uid) for i in await api_measures(a))

    await eventually(gone, what="Delete at A")
    async with (
        aiohttp.ClientSession() as client,
        client.get(
            f"{b.url}/measures/{uid}", headers={"Accept": "application/activity+json"}
        ) as resp,
    ):
        assert resp.status == 410
        assert (await resp.json())["type"] == "Tombstone"

    assert await unfollow(a.fed, "heideloh", b.account("bardenfeld"))

    async def no_followers() -> bool:
        async with b.sessions() as session:
            return await session.scalar(select(Follower.id)) is None

    await eventually(no_followers, what="Undo(Follow) at B")


async def test_association_announce_is_verified_at_origin(network: Network) -> None:
    a = await network.start("a")
    b = await network.start("b")
    c = await network.start("c")
    await add_library(a, "ahrensloh")
    await add_library(b, "heidbruegge", population=2480)
    await add_library(c, "verbund", kind="association")

    await follow(c.fed, "verbund", b.account("heidbruegge"))
    await follow(a.fed, "ahrensloh", c.account("verbund"))
    await eventually(lambda: _is(following_state(c, "verbund"), "accepted"), what="C follows B")
    await eventually(lambda: _is(following_state(a, "ahrensloh"), "accepted"), what="A follows C")

    uid = await publish(b, "heidbruegge", "Bilderbuchkino im Dorfgemeinschaftshaus")
    [item] = await eventually(
        lambda: _titled(a, "Bilderbuchkino im Dorfgemeinschaftshaus"), what="Announce at A"
    )
    # A does not follow B, yet holds B's measure, fetched from B and attributed to B.
    assert item["ap_id"] == f"{b.url}/measures/{uid}"
    assert item["library"]["domain"] == b.settings.domain
    assert item["library"]["handle"] == "heidbruegge"
    async with a.sessions() as session:
        mirror = await session.scalar(
            select(Library).where(Library.ap_id == b.actor("heidbruegge"))
        )
        assert mirror is not None
        assert mirror.population == 2480


async def test_backfill_of_existing_measures(network: Network) -> None:
    a = await network.start("a")
    b = await network.start("b")
    await add_library(a, "heideloh")
    await add_library(b, "bardenfeld")
    for i in range(50):
        await publish(b, "bardenfeld", f"Maßnahme Nummer {i}")

    await follow(a.fed, "heideloh", b.account("bardenfeld"))

    async def fifty() -> bool:
        async with a.sessions() as session:
            rows = (
                await session.scalars(select(Measure.title).where(Measure.is_local.is_(False)))
            ).all()
            return len(rows) == 50 and set(rows) == {f"Maßnahme Nummer {i}" for i in range(50)}

    await eventually(fifty, what="backfill of 50 measures", seconds=30)


async def _is(value: Any, expected: Any) -> bool:
    return bool(await value == expected)


async def _titled(node: RunningNode, title: str) -> list[dict[str, Any]]:
    return [i for i in await api_measures(node) if i["title"] == title]

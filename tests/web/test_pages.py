"""The UI shell: start page, empty states, languages, health check."""

from __future__ import annotations

from node import keys
from node.app import create_app
from node.db import unit_of_work
from node.libraries import create_library
from node.measures import create_measure
from node.settings import Settings
from tests.typing import ClientFactory


async def test_start_page_shows_empty_states_in_german(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    html = await response.text()
    assert '<html lang="de">' in html
    assert "Auf diesem Knoten ist noch keine Bibliothek eingerichtet" in html
    assert "bibnetz library add" in html


async def test_start_page_lists_libraries_and_measures_in_english(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    app = create_app(settings)
    client = await aiohttp_client(app)
    async with unit_of_work(app[keys.SESSIONMAKER]) as session:
        lib = await create_library(
            session,
            app[keys.VOCAB],
            "heideloh",
            {"name": "Bücherei <Heideloh>", "population": 6000},
        )
        await create_measure(session, app[keys.VOCAB], lib, {"title": "Lesenacht", "kind": "idea"})
    response = await client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"})
    html = await response.text()
    assert '<html lang="en">' in html
    assert "Bücherei &lt;Heideloh&gt;" in html  # escaped
    assert "6,000 inhabitants" in html
    assert "Lesenacht" in html
    assert "Idea" in html
    german = await (await client.get("/?lang=de")).text()
    assert "6.000 Einwohner*innen" in german
    assert "Idee" in german


async def test_healthz(aiohttp_client: ClientFactory, settings: Settings) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_first_start_creates_one_admin(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    app = create_app(settings)
    first = await aiohttp_client(app)
    [login] = app[keys.FIRST_LOGIN]
    assert login.email == "admin@127.0.0.1"
    await first.close()  # a restart: one data directory serves one node at a time
    second = create_app(settings)
    await aiohttp_client(second)
    assert second[keys.FIRST_LOGIN] == []

"""Actor, WebFinger, NodeInfo and measure documents against the rules Mastodon applies."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncSession

from federation.httpsig import load_public_key_pem
from federation.proofs import decode_multikey, verify_proof
from node.libraries import create_library, get_local_library
from node.measures import create_measure
from tests.peers import Network, RunningNode

AS_JSON = "application/activity+json"
MASTODON_ACTOR_TYPES = {"Person", "Service", "Organization", "Group", "Application"}


@pytest.fixture
async def node(network: Network) -> RunningNode:
    node = await network.start("docs")

    async def work(session: AsyncSession) -> None:
        await create_library(
            session, node.vocab, "heideloh",
            {"name": "Bücherei Heideloh", "summary": "Klein, aber **fein**.", "population": 6200,
             "staff_fte": 1.5, "public_area_m2": 240, "federal_state": "DE-NI"},
        )  # fmt: skip
        await create_library(
            session, node.vocab, "verbund", {"name": "Verbund", "kind": "association"}
        )
        library = await get_local_library(session, "heideloh")
        await create_measure(
            session, node.vocab, library,
            {"title": "Lesesommer", "summary": "Sechs Wochen Lesen.",
             "body": "## Umsetzung\nStempel", "fields_of_action": "reading-promotion",
             "tags": "Sommer"},
        )  # fmt: skip

    await node.work(work)
    return node


async def get(url: str, accept: str) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as client, client.get(url, headers={"Accept": accept}) as r:
        body = await r.read()
        ctype = r.headers.get("Content-Type", "")
        if "json" in ctype:
            return r.status, ctype, json.loads(body)
        if ctype.startswith("text/"):
            return r.status, ctype, body.decode()
        return r.status, ctype, body


async def test_actor_document_meets_mastodon_requirements(node: RunningNode) -> None:
    actor_id = node.actor("heideloh")
    status, ctype, doc = await get(actor_id, AS_JSON)
    assert status == 200
    assert ctype.startswith(AS_JSON)
    assert doc["id"] == actor_id
    assert doc["type"] in MASTODON_ACTOR_TYPES
    assert doc["type"] == "Organization"
    for key in ("preferredUsername", "inbox", "outbox", "followers", "following", "url", "name",
                "summary", "icon"):  # fmt: skip
        assert doc.get(key), key
    assert doc["endpoints"]["sharedInbox"] == f"{node.url}/inbox"
    key = doc["publicKey"]
    assert key["owner"] == actor_id
    assert key["id"].startswith(actor_id + "#")
    public = load_public_key_pem(key["publicKeyPem"])
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size == 2048
    assert {"discoverable", "indexable", "manuallyApprovesFollowers"} <= set(doc)
    [multikey] = doc["assertionMethod"]
    assert multikey["controller"] == actor_id
    assert multikey["publicKeyMultibase"].startswith("z6Mk")
    assert doc["library"]["population"] == 6200
    assert doc["library"]["federalState"].endswith("#DE-NI")
    assert "<strong>fein</strong>" in doc["summary"]

    _, _, group = await get(node.actor("verbund"), AS_JSON)
    assert group["type"] == "Group"
    icon_status, icon_type, _ = await get(doc["icon"]["url"], "image/png")
    assert icon_status == 200
    assert icon_type == "image/png"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json", "application/json"),
        (
            'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
            "application/ld+json",
        ),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "text/html"),
        ("", "text/html"),
    ],
)
async def test_content_negotiation(node: RunningNode, accept: str, expected: str) -> None:
    status, ctype, body = await get(node.actor("heideloh"), accept)
    assert status == 200
    assert ctype.startswith(expected)
    if expected == "text/html":
        assert "Bücherei Heideloh" in body
    else:
        assert body["id"] == node.actor("heideloh")


async def test_webfinger(node: RunningNode) -> None:
    resource = f"acct:heideloh@{node.settings.domain}"
    status, ctype, doc = await get(
        f"{node.url}/.well-known/webfinger?resource={resource}", "application/jrd+json"
    )
    assert status == 200
    assert ctype.startswith("application/jrd+json")
    assert doc["subject"] == resource
    [self_link] = [link for link in doc["links"] if link["rel"] == "self"]
    assert self_link["type"] == AS_JSON
    assert self_link["href"] == node.actor("heideloh")
    status, _, _ = await get(
        f"{node.url}/.well-known/webfinger?resource=acct:nobody@{node.settings.domain}", "*/*"
    )
    assert status == 404


async def test_nodeinfo(node: RunningNode) -> None:
    _, _, index = await get(f"{node.url}/.well-known/nodeinfo", "application/json")
    hrefs = {link["rel"].rsplit("/", 1)[-1]: link["href"] for link in index["links"]}
    assert set(hrefs) == {"2.0", "2.1"}
    for version, href in hrefs.items():
        status, _, doc = await get(href, "application/json")
        assert status == 200
        assert doc["version"] == version
        assert doc["software"]["name"] == "bibnetz"
        assert doc["software"]["version"]
        assert doc["protocols"] == ["activitypub"]
        assert doc["openRegistrations"] is False
        assert doc["usage"]["users"]["total"] == 2
        assert doc["usage"]["localPosts"] == 1


async def test_measure_article_with_verifiable_proof(node: RunningNode) -> None:
    _, _, outbox = await get(f"{node.actor('heideloh')}/outbox", AS_JSON)
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 1
    _, _, page = await get(outbox["first"], AS_JSON)
    [create] = page["orderedItems"]
    assert create["type"] == "Create"
    article_id = create["object"]["id"]
    status, ctype, article = await get(article_id, AS_JSON)
    assert status == 200
    assert ctype.startswith(AS_JSON)
    for accept in ("application/ld+json", "application/json"):  # what other servers ask for
        status, ctype, same = await get(article_id, accept)
        assert (status, same) == (200, article)
        assert ctype.split(";")[0] in (AS_JSON, accept)
    assert article["type"] == "Article"
    assert article["name"] == "Lesesommer"
    assert article["summary"] == "Sechs Wochen Lesen."
    assert article["url"] == article_id
    assert article["attributedTo"] == node.actor("heideloh")
    assert "https://www.w3.org/ns/activitystreams#Public" in article["to"]
    assert "<h2>Umsetzung</h2>" in article["content"]
    assert {t["name"] for t in article["tag"]} == {"#Leseförderung", "#Sommer"}
    assert article["fieldsOfAction"] == [
        "https://bibnetz.org/vocab/fields-of-action#reading-promotion"
    ]
    _, _, actor = await get(node.actor("heideloh"), AS_JSON)
    key = decode_multikey(actor["assertionMethod"][0]["publicKeyMultibase"])
    verify_proof(article, key)
    html_status, html_type, html = await get(article_id, "text/html")
    assert html_status == 200
    assert html_type.startswith("text/html")
    assert "Lesesommer" in html

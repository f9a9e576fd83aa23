"""Ids a peer's objects carry must fit the database's indexed id columns: 2,048 bytes of
UTF-8, not characters (PostgreSQL's index refuses longer rows with an error that says
nothing about the peer's object)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from federation.parsing import ObjectError, storable, storable_id
from federation.store import store_article
from node.models import RemoteActor

HOST = "https://peer.example"


def test_storable_counts_bytes_and_refuses_what_is_not_text() -> None:
    assert storable("a" * 2048)
    assert not storable("a" * 2049)
    assert not storable("€" * 683)  # 683 characters, 2,049 bytes
    assert storable("€" * 682)
    assert not storable("\ud800")  # a lone surrogate: valid JSON escape, not text
    assert storable_id({"id": f"{HOST}/m/1"}) == f"{HOST}/m/1"
    assert storable_id({"id": f"{HOST}/m/" + "€" * 700}) is None
    assert storable_id({"type": "Article"}) is None


@pytest.mark.parametrize("suffix", ["€" * 700, "\ud800"])
async def test_an_article_whose_id_cannot_be_stored_is_an_object_error(suffix: str) -> None:
    """Refused before anything is fetched or stored (the federation and session are never
    touched), with a reason the operator can read in `bibnetz inbox`."""
    author = RemoteActor(ap_id=f"{HOST}/users/a", indexable=True)
    doc = {"id": f"{HOST}/m/{suffix}", "type": "Article", "attributedTo": author.ap_id}
    unused = cast(Any, None)
    with pytest.raises(ObjectError, match="at most 2048 bytes"):
        await store_article(unused, unused, author, doc)

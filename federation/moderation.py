"""Operator decisions about peers: approve or reject followers, block or unblock hosts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from federation.outgoing import pair_ref
from federation.parsing import host_of
from federation.runtime import Federation
from node import outbox
from node import remote as remote_store
from node.db import unit_of_work
from node.libraries import get_local_library
from node.models import Follower, Library, PeerHost, RemoteActor
from node.validation import ValidationError


@dataclass(frozen=True)
class FollowerRow:
    """A follower of a local library as the operator sees it."""

    actor: str
    name: str
    state: str


HOST_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?(?::\d{1,5})?$")


def normalise_host(value: str) -> str:
    """``spam.example`` from "Spam.Example", "https://spam.example/…" or "@user@spam.example"."""
    text = value.strip()
    if "://" in text:
        text = host_of(text)
    elif "@" in text:
        text = text.rsplit("@", 1)[1]
    text = text.strip().lower().rstrip("/")
    if not HOST_RE.match(text):
        raise ValidationError.single("host", f"{value!r} is not a host name like spam.example")
    return text


async def list_followers(fed: Federation, handle: str) -> list[FollowerRow]:
    """Followers of a library, pending ones first."""
    async with fed.sessionmaker() as session:
        library = await get_local_library(session, handle)
        rows = await session.execute(
            select(RemoteActor.ap_id, RemoteActor.name, Follower.state)
            .join(Follower, Follower.remote_actor_id == RemoteActor.id)
            .where(Follower.library_id == library.id)
            .order_by(Follower.state.desc(), RemoteActor.ap_id)
        )
        return [FollowerRow(ap_id, name, state) for ap_id, name, state in rows]


async def decide_follower(fed: Federation, handle: str, actor_id: str, *, accept: bool) -> bool:
    """Accept or reject a pending (or existing) follower; whether there was one."""
    async with unit_of_work(fed.sessionmaker) as session:
        library = await get_local_library(session, handle)
        row = await session.execute(
            select(Follower, RemoteActor)
            .join(RemoteActor, RemoteActor.id == Follower.remote_actor_id)
            .where(Follower.library_id == library.id, RemoteActor.ap_id == actor_id)
        )
        found = row.first()
        if found is None:
            return False
        follower, actor = found
        ref = pair_ref(follower.follow_ap_id, actor.ap_id)
        if accept:
            follower.state = "accepted"
            await outbox.record(session, library.id, "Accept", "Follow", ref)
        else:
            await outbox.record(session, library.id, "Reject", "Follow", ref)
            await session.delete(follower)
    fed.wake_delivery.set()
    return True


async def block_host(fed: Federation, host: str, *, drop: bool) -> int:
    """Never contact ``host`` again and refuse its activities; ``drop`` forgets its data.

    Returns how many remote libraries were dropped.
    """
    host = normalise_host(host)
    dropped = 0
    async with unit_of_work(fed.sessionmaker) as session:
        peer = await session.get(PeerHost, host)
        if peer is None:
            session.add(PeerHost(host=host, state="blocked"))
        else:
            peer.state = "blocked"
        if drop:
            libraries = await session.scalars(
                select(Library).where(Library.domain == host, Library.is_local.is_(False))
            )
            for library in libraries.all():
                await remote_store.drop_library(session, library)
                dropped += 1
            actors = await session.scalars(select(RemoteActor).where(RemoteActor.domain == host))
            for actor in actors.all():
                await session.delete(actor)
    return dropped


async def unblock_host(fed: Federation, host: str) -> bool:
    """Allow a blocked host again; whether it was blocked."""
    async with unit_of_work(fed.sessionmaker) as session:
        peer = await session.get(PeerHost, normalise_host(host))
        if peer is None or peer.state != "blocked":
            return False
        peer.state = "ok"
        peer.consecutive_failures = 0
        peer.first_failure_at = None
    return True

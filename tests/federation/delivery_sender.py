"""A delivery sender in a process of its own, for the crash test; also the sender side of tests.

Run: ``python -m tests.federation.delivery_sender DATABASE_URL INBOX_URL [--lease-seconds S]
[--workers N]``. The database must be migrated and hold the library and outbox rows; every
activity goes to INBOX_URL. SIGTERM stops it gracefully; SIGKILL is what the test is about.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.delivery import DeliveryQueue, Render, Rendered
from federation.httpsig import PublicKey, load_public_key_pem
from federation.urls import AS_CONTEXT, activity_id, actor_id, key_id
from node.db import create_engine, create_sessionmaker, create_thread_engine, unit_of_work
from node.keypairs import generate_ed25519, generate_rsa
from node.models import Library, LibraryKeys, OutboxActivity
from node.settings import Settings

PUBLIC_URL = "http://127.0.0.1:8080"
HANDLE = "heideloh"


@dataclass(frozen=True)
class SenderLibrary:
    """The local library whose activities the tests deliver, and its public key."""

    id: int
    key_id: str
    public_key: PublicKey


async def create_library(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> SenderLibrary:
    """A local library row with fresh RSA and Ed25519 keys."""
    rsa_pair, ed_pair = generate_rsa(), generate_ed25519()
    async with unit_of_work(sessions) as session:
        library = Library(handle=HANDLE, name="Bücherei Heideloh", is_local=True)
        session.add(library)
        await session.flush()
        session.add(
            LibraryKeys(
                library_id=library.id,
                rsa_private_pem=rsa_pair.private_pem,
                rsa_public_pem=rsa_pair.public_pem,
                ed25519_private_pem=ed_pair.private_pem,
                ed25519_public_pem=ed_pair.public_pem,
            )
        )
    return SenderLibrary(
        library.id, key_id(settings, HANDLE), load_public_key_pem(rsa_pair.public_pem)
    )


async def add_activities(
    sessions: async_sessionmaker[AsyncSession], library_id: int, count: int
) -> list[str]:
    """Record ``count`` Create activities; returns their uids, oldest first."""
    uids = [str(uuid.uuid4()) for _ in range(count)]
    async with unit_of_work(sessions) as session:
        session.add_all(
            OutboxActivity(
                uid=uid,
                library_id=library_id,
                activity_type="Create",
                object_type="Measure",
                object_ref=f"measure-{n}",
            )
            for n, uid in enumerate(uids)
        )
    return uids


def document(settings: Settings, activity: OutboxActivity) -> dict[str, object]:
    """A small but real activity document; receivers deduplicate by its id."""
    return {
        "@context": AS_CONTEXT,
        "id": activity_id(settings, activity.uid),
        "type": activity.activity_type,
        "actor": actor_id(settings, HANDLE),
        "object": activity.object_ref,
    }


def render_to(settings: Settings, inboxes: Sequence[str]) -> Render:
    """A render function that sends every activity to the same inboxes."""

    async def render(session: AsyncSession, activity: OutboxActivity) -> Rendered:
        return Rendered(document(settings, activity), list(inboxes))

    return render


async def main(argv: Sequence[str]) -> None:
    """Deliver everything in the database to one inbox until SIGTERM."""
    parser = argparse.ArgumentParser(prog="delivery_sender")
    parser.add_argument("database_url")
    parser.add_argument("inbox_url")
    parser.add_argument("--lease-seconds", type=float, default=300.0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    settings = Settings(
        database_url=args.database_url,
        public_url=PUBLIC_URL,
        allow_private_peers=True,
        delivery_workers=args.workers,
        delivery_poll_seconds=0.05,
        delivery_retry_base_seconds=0.05,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    engine = create_engine(settings.database_url)
    thread_engine = create_thread_engine(settings.database_url)  # as the node runs it
    try:
        async with (
            aiohttp.ClientSession() as client,
            DeliveryQueue(
                create_sessionmaker(engine),
                client,
                settings,
                render_to(settings, [args.inbox_url]),
                lease_seconds=args.lease_seconds,
                thread_engine=thread_engine,
            ),
        ):
            await stop.wait()
    finally:
        if thread_engine is not None:
            thread_engine.dispose()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

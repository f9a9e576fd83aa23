"""Benchmark: outbound signed delivery rate of the durable queue beside the raw ceiling.

A receiver process on 127.0.0.1 answers 202 (``--verify``: after checking each signature).
(a) raw ceiling: sign and POST N activities, ``delivery_workers`` at a time, nothing stored;
(b) the durable queue delivering N queued outbox activities from SQLite, dispatch included;
(c) the same with the delivery rows already dispatched (sending and recording only).

Usage: python -m bench.delivery [--n N] [--workers W] [--verify] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import free_port
from federation.delivery import DeliveryQueue, Rendered, dispatch_pending
from federation.hosts import post_signed
from federation.httpsig import load_public_key_pem, parse_signature, verify_signature
from federation.urls import AS_CONTEXT, activity_id, actor_id, key_id
from node import migrate, outbox
from node.db import create_engine, create_sessionmaker, unit_of_work
from node.keypairs import load_rsa_private
from node.libraries import create_library, get_keys
from node.models import Delivery, OutboxActivity
from node.settings import Settings
from node.vocab import load_vocabularies

Sessions = async_sessionmaker[AsyncSession]


# --- the receiver, in its own process so it does not share the sender's core -------------


def receiver_app(public_pem: str | None) -> web.Application:
    """An inbox that counts POSTs and answers 202, optionally verifying each signature."""
    public_key = load_public_key_pem(public_pem) if public_pem else None
    count = 0

    async def inbox(request: web.Request) -> web.Response:
        nonlocal count
        body = await request.read()
        if public_key is not None:
            parsed = parse_signature("POST", str(request.url), request.headers, body)
            verify_signature(parsed, public_key, datetime.now(UTC))
        count += 1
        return web.Response(status=202)

    async def counter(_: web.Request) -> web.Response:
        return web.Response(text=str(count))

    app = web.Application()
    app.router.add_post("/inbox", inbox)
    app.router.add_get("/count", counter)
    return app


async def start_receiver(port: int, public_pem: str | None) -> asyncio.subprocess.Process:
    """Run the receiver process and wait until it answers."""
    args = ["--receive", str(port)] + (["--verify-pem", public_pem] if public_pem else [])
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.delivery", *args)
    async with aiohttp.ClientSession() as client:
        for _ in range(500):
            try:
                async with client.get(f"http://127.0.0.1:{port}/count") as resp:
                    if resp.status == 200:
                        return proc
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.02)
    raise RuntimeError("receiver did not start")


# --- the sender ----------------------------------------------------------------------------


def document(settings: Settings, handle: str, uid: str, ref: str) -> dict[str, Any]:
    """A Create activity about the size of a real one (~1 KB)."""
    return {
        "@context": AS_CONTEXT,
        "id": activity_id(settings, uid),
        "type": "Create",
        "actor": actor_id(settings, handle),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"type": "Article", "id": ref, "name": "Lesenacht", "content": "x" * 800},
    }


async def raw_ceiling(
    settings: Settings, url: str, signer: tuple[str, Any], bodies: list[bytes]
) -> float:
    """Sign and POST every body, ``delivery_workers`` at a time; activities per second."""
    pending = iter(bodies)

    async def worker(client: aiohttp.ClientSession) -> None:
        for body in pending:
            attempt = await post_signed(client, url, body, signer, True)
            assert attempt.status == 202, attempt

    async with aiohttp.ClientSession() as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(settings.delivery_workers)))
        return len(bodies) / (time.perf_counter() - started)


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll cheaply until ``check`` holds."""
    while not await check():  # noqa: ASYNC110 - the database has no event to wait on
        await asyncio.sleep(0.02)


async def durable_queue(
    settings: Settings,
    sessions: Sessions,
    library_id: int,
    url: str,
    n: int,
    *,
    predispatch: bool,
) -> float:
    """Queue ``n`` outbox activities and deliver them through DeliveryQueue; activities/s."""
    async with unit_of_work(sessions) as session:
        await session.execute(delete(OutboxActivity))  # the previous run's, with its rows
        refs = [f"m-{i}" for i in range(n)]
        await outbox.record_many(session, library_id, "Create", "Measure", refs)

    async def render(session: AsyncSession, activity: OutboxActivity) -> Rendered:
        doc = document(settings, "bench", activity.uid, activity.object_ref)
        return Rendered(doc, [url])

    async def done() -> bool:
        async with sessions() as session:
            query = select(func.count()).select_from(Delivery).where(Delivery.state == "done")
            return await session.scalar(query) == n

    if predispatch:
        while await dispatch_pending(sessions, render, limit=1000):
            pass
    async with aiohttp.ClientSession() as client:
        started = time.perf_counter()
        async with DeliveryQueue(sessions, client, settings, render):
            await until(done)
        return n / (time.perf_counter() - started)


async def bench(n: int, workers: int, verify: bool) -> None:
    """Run (a), (b) and (c) against one receiver and print the rates."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), allow_private_peers=True, delivery_workers=workers)
        engine = create_engine(settings.database_url)
        await migrate.upgrade(engine)
        sessions = create_sessionmaker(engine)
        async with unit_of_work(sessions) as session:
            library = await create_library(session, load_vocabularies(), "bench", {"name": "B"})
            keys = await get_keys(session, library)
        signer = (key_id(settings, "bench"), load_rsa_private(keys.rsa_private_pem))
        port = free_port()
        receiver = await start_receiver(port, keys.rsa_public_pem if verify else None)
        url = f"http://127.0.0.1:{port}/inbox"
        try:
            docs = [document(settings, "bench", str(i), f"m-{i}") for i in range(n)]
            raw_bodies = [json.dumps(doc, separators=(",", ":")).encode() for doc in docs]
            await raw_ceiling(settings, url, signer, raw_bodies[: max(20, n // 10)])  # warm up
            raw = await raw_ceiling(settings, url, signer, raw_bodies)
            full = await durable_queue(settings, sessions, library.id, url, n, predispatch=False)
            sending = await durable_queue(settings, sessions, library.id, url, n, predispatch=True)
        finally:
            receiver.terminate()
            await receiver.wait()
            await engine.dispose()
    mode = "verifies signatures" if verify else "accepts unread"
    print(f"outbound delivery of {n} activities, {workers} in flight, receiver {mode}:")
    print(f"  (a) raw ceiling, sign + POST only:        {raw:8,.0f} activities/s")
    print(f"  (b) durable queue from outbox (SQLite):   {full:8,.0f} activities/s"
          f"  = {full / raw:4.0%} of raw")  # fmt: skip
    print(f"  (c) durable queue, rows already fanned out: {sending:6,.0f} activities/s"
          f"  = {sending / raw:4.0%} of raw")  # fmt: skip


def main() -> None:
    """Parse arguments; run the receiver or the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=Settings().delivery_workers)
    parser.add_argument("--verify", action="store_true", help="receiver checks signatures")
    parser.add_argument("--smoke", action="store_true", help="n=50, for CI")
    parser.add_argument("--receive", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--verify-pem", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receive:
        web.run_app(receiver_app(args.verify_pem), host="127.0.0.1", port=args.receive, print=None)
        return
    cores = len(os.sched_getaffinity(0))
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {cores} cores")
    asyncio.run(bench(50 if args.smoke else args.n, args.workers, args.verify))


if __name__ == "__main__":
    main()

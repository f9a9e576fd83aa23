"""Benchmark: outbound signed delivery rate of the durable queue beside the raw ceiling.

A receiver process on 127.0.0.1 answers 202 (``--verify``: after checking each signature).
(a) raw ceiling: sign and POST N activities, ``delivery_workers`` at a time, nothing stored;
(b) the durable queue delivering N queued outbox activities from SQLite, dispatch included;
(c) the same with the delivery rows already dispatched (sending and recording only).
(b) and (c) run with ``max_unrecorded`` = delivery_workers (a crash re-sends at most that
many POSTs, outcomes committed nearly one by one) and with the node's default
``delivery_max_unrecorded`` (outcomes committed in bigger batches). Rounds alternate all
variants, so load from other processes hits them alike.

Usage: python -m bench.delivery [--n N] [--rounds R] [--workers W] [--verify] [--smoke]
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import bracketed_ratios, free_port, median, ratio_summary
from federation.delivery import DeliveryQueue, Rendered, dispatch_pending
from federation.hosts import post_signed
from federation.httpsig import load_public_key_pem, parse_signature, verify_signature
from federation.urls import AS_CONTEXT, activity_id, actor_id, key_id
from node import migrate, outbox
from node.db import create_engine, create_sessionmaker, create_thread_engine, unit_of_work
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
    count, wanted = 0, 0
    arrived = asyncio.Event()

    async def inbox(request: web.Request) -> web.Response:
        nonlocal count
        body = await request.read()
        if public_key is not None:
            parsed = parse_signature("POST", str(request.url), request.headers, body)
            verify_signature(parsed, public_key, datetime.now(UTC))
        count += 1
        # Wake a waiting /count only when its number is reached: a wake-up per POST would
        # cost the receiver CPU in the queue runs (which wait so) but not in the raw one.
        if count >= wanted:
            arrived.set()
        return web.Response(status=202)

    async def counter(request: web.Request) -> web.Response:
        # ?atleast=N waits until N POSTs arrived: the sender learns it with one request.
        nonlocal wanted
        wanted = int(request.query.get("atleast", 0))
        while count < wanted:
            arrived.clear()
            await arrived.wait()
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


Measurement = tuple[float, float]  # activities per second, milliseconds of CPU each


async def raw_ceiling(
    settings: Settings, url: str, signer: tuple[str, Any], bodies: list[bytes]
) -> Measurement:
    """Sign and POST every body, ``delivery_workers`` at a time."""
    pending = iter(bodies)

    async def worker(client: aiohttp.ClientSession) -> None:
        for body in pending:
            attempt = await post_signed(client, url, body, signer, True)
            assert attempt.status == 202, attempt

    async with aiohttp.ClientSession() as client:
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(client) for _ in range(settings.delivery_workers)))
        return _measured(len(bodies), started, cpu)


def _measured(n: int, started: float, cpu: float) -> Measurement:
    return n / (time.perf_counter() - started), 1000 * (time.process_time() - cpu) / n


async def durable_queue(
    settings: Settings,
    sessions: Sessions,
    library_id: int,
    base: str,
    n: int,
    *,
    predispatch: bool,
    max_unrecorded: int | None,
    thread_engine: Engine | None,
) -> Measurement:
    """Queue ``n`` outbox activities and deliver them all through DeliveryQueue."""
    async with unit_of_work(sessions) as session:
        await session.execute(delete(OutboxActivity))  # the previous run's, with its rows
        refs = [f"m-{i}" for i in range(n)]
        await outbox.record_many(session, library_id, "Create", "Measure", refs)

    async def render(session: AsyncSession, activity: OutboxActivity) -> Rendered:
        doc = document(settings, "bench", activity.uid, activity.object_ref)
        return Rendered(doc, [f"{base}/inbox"])

    async def done() -> bool:
        async with sessions() as session:
            query = select(func.count()).select_from(Delivery).where(Delivery.state == "done")
            return await session.scalar(query) == n

    if predispatch:
        while await dispatch_pending(sessions, render, limit=1000):
            pass
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/count") as resp:
            before = int(await resp.text())
        started, cpu = time.perf_counter(), time.process_time()
        async with DeliveryQueue(
            sessions,
            client,
            settings,
            render,
            max_unrecorded=max_unrecorded,
            thread_engine=thread_engine,  # as the node runs it on SQLite
        ):
            # Ask the receiver once instead of polling the database all along, which
            # would add its own load to what is measured.
            async with client.get(f"{base}/count", params={"atleast": before + n}) as resp:
                await resp.read()
            # The last outcomes are committed moments later; the database has no event.
            while not await done():  # noqa: ASYNC110
                await asyncio.sleep(0.002)
            return _measured(n, started, cpu)


async def bench(n: int, workers: int, verify: bool, rounds: int) -> None:
    """Measure (a), (b) and (c) in alternating rounds against one receiver; print medians."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), allow_private_peers=True, delivery_workers=workers)
        engine = create_engine(settings.database_url)
        thread_engine = create_thread_engine(settings.database_url)
        await migrate.upgrade(engine)
        sessions = create_sessionmaker(engine)
        async with unit_of_work(sessions) as session:
            library = await create_library(session, load_vocabularies(), "bench", {"name": "B"})
            keys = await get_keys(session, library)
        signer = (key_id(settings, "bench"), load_rsa_private(keys.rsa_private_pem))
        port = free_port()
        receiver = await start_receiver(port, keys.rsa_public_pem if verify else None)
        base = f"http://127.0.0.1:{port}"
        docs = [document(settings, "bench", str(i), f"m-{i}") for i in range(n)]
        bodies = [json.dumps(doc, separators=(",", ":")).encode() for doc in docs]
        # None = the node's default (settings.delivery_max_unrecorded)
        variants = [(False, workers), (True, workers), (False, None), (True, None)]
        runs: dict[object, list[Measurement]] = {}
        try:
            await raw_ceiling(settings, f"{base}/inbox", signer, bodies[: max(20, n // 10)])
            # Rounds alternate the variants, so a neighbour's load hits all of them alike.
            # Each round's variants are compared with the ceilings measured right before
            # and right after the round.
            for _ in range(rounds):
                raw = await raw_ceiling(settings, f"{base}/inbox", signer, bodies)
                runs.setdefault("raw", []).append(raw)
                for predispatch, limit in variants:
                    queued = await durable_queue(
                        settings, sessions, library.id, base, n,
                        predispatch=predispatch, max_unrecorded=limit, thread_engine=thread_engine,
                    )  # fmt: skip
                    runs.setdefault((predispatch, limit), []).append(queued)
            runs["raw"].append(await raw_ceiling(settings, f"{base}/inbox", signer, bodies))
        finally:
            receiver.terminate()
            await receiver.wait()
            if thread_engine is not None:
                thread_engine.dispose()
            await engine.dispose()

    def medians(key: object) -> Measurement:
        return median([r for r, _ in runs[key]]), median([c for _, c in runs[key]])

    mode = "verifies signatures" if verify else "accepts unread"
    print(f"outbound delivery of {n} activities, {workers} in flight, receiver {mode}, "
          f"{rounds} rounds (rates and CPU: medians; share of raw: median and range of each "
          "round against the ceilings around it):")  # fmt: skip
    raw_rate, raw_cpu = medians("raw")
    print(f"  (a) raw ceiling, sign + POST only{raw_rate:28,.0f}/s  {raw_cpu:.2f} ms CPU each")
    raw_rates = [rate for rate, _ in runs["raw"]]
    for predispatch, limit in variants:
        rate, cpu = medians((predispatch, limit))
        label = "(c) queue, rows fanned out" if predispatch else "(b) queue from outbox"
        label += f", max_unrecorded={limit or settings.delivery_max_unrecorded}"
        label += " (default)" if limit is None else ""
        shares = bracketed_ratios(raw_rates, [r for r, _ in runs[(predispatch, limit)]])
        print(f"  {label:<54}{rate:7,.0f}/s  {cpu:.2f} ms CPU each, "
              f"{ratio_summary(shares)} of raw")  # fmt: skip


def main() -> None:
    """Parse arguments; run the receiver or the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=Settings().delivery_workers)
    parser.add_argument("--verify", action="store_true", help="receiver checks signatures")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="n=50, for CI")
    parser.add_argument("--receive", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--verify-pem", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receive:
        web.run_app(receiver_app(args.verify_pem), host="127.0.0.1", port=args.receive, print=None)
        return
    cores = len(os.sched_getaffinity(0))
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {cores} cores")
    n, rounds = (50, 1) if args.smoke else (args.n, args.rounds)
    asyncio.run(bench(n, args.workers, args.verify, rounds))


if __name__ == "__main__":
    main()

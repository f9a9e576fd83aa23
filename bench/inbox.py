"""Benchmark: inbox ingest rate of signed Create activities beside the raw ceiling.

(a) raw ceiling: an aiohttp app whose handler only parses and verifies the signature (key
    preloaded) and answers 202;
(b) a real bibnetz node (`python -m node serve`, SQLite): every request is parsed, checked
    (blocks, origin), verified against the cached key and appended to the inbox spool file
    before 202 (durable like SQLite's WAL with synchronous=NORMAL); the spool moves the
    activities into the table once the burst pauses (deduplicating by id) and the processor
    handles them. The figure after each burst is the time until all of them are processed.
Both servers run in their own process; this process pre-signs N distinct activities (signing
is not part of the figure) and POSTs them with the same concurrency.

Usage: python -m bench.inbox [--n N] [--concurrency C] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.common import bracketed_ratios, free_port, median, ratio_summary, start_node
from federation.httpsig import load_public_key_pem, parse_signature, sign_request, verify_signature

WARM_UP = 20  # activities sent to each server before measuring


def raw_app(public_pem: str) -> web.Application:
    """An inbox that only verifies the signature."""
    key = load_public_key_pem(public_pem)

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        parsed = parse_signature("POST", str(request.url), request.headers, body)
        verify_signature(parsed, key, datetime.now(UTC))
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/inbox", inbox)
    return app


def serve_raw(port: int, pem_file: str) -> None:
    """Entry point of the raw-ceiling server process."""
    web.run_app(raw_app(Path(pem_file).read_text()), host="127.0.0.1", port=port, print=None)


async def start_actor_server(key: rsa.RSAPrivateKey) -> tuple[web.AppRunner, str]:
    """Serve the sending actor's document so the node can fetch its key once."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    actor = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": f"{base}/users/sender",
        "type": "Person",
        "preferredUsername": "sender",
        "inbox": f"{base}/users/sender/inbox",
        "publicKey": {"id": f"{base}/users/sender#main-key", "owner": f"{base}/users/sender",
                      "publicKeyPem": pem},
    }  # fmt: skip

    async def get_actor(_request: web.Request) -> web.Response:
        return web.json_response(actor, content_type="application/activity+json")

    app = web.Application()
    app.router.add_get("/users/sender", get_actor)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, base


def presign(
    url: str, base: str, key: rsa.RSAPrivateKey, n: int, tag: str
) -> list[tuple[bytes, dict[str, str]]]:
    """N distinct signed Create(Note) requests for ``url``."""
    actor = f"{base}/users/sender"
    requests = []
    for i in range(n):
        body = json.dumps({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{base}/activities/{tag}-{i}",
            "type": "Create",
            "actor": actor,
            "object": {"id": f"{base}/notes/{tag}-{i}", "type": "Note", "attributedTo": actor,
                       "content": f"<p>Nachricht {i}: Wie habt ihr das finanziert?</p>",
                       "inReplyTo": f"{base}/notes/unknown"},
        }).encode()  # fmt: skip
        headers = {"Content-Type": "application/activity+json"}
        headers.update(sign_request("POST", url, headers, body, actor + "#main-key", key))
        requests.append((body, headers))
    return requests


async def blast(url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> float:
    """POST all requests with ``concurrency`` in flight; returns requests per second."""
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    statuses: dict[int, int] = {}

    async def worker(client: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body, headers = queue.get_nowait()
            async with client.post(url, data=body, headers=headers) as resp:
                await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1

    async with aiohttp.ClientSession() as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if set(statuses) != {202}:
        raise RuntimeError(f"unexpected answers: {statuses}")
    return len(requests) / elapsed


async def processed_after(database: Path, expected: int) -> float:
    """Seconds until the node has stored and processed ``expected`` activities in all
    (storing in the table and processing trail the 202s)."""
    started = time.perf_counter()
    while True:
        with sqlite3.connect(database) as conn:
            (done,) = conn.execute(
                "SELECT count(*) FROM inbox_activities WHERE processed_at IS NOT NULL"
            ).fetchone()
        if done >= expected:
            return time.perf_counter() - started
        await asyncio.sleep(0.05)


async def wait_for(url: str) -> None:
    """Wait until a server accepts connections."""
    async with aiohttp.ClientSession() as client:
        for _ in range(300):
            try:
                async with client.get(url) as resp:
                    await resp.read()
                    return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not start")


async def run(n: int, concurrency: int, rounds: int) -> None:
    """Measure both servers and print the figures."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    actor_runner, base = await start_actor_server(key)
    with tempfile.TemporaryDirectory() as tmp:
        pem_file = Path(tmp) / "sender.pem"
        pem_file.write_text(
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        raw_port = free_port()
        raw = await asyncio.create_subprocess_exec(
            sys.executable, "-c",
            f"from bench.inbox import serve_raw; serve_raw({raw_port}, {str(pem_file)!r})",
        )  # fmt: skip
        node_port = free_port()
        node, _ = await start_node(
            Path(tmp) / "node", node_port, {"BIBNETZ_ALLOW_PRIVATE_PEERS": "1"}
        )
        try:
            raw_url = f"http://127.0.0.1:{raw_port}/inbox"
            node_url = f"http://127.0.0.1:{node_port}/inbox"
            await wait_for(f"http://127.0.0.1:{raw_port}/")
            # warm-up: the node fetches and caches the sender's key
            await blast(node_url, presign(node_url, base, key, WARM_UP, "warm"), 4)
            await blast(raw_url, presign(raw_url, base, key, WARM_UP, "warm"), 4)
            # Alternate the two: on a shared 2-core VM single runs are noisy. Each node
            # round is compared with the ceiling measured right before and right after it.
            raw_rates, node_rates, catch_up = [], [], []
            database = Path(tmp) / "node" / "bibnetz.sqlite3"

            async def raw_round(tag: str) -> None:
                requests = presign(raw_url, base, key, n, tag)
                raw_rates.append(await blast(raw_url, requests, concurrency))

            for r in range(rounds):
                await raw_round(f"raw{r}")
                node_rates.append(
                    await blast(node_url, presign(node_url, base, key, n, f"node{r}"), concurrency)
                )
                catch_up.append(await processed_after(database, WARM_UP + (r + 1) * n))
            await raw_round("raw-last")
            raw_rate, node_rate = median(raw_rates), median(node_rates)
            ratios = bracketed_ratios(raw_rates, node_rates)
        finally:
            for proc in (raw, node):
                proc.terminate()
                await proc.wait()
            await actor_runner.cleanup()
    print(f"inbox ingest, {n} signed Create activities per round, {concurrency} concurrent, "
          f"{rounds} alternating rounds (rates: medians):")  # fmt: skip
    print(f"  raw ceiling (parse + verify only): {raw_rate:8.0f} activities/s")
    print(f"  bibnetz node (verify + checks + durable spool append, SQLite): {node_rate:8.0f} "
          "activities/s")  # fmt: skip
    print(f"  node / ceiling, each round against the ceilings around it: "
          f"{ratio_summary(ratios)}")  # fmt: skip
    end_to_end = n / (n / node_rate + median(catch_up))
    print(f"  stored in the table and processed {median(catch_up):.2f} s after each burst "
          f"(median); end to end {end_to_end:.0f} activities/s")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Parse options and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny size, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.n, args.rounds = 50, 1
    cores = len(os.sched_getaffinity(0))
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {cores} cores")
    asyncio.run(run(args.n, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()

"""`bibnetz serve` as a real process: answers within 3 s of start, stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp

from node.settings import ENV_PREFIX
from tests.peers import eventually


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def node_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a `bibnetz serve` process: none of the developer's BIBNETZ_*
    variables, the test's database and ``settings`` (by name: allow_private_peers="1")."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env["BIBNETZ_DATABASE_URL"] = database_url
    env |= {f"{ENV_PREFIX}{name.upper()}": value for name, value in settings.items()}
    return env


def serve_args(data: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "node", "serve", "--data", str(data), "--port", str(port)]


async def serve_node(
    data: Path, port: int, database_url: str, **settings: str
) -> asyncio.subprocess.Process:
    """`bibnetz serve` as its own process, once it answers /healthz (killed if it does not
    within 30 s, so it never keeps the port and the data directory)."""
    proc = await asyncio.create_subprocess_exec(
        *serve_args(data, port), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, env=node_env(database_url, **settings),
    )  # fmt: skip

    async def healthy() -> bool:
        try:
            async with (
                aiohttp.ClientSession() as client,
                client.get(f"http://127.0.0.1:{port}/healthz") as resp,
            ):
                return resp.status == 200
        except aiohttp.ClientConnectionError:
            return False

    try:
        await eventually(healthy, seconds=30, what="the node to answer")
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    return proc


async def test_serve_on_empty_data_dir(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    env = node_env(database_url)
    data = tmp_path / "fresh"
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", "serve", "--data", str(data), "--port", str(port),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as client:
            health = index = None
            while time.monotonic() - started < 3.0 and health is None:
                try:
                    async with client.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        health = resp.status
                    async with client.get(f"http://127.0.0.1:{port}/") as resp:
                        index = resp.status
                        assert "text/html" in resp.headers["Content-Type"]
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            elapsed = time.monotonic() - started
            assert health == 200, f"no answer within 3 s (waited {elapsed:.2f} s)"
            assert index == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), 10)
    text = output.decode()
    assert proc.returncode == 0, text
    assert "password:" in text
    assert "First start" in text
    assert "Traceback" not in text


async def test_a_second_node_on_the_same_data_dir_is_refused(
    tmp_path: Path, database_url: str
) -> None:
    """Two nodes on one data directory would share the inbox spool (and the keys): the
    second one stops with a readable message and exit code 1, the first serves on."""
    data = tmp_path / "shared"
    first_port = free_port()
    first = await serve_node(data, first_port, database_url)
    second: asyncio.subprocess.Process | None = None
    try:
        second = await asyncio.create_subprocess_exec(
            *serve_args(data, free_port()), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env=node_env(database_url),
        )  # fmt: skip
        output, _ = await asyncio.wait_for(second.communicate(), 30)
        text = output.decode()
        assert second.returncode == 1, text
        assert f"another bibnetz node is serving from {data}" in text
        assert "Traceback" not in text
        async with (
            aiohttp.ClientSession() as client,
            client.get(f"http://127.0.0.1:{first_port}/healthz") as resp,
        ):
            assert resp.status == 200  # the first serves on
    finally:
        if second is not None and second.returncode is None:
            second.kill()  # the lock failed to keep it off: do not leave it running
            await second.wait()
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.wait(), 30)
    assert first.returncode == 0

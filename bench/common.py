"""Helpers shared by the benchmarks: free ports, resident memory, a node process."""

from __future__ import annotations

import asyncio
import math
import os
import socket
import statistics
import sys
import time
from pathlib import Path

import aiohttp


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    """Resident set size of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found")


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def bracketed_ratios(ceilings: list[float], rates: list[float]) -> list[float]:
    """Each round's rate over the ceiling measured just before and just after it.

    ``ceilings`` has one more entry than ``rates``: round i ran between ceilings i and i+1,
    and is compared with their geometric mean. On a shared VM whose speed drifts by tens
    of percent within a minute, a ratio taken within seconds is far steadier than a ratio
    of medians taken over the whole run.
    """
    if len(ceilings) != len(rates) + 1:
        raise ValueError("need one ceiling before each round and one after the last")
    return [
        rate / math.sqrt(before * after)
        for rate, before, after in zip(rates, ceilings, ceilings[1:], strict=False)
    ]


def ratio_summary(ratios: list[float]) -> str:
    """ "52 % (47–58 % over 7 rounds)": the median ratio and its range."""
    return f"{median(ratios):.0%} ({min(ratios):.0%}–{max(ratios):.0%} over {len(ratios)} rounds)"


async def start_node(
    data_dir: Path, port: int, extra_env: dict[str, str] | None = None
) -> tuple[asyncio.subprocess.Process, float]:
    """Start `bibnetz serve`; return the process and seconds until /healthz answered 200."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIBNETZ_")}
    env.update(extra_env or {})
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", "serve", "--data", str(data_dir), "--port", str(port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=env,
    )  # fmt: skip
    async with aiohttp.ClientSession() as client:
        while True:
            try:
                async with client.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return proc, time.perf_counter() - started
            except aiohttp.ClientConnectionError:
                pass
            if proc.returncode is not None or time.perf_counter() - started > 30:
                raise RuntimeError("node did not start")
            await asyncio.sleep(0.01)

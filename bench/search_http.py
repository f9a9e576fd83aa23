"""The HTTP half of the search benchmark: the same queries through a serving node's API,
each followed by its statements as raw SQL (``bench.search_sql``)."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp

from bench.common import free_port, median, percentile, rss_mib, start_node
from bench.search_sql import Replayer, Statement, report
from node.search import SearchQuery


def as_params(query: SearchQuery) -> list[tuple[str, str]]:
    """The API parameters of a benchmark query (text, two facets, population range)."""
    params = [("q", query.text)] if query.text else []
    params += [("field", f) for f in query.fields_of_action]
    params += [("target_group", g) for g in query.target_groups]
    if query.population is not None:
        if query.population.min is not None:
            params.append(("population_min", f"{query.population.min:.0f}"))
        if query.population.max is not None:
            params.append(("population_max", f"{query.population.max:.0f}"))
    if query.my_library is not None:
        params.append(("me", str(query.my_library)))
    return params


async def http_load(
    database: Path,
    queries: list[SearchQuery],
    captured: list[list[Statement]],
    direct: list[float],
    name: str,
) -> None:
    """Serve the database with `bibnetz serve`; time each query over HTTP and, right after,
    its captured statements as raw SQL; print both figures."""
    port = free_port()
    env = {
        "BIBNETZ_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "BIBNETZ_LOG_LEVEL": "WARNING",
    }
    proc, _ = await start_node(database.parent / "http-node", port, env)
    replayer = Replayer(database)
    timings: list[float] = []
    raw_sql: list[float] = []
    try:
        async with aiohttp.ClientSession() as client:
            url = f"http://127.0.0.1:{port}/api/v1/measures"

            async def timed(query: SearchQuery) -> float:
                started = time.perf_counter()
                async with client.get(url, params=as_params(query)) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"{resp.status}: {await resp.text()}")
                return (time.perf_counter() - started) * 1000

            for query, statements in zip(queries[:5], captured, strict=False):  # warm-up
                await timed(query)
                replayer.run(statements)
            for query, statements in zip(queries, captured, strict=True):
                timings.append(await timed(query))
                raw_sql.append(replayer.run(statements))
        rss = rss_mib(proc.pid)
    finally:
        replayer.close()
        proc.terminate()
        await proc.wait()
    report(name, raw_sql)
    p95, direct_p95, sql_p95 = (percentile(t, 95) for t in (timings, direct, raw_sql))
    print(f"{name} over HTTP: p50 {median(timings):.1f} ms, p95 {p95:.1f} ms "
          f"= {p95 / sql_p95:.2f}× the raw-SQL p95 ({sql_p95:.1f} ms), "
          f"{p95 / direct_p95:.2f}× the in-process service p95 ({direct_p95:.1f} ms); "
          f"serving node resident memory {rss:.0f} MiB")  # fmt: skip

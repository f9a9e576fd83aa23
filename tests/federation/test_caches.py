"""The inbox's in-memory caches: values reloaded at most every few seconds, and loaded
once for a burst of callers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from federation.caches import TTLCache


class _CountedLoad:
    """A cache loader that counts its calls, takes a moment, and returns ``make(calls)``
    (or fails on the calls listed in ``failing``)."""

    def __init__(self, make: Callable[[int], Any], failing: frozenset[int] = frozenset()) -> None:
        self.make, self.failing, self.calls = make, failing, 0

    async def __call__(self) -> Any:
        self.calls += 1
        calls = self.calls
        await asyncio.sleep(0.01)
        if calls in self.failing:
            raise RuntimeError("database away")
        return self.make(calls)


async def test_stale_cache_is_loaded_once_for_a_burst_of_callers() -> None:
    """Requests that find the cache stale while it loads share that load (one query)."""
    cache = TTLCache(5.0)
    load = _CountedLoad(lambda n: {f"load-{n}"})

    results = await asyncio.gather(*(cache.get(load) for _ in range(20)))
    assert load.calls == 1
    assert all(result == {"load-1"} for result in results)
    assert await cache.get(load) == {"load-1"}  # fresh: no load
    assert load.calls == 1


async def test_forced_load_waits_for_the_running_one_then_loads_anew() -> None:
    """A forced reload (a library unknown so far) sees what changed after a load that
    was already running began."""
    cache = TTLCache(5.0)
    load = _CountedLoad(lambda n: n)

    first = asyncio.create_task(cache.get(load))
    await asyncio.sleep(0)  # the first load is running
    assert await cache.get(load, force=True) == 2
    assert await first == 1
    assert load.calls == 2
    assert await cache.get(load) == 2  # and the newer value stays


async def test_a_failed_load_reaches_its_waiters_and_the_next_call_loads_again() -> None:
    """A load that fails raises in every waiter (none sees a stale value as fresh), and a
    forced reload that waited on it loads anew instead of inheriting the failure."""
    cache = TTLCache(5.0)
    load = _CountedLoad(lambda n: f"value-{n}", failing=frozenset({1}))

    first = asyncio.create_task(cache.get(load))
    await asyncio.sleep(0)
    assert await cache.get(load, force=True) == "value-2"
    with pytest.raises(RuntimeError, match="database away"):
        await first
    assert await cache.get(load) == "value-2"
    assert load.calls == 2


async def test_a_failed_reload_keeps_the_last_value_for_a_while(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The database is away when the value is due again: the last value is used (with a
    warning) and the next attempt waits another ``seconds``, not one per request."""
    cache = TTLCache(0.05, "list of blocked hosts")
    load = _CountedLoad(lambda n: {f"host-{n}"}, failing=frozenset({2}))
    assert await cache.get(load) == {"host-1"}
    await asyncio.sleep(0.06)
    with caplog.at_level(logging.WARNING, logger="federation.caches"):
        assert await cache.get(load) == {"host-1"}
    assert "cannot reload the list of blocked hosts (database away)" in caplog.text
    assert await cache.get(load) == {"host-1"}  # no new attempt yet
    assert load.calls == 2
    await asyncio.sleep(0.06)
    assert await cache.get(load) == {"host-3"}

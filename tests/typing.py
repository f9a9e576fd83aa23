"""Type aliases for pytest-aiohttp fixtures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from aiohttp.web import Application

ClientFactory = Callable[..., Awaitable[TestClient[Any, Application]]]

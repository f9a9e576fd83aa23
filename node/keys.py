"""Every typed application key, in one place."""

from __future__ import annotations

from aiohttp import ClientSession, web
from jinja2 import Environment
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from node.instance import FirstLogin
from node.search import Searcher
from node.settings import Settings
from node.vocab import Vocabularies

SETTINGS = web.AppKey("settings", Settings)
VOCAB = web.AppKey("vocab", Vocabularies)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])
# SQLite only: the engine for units of work run whole in a worker thread (node.db).
THREAD_ENGINE = web.AppKey("thread_engine", Engine)
SEARCHER = web.AppKey("searcher", Searcher)
HTTP_CLIENT = web.AppKey("http_client", ClientSession)
FIRST_LOGIN = web.AppKey("first_login", list[FirstLogin])
TEMPLATES = web.AppKey("templates", Environment)

"""A node killed (SIGKILL) right after acknowledging activities with 202 loses none of them:
what was still in its inbox spool is stored and processed when it starts again."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from federation.spool import read_records
from node.db import create_engine, create_sessionmaker
from node.models import InboxActivity
from node.settings import ENV_PREFIX
from tests.federation.fake_peer import ServerFactory, start_fake_peer
from tests.node.test_serve import free_port
from tests.peers import eventually

SENT = 60


async def serve(
    data: Path, port: int, database_url: str, **settings: str
) -> asyncio.subprocess.Process:
    """`bibnetz serve` as its own process, answering /healthz."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env |= {"BIBNETZ_DATABASE_URL": database_url, "BIBNETZ_ALLOW_PRIVATE_PEERS": "1"}
    env |= {f"{ENV_PREFIX}{name.upper()}": value for name, value in settings.items()}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "node", "serve", "--data", str(data), "--port", str(port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=env,
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
        proc.kill()  # never leave it holding the port and the data directory
        await proc.wait()
        raise
    return proc


def spooled(directory: Path) -> int:
    """Records waiting in the spool's files."""
    count = 0
    for path in directory.glob("*.spool"):
        with path.open("rb") as stream:
            count += sum(1 for _ in read_records(stream))
    return count


async def test_acknowledged_activities_survive_a_sigkill(
    tmp_path: Path, database_url: str, aiohttp_server: ServerFactory
) -> None:
    peer = await start_fake_peer(aiohttp_server)
    peer.add_actor("alice")
    data, port = tmp_path / "node", free_port()
    # The spool would store a pause's worth in the table: here it keeps everything.
    node = await serve(
        data, port, database_url, inbox_settle_seconds="600", inbox_max_delay_seconds="600"
    )
    try:
        for n in range(SENT):
            status, text = await peer.post(
                f"http://127.0.0.1:{port}/inbox",
                peer.reply(n, f"{peer.base}/notes/unknown"),
                signer=peer.actors["alice"],
            )
            assert status == 202, text
    finally:
        node.send_signal(signal.SIGKILL)
        await node.wait()
    assert spooled(data / "inbox-spool") == SENT  # all acknowledged, none in the table yet

    node = await serve(data, port, database_url)
    engine = create_engine(database_url)
    try:
        sessions = create_sessionmaker(engine)

        async def all_processed() -> bool:
            async with sessions() as session:
                done = await session.scalar(
                    select(func.count())
                    .select_from(InboxActivity)
                    .where(InboxActivity.processed_at.is_not(None))
                )
                total = await session.scalar(select(func.count()).select_from(InboxActivity))
            assert total is not None
            assert total <= SENT
            return done == SENT

        await eventually(all_processed, what=f"{SENT} activities stored and processed")
        assert spooled(data / "inbox-spool") == 0
    finally:
        node.send_signal(signal.SIGTERM)
        await node.wait()
        await engine.dispose()

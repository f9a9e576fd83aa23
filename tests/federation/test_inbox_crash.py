"""A node killed (SIGKILL) right after acknowledging activities with 202 loses none of them:
what was still in its inbox spool is stored and processed when it starts again."""

from __future__ import annotations

import signal
from pathlib import Path

from sqlalchemy import func, select

from federation.spool import read_records
from node.db import create_engine, create_sessionmaker
from node.models import InboxActivity
from tests.federation.fake_peer import ServerFactory, start_fake_peer
from tests.node.test_serve import free_port, serve_node
from tests.peers import eventually

SENT = 60


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
    node = await serve_node(
        data,
        port,
        database_url,
        allow_private_peers="1",
        inbox_settle_seconds="600",
        inbox_max_delay_seconds="600",
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

    node = await serve_node(data, port, database_url, allow_private_peers="1")
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

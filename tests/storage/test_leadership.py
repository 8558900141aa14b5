"""The leader's advisory lock: one holder at a time, taken over when the holder
lets go or its session ends, and a lost session reported at the next check."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg

from bot.health import check_health, heartbeat_path, write_beat
from storage.postgres._core import LEADER, LOCK_NAMESPACE
from storage.postgres.leader import Leadership


async def test_one_instance_leads_and_another_takes_over_when_it_lets_go(pg_url: str) -> None:
    first, second = Leadership(pg_url, retry=0.05), Leadership(pg_url, retry=0.05)
    try:
        assert await first.acquire()
        assert first.role == "leader" and await first.check()
        stop = asyncio.Event()
        waiting = asyncio.create_task(second.acquire(stop))
        done, _ = await asyncio.wait({waiting}, timeout=0.5)
        assert not done and second.role == "standby"
        await first.release()
        assert await asyncio.wait_for(waiting, 10)
        assert second.is_leader
    finally:
        await first.release()
        await second.release()


async def test_a_session_ended_by_the_server_is_a_lost_leadership(pg_url: str) -> None:
    leader = Leadership(pg_url, check_every=0.05)
    try:
        assert await leader.acquire()
        watching = asyncio.create_task(leader.watch())
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND classid::bigint = %s",
                (LOCK_NAMESPACE + LEADER,),
            )
        await asyncio.wait_for(leader.lost.wait(), 10)
        await asyncio.wait_for(watching, 10)
        assert not leader.is_leader
        # The standby tries again and leads anew on a new session.
        again = Leadership(pg_url)
        assert await again.acquire()
        await again.release()
    finally:
        await leader.release()


def test_healthcheck_says_the_role(tmp_path: Path) -> None:
    database = tmp_path / "data" / "communique.sqlite3"
    database.parent.mkdir()
    write_beat(heartbeat_path(database), "standby")
    health = check_health(database, database_file=False)
    assert health.ok and health.detail.startswith("standby, waiting to take over, heartbeat")
    write_beat(heartbeat_path(database), "leader")
    assert check_health(database, database_file=False).detail.startswith("leader, heartbeat")
    # SQLite: no role, and the file must be there.
    write_beat(heartbeat_path(database))
    assert not check_health(database).ok
    assert check_health(database, database_file=False).detail.startswith("heartbeat")

"""A standby on PostgreSQL: two `communique run` on one database. The leader is
SIGKILLed in the middle of a broadcast to 200 chats and the standby takes over
within 30 seconds and finishes it: every chat gets every statement, and a chat gets
one twice only where the outbox counted a possible duplicate (at most the sends in
flight). A leader whose database session is cut stops sending at once and exits."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from storage.postgres._core import LEADER, LOCK_NAMESPACE
from tests.reliability.conftest import Report
from tests.support.botproc import BotProcess
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry, rss

pytestmark = pytest.mark.slow

ADMIN = 77
FIRST_USER = 20_000
TITLE = re.compile(r"^Statement (\d+) of the failover", re.M)
TAKEOVER_LIMIT = 30.0


def feed_body(count: int) -> bytes:
    start = datetime(2021, 12, 1, 9, 0, tzinfo=UTC)
    return rss(
        [
            Entry(
                f"failover-{n}",
                f"Statement {n} of the failover",
                f"Lead of statement {n}.",
                start + timedelta(minutes=n),
                f"https://embassy.example/failover/{n}",
            )
            for n in range(count, 0, -1)
        ],
        title="Failover feed",
        link="",
    )


def instance(tmp_path: Path, name: str, fake: FakeBotApi, url: str) -> BotProcess:
    folder = tmp_path / name
    folder.mkdir()
    # Paced, so that a broadcast to 200 chats lasts long enough to be cut.
    env = {"DATABASE_URL": url, "BROADCAST_RATE": "60"}
    return BotProcess(folder, fake, admin=ADMIN, env=env)


class Broadcast:
    """A feed with subscribers, and what they received."""

    def __init__(self, fake: FakeBotApi, feeds: FeedServer, chats: int) -> None:
        self.api = fake.emulator
        self.feeds = feeds
        self.users = [FIRST_USER + i for i in range(chats)]
        self.api.add_user(ADMIN, "Admin")
        for user in self.users:
            self.api.add_user(user, f"Reader{user}")

    async def subscribe_all(self, published: int) -> None:
        api = self.api
        self.feeds.set("/failover.xml", feed_body(published))
        before = len(api.messages(ADMIN))
        api.send_text(ADMIN, ADMIN, f"/addfeed {self.feeds.url('/failover.xml')}")
        await api.wait_for_messages(ADMIN, before + 1, timeout=30)
        for user in self.users:
            api.send_text(user, user, "/subscribe all")
        await api.wait_for(lambda: all(len(api.messages(u)) >= 1 for u in self.users), 90)

    def publish(self, published: int) -> None:
        self.feeds.set("/failover.xml", feed_body(published))
        self.api.send_text(ADMIN, ADMIN, "/pollnow")

    def pushes(self) -> int:
        return sum(
            len(TITLE.findall(m.plain_text or "")) for u in self.users for m in self.api.messages(u)
        )

    def seen(self) -> list[Counter[str]]:
        return [
            Counter(n for m in self.api.messages(u) for n in TITLE.findall(m.plain_text or ""))
            for u in self.users
        ]


def outbox_figures(url: str) -> tuple[int, int]:
    """(possible duplicates counted, statements still pending; the daily message
    may still be queued)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT COALESCE(SUM(possible_duplicate), 0),"
            " COUNT(*) FILTER (WHERE state = 'pending' AND kind = 'item') FROM outbox"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def test_the_standby_finishes_the_broadcast_of_a_leader_killed_mid_way(
    tmp_path: Path,
    fake_bot_api: FakeBotApi,
    feed_server: FeedServer,
    pg_url: str,
    soak: bool,
    reliability_report: Report,
) -> None:
    chats = 200
    backlog, published = 1, 3  # two statements to every chat: 400 messages
    news = Broadcast(fake_bot_api, feed_server, chats)
    leader = instance(tmp_path, "a", fake_bot_api, pg_url)
    standby = instance(tmp_path, "b", fake_bot_api, pg_url)
    try:
        await leader.start()
        await leader.wait_polling()
        await standby.start()
        await standby.wait_logged("standing by to take over")
        await news.subscribe_all(backlog)

        news.publish(published)
        expected = (published - backlog) * chats
        await news.api.wait_for(lambda: news.pushes() >= expected // 3, timeout=60)
        await leader.kill()
        killed_at = time.monotonic()
        at_kill = news.pushes()
        assert at_kill < expected, "the broadcast ended before the leader was killed"

        await standby.wait_logged("this instance is the leader", timeout=TAKEOVER_LIMIT)
        takeover = time.monotonic() - killed_at
        titles = [str(n) for n in range(backlog + 1, published + 1)]
        await news.api.wait_for(
            lambda: all(set(titles) <= set(s) for s in news.seen()), timeout=120
        )
        await asyncio.sleep(0)
        status, _ = await standby.stop()
        assert status == 0, standby.tail()
    finally:
        await leader.kill()
        await standby.kill()

    lost = sum(1 for seen in news.seen() for t in titles if seen[t] == 0)
    extra = sum(c - 1 for seen in news.seen() for c in seen.values() if c > 1)
    flagged, pending = outbox_figures(pg_url)
    reliability_report(
        kills=1,
        statements=published - backlog,
        deliveries=news.pushes(),
        lost=lost,
        duplicates=extra,
        chats=chats,
        flagged=flagged,
        takeover_ms=int(takeover * 1000),
    )
    assert takeover < TAKEOVER_LIMIT
    password = urlsplit(pg_url).password or "unset"
    assert password not in leader.logged + standby.logged, "the password was logged"
    assert lost == 0
    assert pending == 0
    assert extra <= flagged, "a duplicate the outbox did not count"
    # DELIVERY_CONCURRENCY=1: one send in flight at the kill.
    assert flagged <= 1


async def test_a_leader_whose_session_is_cut_stops_sending_at_once(
    tmp_path: Path,
    fake_bot_api: FakeBotApi,
    feed_server: FeedServer,
    pg_url: str,
    reliability_report: Report,
) -> None:
    backlog, published = 1, 3
    news = Broadcast(fake_bot_api, feed_server, 100)
    leader = instance(tmp_path, "a", fake_bot_api, pg_url)
    try:
        await leader.start()
        await leader.wait_polling()
        await news.subscribe_all(backlog)
        news.publish(published)
        expected = (published - backlog) * len(news.users)
        await news.api.wait_for(lambda: news.pushes() >= expected // 4, timeout=60)
        # The server ends the session that holds the lock (a failover of the
        # database, a network cut, an operator's pg_terminate_backend).
        with psycopg.connect(pg_url, autocommit=True) as conn:
            cut = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND granted AND classid::bigint = %s"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                (LOCK_NAMESPACE + LEADER,),
            ).fetchall()
        assert cut == [(True,)]
        at_cut = news.pushes()
        try:
            status = await leader.wait_exit(timeout=20)
        except TimeoutError:
            raise AssertionError(f"the leader did not stop:\n{leader.tail()}") from None
        after = news.pushes() - at_cut
        assert status == 1, leader.tail()
        assert "lost the leadership" in leader.logged
        # Nothing is claimed without the session: at most the send in flight went.
        assert after <= 1, f"{after} messages were sent after the session was cut"
        assert news.pushes() < expected

        # Started again (by its service manager) it leads anew and finishes.
        await leader.start()
        await leader.wait_polling()
        titles = [str(n) for n in range(backlog + 1, published + 1)]
        await news.api.wait_for(
            lambda: all(set(titles) <= set(s) for s in news.seen()), timeout=120
        )
        status, _ = await leader.stop()
        assert status == 0, leader.tail()
    finally:
        await leader.kill()
    extra = sum(c - 1 for seen in news.seen() for c in seen.values() if c > 1)
    flagged, pending = outbox_figures(pg_url)
    reliability_report(kills=1, deliveries=news.pushes(), lost=0, duplicates=extra, flagged=flagged)
    assert pending == 0
    assert extra <= flagged <= 1


async def test_a_standby_stops_cleanly_and_never_polls_telegram(
    tmp_path: Path, fake_bot_api: FakeBotApi, pg_url: str
) -> None:
    leader = instance(tmp_path, "a", fake_bot_api, pg_url)
    standby = instance(tmp_path, "b", fake_bot_api, pg_url)
    try:
        await leader.start()
        await leader.wait_polling()
        await standby.start()
        await standby.wait_logged("standing by to take over")
        polls = len(fake_bot_api.emulator.calls_to("getUpdates"))
        status, elapsed = await standby.stop()
        assert status == 0, standby.tail()
        assert elapsed < 10
        # Only the leader asked Telegram for updates meanwhile (one caller at a time).
        assert "Conflict" not in leader.logged + standby.logged
        assert len(fake_bot_api.emulator.calls_to("getUpdates")) >= polls
        status, _ = await leader.stop()
        assert status == 0, leader.tail()
    finally:
        await leader.kill()
        await standby.kill()

"""memory: peak resident memory (VmHWM) of the real bot process with 100,000 chats and
1,000 feeds loaded, after a poll of every feed and during a broadcast.

Prepared beforehand, with the real Store and Poller against ``python -m
tests.support.feed_server --feeds 1000`` (its own process): 1,000 feeds polled once
(backlog and validators stored); 100,000 private chats, every one subscribed to
feed 0 and to one other feed; feed 0 made to look changed (its validators cleared
and its newest statement forgotten) and every feed due now. Then ``python -m bot
run`` starts as a subprocess against the fake Bot API (its own process, no rate
limits, the 100,000 users known to it) with ALLOW_PRIVATE_FEEDS=true and
BROADCAST_RATE=1000 (so the broadcast fits in the run; the limit is the bot's
send speed, not 30/s). Its first poll tick polls the 1,000 feeds (999 answer 304,
feed 0 brings one new statement, queued for all 100,000 chats at once) and its
first daily tick queues the day's counter message for every chat (DAILY_TIME=00:00
UTC, so it is always due: a second broadcast, whatever the time of the run); the
figure is VmHWM read from /proc/<pid>/status once the first 20,000 messages
(QUICK: 250 feeds, 5,000 chats, first 1,000 messages) of that broadcast have been
delivered, sampled every 0.25 s on the way. Target <= 150 MB. Fails unless the
poll ran (999 feeds not modified, one new statement, 100,000 outbox rows) and
the messages arrived.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import (
    ROOT,
    TOKEN,
    FakeBotApi,
    FeedServerProcess,
    Figure,
    bulk_sql,
    check,
    emit,
    load_average,
    log,
    main_guard,
    peak_rss_mb,
    rss_mb,
)
from bot import USER_AGENT
from jobs.fetch import make_client
from jobs.poll import Poller
from storage.store import Store


async def _prepare(db: Path, server: FeedServerProcess, feeds: int, chats: int) -> None:
    store = await Store.open(db)
    client = make_client(user_agent=USER_AGENT, allow_private=True)
    try:
        for i in range(feeds):
            await store.add_feed(server.url(i))
        poller = Poller(
            store, client, poll_interval=300, allow_private=True, clock=lambda: datetime.now(UTC)
        )
        report = await poller.poll_due(force=True)
        check(report.changed == feeds, f"preparing: {report.changed} of {feeds} feeds fetched")
        feed0 = await store.feed_by_url(server.url(0))
        assert feed0 is not None
    finally:
        await client.aclose()
        await store.close()
    now = datetime.now(UTC).timestamp()
    chat_ids = range(40_000_001, 40_000_001 + chats)
    bulk_sql(
        db,
        [
            (
                "INSERT INTO chats (id, type, title, created_at) VALUES (?, 'private', ?, ?)",
                [(c, f"U{c}", now) for c in chat_ids],
            ),
            (
                "INSERT INTO subscriptions (chat_id, feed_id, created_at) VALUES (?, ?, ?)",
                [(c, feed0.id, now) for c in chat_ids]
                + [(c, 2 + c % (feeds - 1), now) for c in chat_ids],
            ),
            # Feed 0 looks changed: no validators, and its last statement unseen.
            (
                "DELETE FROM items WHERE id = (SELECT MAX(id) FROM items WHERE feed_id = ?)",
                (feed0.id,),
            ),
            (
                "UPDATE feeds SET etag = NULL, last_modified = NULL, content_hash = NULL"
                " WHERE id = ?",
                (feed0.id,),
            ),
            ("UPDATE feeds SET next_poll_at = NULL", ()),
        ],
    )


def _count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def measure(quick: bool) -> Figure:
    feeds = 250 if quick else 1000
    chats = 5_000 if quick else 100_000
    watch = 1_000 if quick else 20_000
    with (
        tempfile.TemporaryDirectory() as tmp,
        FeedServerProcess(feeds) as server,
        FakeBotApi() as fake,
    ):
        db = Path(tmp) / "bench.sqlite3"
        log(f"preparing {feeds} feeds and {chats} chats")
        asyncio.run(_prepare(db, server, feeds, chats))
        fake.add_users(list(range(40_000_001, 40_000_001 + chats)))
        items_before = _count(db, "SELECT COUNT(*) FROM items")
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_PATH": str(db),
            "ALLOW_PRIVATE_FEEDS": "true",
            "BROADCAST_RATE": "1000",
            "POLL_INTERVAL": "300",
            # Past already, so the day's counter message also goes to every chat at
            # start: a second broadcast, whatever the time of the run.
            "DAILY_TIME": "00:00",
            "TIMEZONE": "UTC",
            "LOG_LEVEL": "WARNING",
        }
        log("starting the bot")
        start = time.monotonic()
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp,  # no stray .env
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(tmp) / "bot.log", "w"),
        )
        samples: list[float] = []
        try:
            sent = 0
            deadline = start + (120 if quick else 600)
            while sent < watch:
                check(bot.poll() is None, f"the bot exited with status {bot.returncode}")
                check(time.monotonic() < deadline, f"only {sent} of {watch} messages sent in time")
                current = rss_mb(bot.pid)
                if current > 0:
                    samples.append(current)
                sent = fake.sent()
                time.sleep(0.25)
            peak = peak_rss_mb(bot.pid)
            elapsed = time.monotonic() - start
        finally:
            bot.send_signal(signal.SIGINT)
            try:
                bot.wait(30)
            except subprocess.TimeoutExpired:
                bot.kill()
                bot.wait()
        log_text = (Path(tmp) / "bot.log").read_text(errors="replace")
        not_modified = _count(
            db, "SELECT COUNT(*) FROM feeds WHERE etag IS NOT NULL AND last_success_at IS NOT NULL"
        )
        items_after = _count(db, "SELECT COUNT(*) FROM items")
        outbox = _count(db, "SELECT COUNT(*) FROM outbox WHERE kind = 'item'")
        daily = _count(db, "SELECT COUNT(*) FROM outbox WHERE kind != 'item'")
        sent_rows = _count(db, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'")
    check(items_after == items_before + 1, f"the poll stored {items_after - items_before} new")
    check(not_modified == feeds, f"{not_modified} of {feeds} feeds have validators after the poll")
    check(outbox == chats, f"{outbox} outbox rows for {chats} chats\n{log_text[-2000:]}")
    check(sent_rows >= watch, f"only {sent_rows} outbox rows are marked sent")
    log(f"peak {peak:.1f} MB after {sent} sends ({elapsed:.0f} s)")
    return Figure(
        "memory",
        round(peak, 1),
        "MB (VmHWM)",
        "<= 150 MB",
        peak <= 150,
        details={
            "chats": chats,
            "feeds": feeds,
            "messages_sent_when_read": sent,
            "broadcast_size": chats,
            "daily_messages_queued": daily,
            "rss_at_start_mb": round(samples[0], 1) if samples else None,
            "rss_last_mb": round(samples[-1], 1) if samples else None,
            "seconds": round(elapsed, 1),
            "broadcast_rate_setting": 1000,
            "load_average_1m": load_average()[0],
        },
    )


def run(quick: bool) -> None:
    emit(measure(quick))


if __name__ == "__main__":
    sys.exit(main_guard(run, __doc__))

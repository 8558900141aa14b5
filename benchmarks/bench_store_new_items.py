"""store_new_items: 10,000 new statements with outbox rows for 1,000 subscribers in one
poll (report only; no target yet). QUICK: 1,000 statements, 200 subscribers.

100 feeds (QUICK: 10) each have a stored backlog; 1,000 private chats are subscribed
to every feed. Then one poll cycle brings 100 new statements to every feed, and the
real Store.record_poll stores them feed by feed, as the Poller does after parsing
(parsing is not timed here: see ingest_changed): identity lookup, inserts with their
FTS rows, and one outbox row per (subscriber, statement) - 10,000,000 rows; with
more than a few new statements per feed they share a digest key, so each chat gets
one digest message per feed. Figure: seconds for the whole cycle, with statements/s
and outbox rows/s beside it. Fails unless the outbox holds exactly statements x
subscribers new rows.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import (
    Figure,
    TextMaker,
    bulk_sql,
    check,
    emit,
    load_average,
    log,
    main_guard,
)
from benchmarks.rig import statement
from storage.store import Store

PER_FEED = 100


async def measure(quick: bool) -> Figure:
    feeds = 10 if quick else 100
    chats = 200 if quick else 1000
    text = TextMaker(seed=5)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        store = await Store.open(db)
        base = datetime.now(UTC) - timedelta(days=1)
        try:
            ids = []
            for f in range(feeds):
                feed = await store.add_feed(f"https://mid.example.org/{f}.xml")
                ids.append(feed.id)
                backlog = [
                    statement(text, f"{f}-old-{n}", base + timedelta(minutes=n)) for n in range(20)
                ]
                await store.record_poll(
                    feed.id,
                    backlog,
                    feed_title=f"Ministry {f}",
                    etag=None,
                    last_modified=None,
                    content_hash=None,
                    next_poll_at=datetime.now(UTC),
                )
            now = datetime.now(UTC).timestamp()
            chat_ids = list(range(30_000_001, 30_000_001 + chats))
            bulk_sql(
                db,
                [
                    (
                        "INSERT INTO chats (id, type, title, created_at)"
                        " VALUES (?, 'private', 'U', ?)",
                        [(c, now) for c in chat_ids],
                    ),
                    (
                        "INSERT INTO subscriptions (chat_id, feed_id, created_at) VALUES (?, ?, ?)",
                        [(c, f, now) for c in chat_ids for f in ids],
                    ),
                ],
            )
            fresh = {
                fid: [
                    statement(text, f"{fid}-new-{n}", base + timedelta(hours=2, minutes=n))
                    for n in range(PER_FEED)
                ]
                for fid in ids
            }
            log(f"storing {feeds * PER_FEED} new statements for {chats} subscribers")
            new_items = queued = 0
            start = time.perf_counter()
            for fid in ids:
                outcome = await store.record_poll(
                    fid,
                    fresh[fid],
                    feed_title=None,
                    etag=None,
                    last_modified=None,
                    content_hash=None,
                    next_poll_at=datetime.now(UTC),
                )
                new_items += len(outcome.new_items)
                queued += outcome.outbox_rows
            elapsed = time.perf_counter() - start
        finally:
            await store.close()
        conn = sqlite3.connect(db)
        try:
            pending = conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()
        finally:
            conn.close()
    items = feeds * PER_FEED
    check(new_items == items, f"{new_items} of {items} statements were new")
    check(queued == items * chats, f"{queued} outbox rows, expected {items * chats}")
    check(pending[0] == items * chats, f"{pending[0]} pending rows in the outbox")
    log(f"{elapsed:.1f} s: {items / elapsed:.0f} statements/s, {queued / elapsed:.0f} rows/s")
    return Figure(
        "store_new_items",
        round(elapsed, 2),
        "s per poll cycle",
        "report only",
        True,
        details={
            "statements": items,
            "subscribers": chats,
            "outbox_rows": queued,
            "statements_per_s": round(items / elapsed),
            "outbox_rows_per_s": round(queued / elapsed),
            "load_average_1m": load_average()[0],
        },
    )


def run(quick: bool) -> None:
    emit(asyncio.run(measure(quick)))


if __name__ == "__main__":
    sys.exit(main_guard(run, __doc__))

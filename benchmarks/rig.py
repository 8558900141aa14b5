"""Database fixtures the delivery benchmarks share: chats subscribed to one feed,
and a new statement pushed to them through the real `Store.record_poll`."""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import TextMaker, bulk_sql, check
from storage.api import StoreAPI
from storage.models import NewItem
from storage.store import Store

FEED_URL = "https://example.org/statements.xml"


def statement(text: TextMaker, key: str, published: datetime) -> NewItem:
    lead = text.lead()
    return NewItem(
        identity=hashlib.sha256(key.encode()).hexdigest(),
        guid=key,
        link=f"https://example.org/statements/{key}",
        title=text.title(),
        summary=lead,
        content=text.body(lead),
        published_at=published,
    )


async def prepare(path: Path, chat_ids: list[int]) -> int:
    """A feed with a stored backlog, and `chat_ids` (private chats) subscribed to it."""
    store = await Store.open(path)
    try:
        feed = await store.add_feed(FEED_URL, "Statements")
        text = TextMaker(seed=7)
        backlog = [statement(text, f"old-{i}", datetime.now(UTC)) for i in range(5)]
        await store.record_poll(
            feed.id,
            backlog,
            feed_title="Statements",
            etag=None,
            last_modified=None,
            content_hash=None,
            next_poll_at=datetime.now(UTC),
        )
    finally:
        await store.close()
    now = datetime.now(UTC).timestamp()
    bulk_sql(
        path,
        [
            (
                "INSERT INTO chats (id, type, title, created_at) VALUES (?, 'private', ?, ?)",
                [(c, f"U{c}", now) for c in chat_ids],
            ),
            (
                "INSERT INTO subscriptions (chat_id, feed_id, created_at) VALUES (?, ?, ?)",
                [(c, feed.id, now) for c in chat_ids],
            ),
        ],
    )
    return feed.id


async def push_statement(store: StoreAPI, feed_id: int, key: str, expected_rows: int) -> None:
    """One new statement in a poll of the feed: one outbox row per subscriber."""
    outcome = await store.record_poll(
        feed_id,
        [
            statement(
                TextMaker(seed=zlib.crc32(key.encode()), rare_words=100), key, datetime.now(UTC)
            )
        ],
        feed_title="Statements",
        etag=None,
        last_modified=None,
        content_hash=None,
        next_poll_at=datetime.now(UTC),
    )
    check(
        outcome.outbox_rows == expected_rows,
        f"the poll queued {outcome.outbox_rows} messages, expected {expected_rows}",
    )


def outbox_finish_times(path: Path, item_key: str) -> list[float]:
    """finished_at of every sent row of one statement, sorted."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT o.finished_at FROM outbox o JOIN items i ON i.id = o.item_id"
            " WHERE i.guid = ? AND o.state = 'sent' ORDER BY o.finished_at",
            (item_key,),
        ).fetchall()
    finally:
        conn.close()
    return [float(r[0]) for r in rows]


async def prepare_postgres(url: str, chat_ids: list[int]) -> tuple[StoreAPI, int]:
    """`prepare` on PostgreSQL: the store (open, its outbox claimed on a leader's lock
    session as in a running bot) and the feed's id."""
    from storage.postgres.leader import Leadership
    from storage.postgres.store import PgStore

    store = await PgStore.open(url)
    feed = await store.add_feed(FEED_URL, "Statements")
    text = TextMaker(seed=7)
    await store.record_poll(
        feed.id,
        [statement(text, f"old-{i}", datetime.now(UTC)) for i in range(5)],
        feed_title="Statements",
        etag=None,
        last_modified=None,
        content_hash=None,
        next_poll_at=datetime.now(UTC),
    )
    now = datetime.now(UTC).timestamp()
    async with store._conn.cursor() as cur:
        async with cur.copy("COPY chats (id, type, title, created_at) FROM STDIN") as copy:
            for c in chat_ids:
                await copy.write_row((c, "private", f"U{c}", now))
        async with cur.copy("COPY subscriptions (chat_id, feed_id, created_at) FROM STDIN") as copy:
            for c in chat_ids:
                await copy.write_row((c, feed.id, now))
    leadership = Leadership(url)
    check(await leadership.acquire(), "could not take the lead")
    store.use_claims_session(leadership.session, leadership.lock)
    return store, feed.id

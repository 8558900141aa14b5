"""`communique migrate-db --to URL`: a SQLite database with something of every kind
(feeds and a page source, statements with stems, chats and a forum topic,
subscriptions, filters, alerts, channels, counters in two languages, daily records,
digests, the outbox in every state) reads the same through the store API after the
copy; counts are verified; a target with anything in it, a running bot's file and
a bad URL are refused, and the password is never printed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import psycopg
import pytest

from bot.config import SPECS
from storage.api import StoreAPI, open_store
from storage.models import NewFeed, NewItem
from storage.store import Store
from storage.transfer import NOT_COPIED_PREFIXES, TABLES, copy_to_postgres
from tests.support.postgres import PostgresServer

NOW = datetime(2021, 12, 3, 4, 30, tzinfo=UTC)


async def fill(store: StoreAPI) -> None:
    feed = await store.add_feed("https://mfa.example/rss", "Ministry")
    page = (await store.add_feeds([NewFeed("https://embassy.example/news", None, "page")]))[0][0]
    await store.record_poll(
        feed.id,
        [
            NewItem(f"old{n}", None, f"https://mfa.example/{n}", f"Санкции {n}", "Lead.", "Text.",
                    NOW - timedelta(days=1, hours=n))
            for n in range(3)
        ],
        feed_title="Ministry", etag='"v1"', last_modified=None, content_hash="abc",
        next_poll_at=NOW, language="ru",
    )  # fmt: skip
    for chat, kind in ((1, "private"), (-100, "supergroup"), (3, "private")):
        await store.upsert_chat(chat, kind, f"chat {chat}", "ru" if chat == 3 else None)
        await store.subscribe(chat, [feed.id, page.id])
    topic = await store.topic_chat(-100, 7, "Topic")
    await store.subscribe(topic.id, [feed.id])
    await store.set_filter(1, feed.id, "sanctions -visa")
    await store.add_alert(3, "visa*", "+prefix:visa")
    await store.add_channel(-1002, "Channel", "embassynews", 77)
    await store.subscribe(-1002, [feed.id])
    await store.update_chat_settings(-100, timezone="Europe/Moscow", daily_time=time(7, 30))
    await store.update_chat_settings(3, pushes="digest")
    counter = await store.add_counter(date(2018, 3, 4), "Europe/Moscow", "{days} days")
    await store.set_counter_text(counter.id, "ru", "{days} дней")
    await store.record_poll(
        feed.id,
        [NewItem("new", None, None, "Visa rules", "Visa lead.", "Visa text.", NOW)],
        feed_title=None, etag='"v2"', last_modified=None, content_hash=None, next_poll_at=NOW,
    )  # fmt: skip
    rows = await store.deliverable_outbox()
    assert len(rows) >= 3
    await store.mark_sent([rows[0].id], 555)
    await store.mark_in_flight([rows[1].id])
    await store.mark_failed([rows[2].id], "blocked")
    await store.enqueue_daily([("Europe/London", time(9, 0), NOW.date())], {"en": "Day"})
    await store.release_digests([("Europe/London", time(9, 0), NOW.date())])
    await store.deactivate_chat(-1002, "kicked")
    await store.record_failure(page.id, "HTTP 500", next_poll_at=NOW)


async def snapshot(store: StoreAPI) -> dict[str, object]:
    """Everything the API shows, for comparing the two databases."""
    chats = [await store.find_chat(c) for c in (1, -100, 3, -1002, -(2**60) - 1)]
    return {
        "feeds": await store.list_feeds(),
        "statuses": await store.feed_statuses(),
        "latest": await store.latest_items(50),
        "search": [(h.item.id, h.item.identity) for h in await store.search("санкция")],
        "chats": chats,
        "subscriptions": [await store.subscriptions(c) for c in (1, -100, 3, -1002)],
        "filters": await store.chat_filters(1),
        "alerts": await store.chat_alerts(3),
        "channels": await store.list_channels(),
        "counters": await store.list_counters(),
        "outbox": [await store.outbox_rows_for_chat(c) for c in (1, -100, 3, -1002)],
        "daily": await store.daily_sent(1, NOW.date()),
        "stats": await store.stats(),
        "matcher": await store.saved_searches(),
    }


async def test_a_database_of_every_kind_reads_the_same_after_the_copy(
    tmp_path: Path, pg_url: str
) -> None:
    path = tmp_path / "bot.sqlite3"
    source = await Store.open(path, clock=lambda: NOW)
    await fill(source)
    before = await snapshot(source)
    await source.close()
    seen: list[tuple[str, int, int]] = []

    copied = await copy_to_postgres(path, pg_url, progress=lambda *a: seen.append(a))

    assert [c.table for c in copied] == list(TABLES)
    assert all(c.ok for c in copied), copied
    assert {c.table for c in copied if c.source} >= {"items", "outbox", "alerts", "counter_texts"}
    assert ("items", 4, 4) in seen  # progress, table by table
    target = await open_store(path=tmp_path, url=pg_url, clock=lambda: NOW)
    try:
        assert await snapshot(target) == before
        assert await target.integrity_check() == "ok"
        # New rows continue after the copied ids.
        added = await target.add_feed("https://new.example/rss")
        assert added.id > max(f.id for f in await target.list_feeds() if f.id != added.id)
    finally:
        await target.close()


async def test_a_target_with_anything_in_it_is_refused_untouched(
    tmp_path: Path, pg_url: str
) -> None:
    path = tmp_path / "bot.sqlite3"
    await (await Store.open(path)).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (id int)")
    from storage.errors import StorageError

    with pytest.raises(StorageError, match="is not empty"):
        await copy_to_postgres(path, pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone() == (1,)


def test_every_sqlite_table_is_copied() -> None:
    import sqlite3

    from storage.schema import MIGRATIONS

    conn = sqlite3.connect(":memory:")
    for script in MIGRATIONS:
        conn.executescript(script)
    tables = {
        name
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not name.startswith(NOT_COPIED_PREFIXES)
    }
    assert tables == set(TABLES)


def communique(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SPECS}
    env["DATABASE_PATH"] = str(tmp_path / "data" / "communique.sqlite3")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


async def test_the_command_copies_with_progress_and_never_shows_the_password(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    path = tmp_path / "data" / "communique.sqlite3"
    store = await Store.open(path, clock=lambda: NOW)
    await fill(store)
    await store.close()
    url = postgres_server.new_database()

    done = communique(tmp_path, "migrate-db", "--to", url)

    assert done.returncode == 0, done.stderr
    assert "copying items: 4/4" in done.stderr
    assert "outbox: " in done.stdout and "(ok)" in done.stdout and "DIFFERS" not in done.stdout
    assert postgres_server.password not in done.stdout + done.stderr
    assert "postgres:***@127.0.0.1" in done.stdout
    # Again: the target is no longer empty.
    again = communique(tmp_path, "migrate-db", "--to", url)
    assert again.returncode == 1 and "is not empty" in again.stderr
    assert postgres_server.password not in again.stdout + again.stderr
    bad = communique(tmp_path, "migrate-db", "--to", "mysql://u:hunter22@x/db")
    assert bad.returncode == 2 and "--to must be" in bad.stderr and "hunter22" not in bad.stderr

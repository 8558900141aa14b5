"""Two connections on one file (the bot and `communique poll --once`, or the bot
and a backup): writes wait for each other instead of failing with "database is
locked", and `communique backup` copies one consistent point in time."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import cli
from storage.models import NewItem
from storage.store import Store

NOW = datetime(2021, 12, 3, 4, 30, tzinfo=UTC)
CHATS = 20


def entry(feed_id: int, n: int) -> NewItem:
    return NewItem(
        identity=f"{feed_id}-{n}",
        guid=None,
        link=f"https://mfa.example/{feed_id}/{n}",
        title=f"Statement {n} of feed {feed_id}",
        summary="lead",
        content="Full text " * 50,
        published_at=NOW - timedelta(minutes=n % 30),
    )


async def store_poll(store: Store, feed_id: int, entries: list[NewItem]) -> int:
    outcome = await store.record_poll(
        feed_id,
        entries,
        feed_title=None,
        etag=None,
        last_modified=None,
        content_hash=None,
        next_poll_at=NOW,
    )
    return outcome.outbox_rows


async def _two_stores(path: Path) -> tuple[Store, Store, list[int]]:
    first = await Store.open(path, clock=lambda: NOW)
    second = await Store.open(path, clock=lambda: NOW)
    feeds = [(await first.add_feed(f"https://mfa.example/{n}")).id for n in range(2)]
    for feed_id in feeds:
        await store_poll(first, feed_id, [])  # past the backlog poll
    for chat_id in range(1, CHATS + 1):
        await first.upsert_chat(chat_id, "private", f"chat {chat_id}")
        await first.subscribe(chat_id, feeds)
    return first, second, feeds


async def test_two_connections_writing_at_once_never_see_database_is_locked(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.sqlite3"
    bot, poller, feeds = await _two_stores(path)
    try:

        async def poll_many(store: Store, feed_id: int) -> int:
            queued = 0
            for batch in range(15):
                entries = [entry(feed_id, batch * 3 + n) for n in range(3)]
                # Every poll lists the previous batch again: it must not count twice.
                entries += [entry(feed_id, max(batch - 1, 0) * 3)]
                queued += await store_poll(store, feed_id, entries)
            return queued

        async def deliver_many(store: Store) -> int:
            sent = 0
            for _ in range(40):
                rows = await store.pending_outbox(10)
                claimed = await store.mark_in_flight([r.id for r in rows])
                await store.mark_sent(claimed, message_id=1)
                sent += len(claimed)
                await asyncio.sleep(0)
            return sent

        async def churn_subscriptions(store: Store) -> None:
            for n in range(30):
                chat_id = CHATS + 1 + n
                await store.upsert_chat(chat_id, "private", "newcomer")
                await store.subscribe(chat_id, feeds)
                await store.update_chat_settings(chat_id, daily_enabled=n % 2 == 0)

        results = await asyncio.gather(
            poll_many(poller, feeds[0]),
            poll_many(bot, feeds[1]),
            deliver_many(bot),
            deliver_many(poller),
            churn_subscriptions(bot),
            churn_subscriptions(poller),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert errors == []
        queued = sum(r for r in results[:2] if isinstance(r, int))

        async with bot._conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT chat_id || ':' || item_id) FROM outbox"
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        assert row[0] == row[1] == queued
        assert await bot.count_items() == 2 * 45
        assert await bot.integrity_check() == "ok"
    finally:
        await bot.close()
        await poller.close()


async def test_communique_backup_copies_a_consistent_database_while_another_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "live.sqlite3"
    target = tmp_path / "backups" / "copy.sqlite3"
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_PATH", str(path))
    bot, _unused, feeds = await _two_stores(path)
    await _unused.close()
    stop = asyncio.Event()

    async def keep_writing() -> int:
        n = 0
        while not stop.is_set():
            await store_poll(bot, feeds[n % 2], [entry(feeds[n % 2], n)])
            n += 1
        return n

    writer = asyncio.create_task(keep_writing())
    try:
        await store_poll(bot, feeds[0], [entry(feeds[0], 10_000)])
        status = await asyncio.to_thread(cli.main, ["backup", str(target)])
        assert status == 0
        # A second backup replaces the first, still while writes go on.
        status = await asyncio.to_thread(cli.main, ["backup", str(target)])
        assert status == 0
    finally:
        stop.set()
        written = await writer
        await bot.close()
    assert written > 0
    # One file, complete, nothing left beside it.
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.sqlite3"]
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()

    copy = await Store.open(target, clock=lambda: NOW)
    try:
        assert await copy.integrity_check() == "ok"
        items = await copy.count_items()
        assert items >= 1
        # Statements and their outbox rows were written together, so a consistent copy
        # has every row for every statement.
        async with copy._conn.execute("SELECT COUNT(*) FROM outbox") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == items * CHATS
        assert [h.item.identity for h in await copy.search("statement 10000")] == [
            f"{feeds[0]}-10000"
        ]
        assert len(await copy.subscriptions(1)) == 2
    finally:
        await copy.close()


def test_backup_of_a_missing_database_fails_without_creating_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "missing.sqlite3"))
    assert cli.main(["backup", str(tmp_path / "copy.sqlite3")]) == 1
    assert "no database" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


async def test_delivery_writes_wait_off_the_loop_while_another_process_writes(
    tmp_path: Path,
) -> None:
    """Delivery's one-statement writes run on a fast connection that never waits; when
    another connection holds the write lock they wait on aiosqlite's thread instead,
    so the event loop keeps running and the write lands once the lock is released."""
    path = tmp_path / "fast.sqlite3"
    store = await Store.open(path, clock=lambda: NOW)
    try:
        feed = await store.add_feed("https://mfa.example/rss")
        await store.upsert_chat(1, "private", "reader")
        await store.subscribe(1, [feed.id])
        await store_poll(store, feed.id, [entry(feed.id, 0)])
        await store_poll(store, feed.id, [entry(feed.id, 0), entry(feed.id, 1)])
        (row,) = await store.outbox_rows_for_chat(1)

        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        claim = asyncio.create_task(store.mark_in_flight([row.id]))
        ticks = 0
        while ticks < 50:  # the loop is free while the claim waits
            await asyncio.sleep(0)
            ticks += 1
        assert not claim.done()
        other.execute("COMMIT")
        other.close()
        assert await asyncio.wait_for(claim, 15) == [row.id]
        check = sqlite3.connect(path)
        in_flight = check.execute(
            "SELECT in_flight_at IS NOT NULL, attempts FROM outbox WHERE id = ?", (row.id,)
        ).fetchone()
        check.close()
        assert in_flight == (1, 1)
    finally:
        await store.close()

"""A crash in the middle of a broadcast: the real bot (`python -m bot run`, a
subprocess) sends one statement to 300 chats through the fake Bot API, is killed
with SIGKILL part-way and started again. Afterwards every chat has the statement,
and no chat has it twice except rows the bot itself counted as possible duplicates."""

from __future__ import annotations

import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.models import NewItem
from storage.store import Store
from tests.support.botproc import BotProcess
from tests.support.fake_bot_api import FakeBotApi

pytestmark = pytest.mark.slow

CHATS = list(range(30_001, 30_301))
CONCURRENCY = 4  # sends in flight at once: at most this many doubts per kill
NOW = datetime(2021, 12, 3, 9, 0, tzinfo=UTC)


def item(n: int) -> NewItem:
    return NewItem(
        identity=f"id-{n}",
        guid=f"s{n}",
        link=f"https://embassy.example/statements/s{n}",
        title=f"Statement {n}",
        summary=f"Lead of statement {n}.",
        content=f"Lead of statement {n}.",
        published_at=NOW - timedelta(days=3 - n),
    )


async def prepare(database: Path) -> None:
    """300 subscribed chats and one statement queued for each, as a poll leaves them."""
    store = await Store.open(database, clock=lambda: NOW)
    try:
        feed = await store.add_feed("https://embassy.example/feed.xml", "Embassy statements")
        for chat in CHATS:
            await store.upsert_chat(chat, "private", f"User {chat}")
            await store.subscribe(chat, [feed.id])
            # Only the statement is in the air: no daily message joins the broadcast.
            await store.update_chat_settings(chat, daily_enabled=False)
        for entries in ([item(1)], [item(2), item(1)]):
            await store.record_poll(
                feed.id,
                entries,
                feed_title=None,
                etag=None,
                last_modified=None,
                content_hash=None,
                next_poll_at=NOW,
            )
        # The bot must not poll the feed while the test runs: it is no address to
        # look up (a next poll time "later" than NOW, in 2021, is long past now).
        await store.set_feed_paused(feed.id, True)
        assert (await store.stats()).pending == len(CHATS)
    finally:
        await store.close()


def delivered(fake: FakeBotApi) -> int:
    return sum(1 for chat in CHATS if fake.emulator.messages(chat))


async def test_sigkill_mid_broadcast_then_restart_delivers_everything_once(
    tmp_path: Path, fake_bot_api: FakeBotApi
) -> None:
    # Fast enough for a short test, slow enough to be killed part-way.
    env = {"BROADCAST_RATE": "100", "DELIVERY_CONCURRENCY": str(CONCURRENCY)}
    bot = BotProcess(tmp_path, fake_bot_api, env=env)
    database = bot.database
    await prepare(database)
    for chat in CHATS:
        fake_bot_api.emulator.add_user(chat, f"User{chat}")

    try:
        await bot.start()
        try:
            await fake_bot_api.emulator.wait_for(lambda: delivered(fake_bot_api) >= 100, 30)
        except TimeoutError:
            raise AssertionError(bot.tail()) from None
        await bot.kill()
        at_kill = delivered(fake_bot_api)
        assert at_kill < len(CHATS), "killed too late to prove anything"

        await bot.start()
        try:
            await fake_bot_api.emulator.wait_for(lambda: delivered(fake_bot_api) == len(CHATS), 30)
        except TimeoutError:
            raise AssertionError(bot.tail()) from None
        # A clean stop finishes what is in flight and records it.
        status, _ = await bot.stop(signal.SIGTERM, timeout=20)
        assert status == 0, bot.tail()
    finally:
        await bot.kill()

    counts = fake_bot_api.emulator.message_counts()
    with sqlite3.connect(database) as db:
        rows = dict(
            db.execute(
                "SELECT chat_id, possible_duplicate FROM outbox WHERE state = 'sent'"
            ).fetchall()
        )
        states = dict(db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
    assert states == {"sent": len(CHATS)}
    doubled = {chat for chat in CHATS if counts[chat] > 1}
    assert all(counts[chat] <= 2 for chat in CHATS)
    # Every chat that got it twice is one the bot counted; it counts no more than
    # the sends that were in flight when it was killed.
    counted = {chat for chat, dup in rows.items() if dup}
    assert doubled <= counted
    assert len(counted) <= CONCURRENCY
    for chat in CHATS:
        assert [
            m.plain_text.split("\n")[0]
            for m in fake_bot_api.emulator.messages(chat)
            if m.plain_text
        ] == (["Statement 2"] * counts[chat])

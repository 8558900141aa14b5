"""A crash in the middle of a broadcast: the real bot (`python -m bot run`, a
subprocess) sends one statement to 300 chats through the fake Bot API, is killed
with SIGKILL part-way and started again. Afterwards every chat has the statement,
and no chat has it twice except rows the bot itself counted as possible duplicates."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import SPECS
from storage.models import NewItem
from storage.store import Store
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


@contextmanager
def bot_process(
    tmp_path: Path, fake: FakeBotApi, database: Path
) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if k not in SPECS}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_PATH": str(database),
            "ALLOW_PRIVATE_FEEDS": "true",
            # Fast enough for a short test, slow enough to be killed part-way.
            "BROADCAST_RATE": "100",
            "DELIVERY_CONCURRENCY": str(CONCURRENCY),
        }
    )
    with (tmp_path / "bot.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


async def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> int:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, lambda: proc.wait(timeout))


def delivered(fake: FakeBotApi) -> int:
    return sum(1 for chat in CHATS if fake.emulator.messages(chat))


async def test_sigkill_mid_broadcast_then_restart_delivers_everything_once(
    tmp_path: Path, fake_bot_api: FakeBotApi
) -> None:
    database = tmp_path / "data" / "communique.sqlite3"
    await prepare(database)
    for chat in CHATS:
        fake_bot_api.emulator.add_user(chat, f"User{chat}")
    log = tmp_path / "bot.log"

    with bot_process(tmp_path, fake_bot_api, database) as proc:
        try:
            await fake_bot_api.emulator.wait_for(lambda: delivered(fake_bot_api) >= 100, 30)
        except TimeoutError:
            raise AssertionError(log.read_text()) from None
        proc.send_signal(signal.SIGKILL)
        await wait_exit(proc, 10)
    at_kill = delivered(fake_bot_api)
    assert at_kill < len(CHATS), "killed too late to prove anything"

    with bot_process(tmp_path, fake_bot_api, database) as proc:
        try:
            await fake_bot_api.emulator.wait_for(lambda: delivered(fake_bot_api) == len(CHATS), 30)
        except TimeoutError:
            raise AssertionError(log.read_text()) from None
        # A clean stop finishes what is in flight and records it.
        proc.send_signal(signal.SIGTERM)
        assert await wait_exit(proc, 20) == 0, log.read_text()

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

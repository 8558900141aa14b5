"""Crashes: statements are published while the bot is killed with SIGKILL at random
(seeded) moments and restarted. At the end every chat has every statement, and no
chat has one twice except rows the bot itself counted as possible duplicates —
at most one per kill. `make soak` runs it at full size (500 chats)."""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.reliability.conftest import Report
from tests.support.botproc import BotProcess
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry, rss

pytestmark = pytest.mark.slow

ADMIN = 77
FIRST_USER = 10_000
SEED = 20211203
TITLE = re.compile(r"^Statement (\d+) of the soak", re.M)


def feed_body(count: int) -> bytes:
    start = datetime(2021, 12, 1, 9, 0, tzinfo=UTC)
    return rss(
        [
            Entry(
                f"soak-{n}",
                f"Statement {n} of the soak",
                f"Lead of statement {n}.",
                start + timedelta(minutes=n),
                f"https://embassy.example/soak/{n}",
            )
            for n in range(count, 0, -1)
        ],
        title="Soak feed",
        link="",
    )


async def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    tmp_path: Path,
    fake_bot_api: FakeBotApi,
    feed_server: FeedServer,
    soak: bool,
    reliability_report: Report,
) -> None:
    chats = 500 if soak else 40
    kills = 10
    backlog = 2
    rng = random.Random(SEED)
    api = fake_bot_api.emulator
    api.add_user(ADMIN, "Admin")
    users = [FIRST_USER + i for i in range(chats)]
    for user in users:
        api.add_user(user, f"Reader{user}")

    feed_server.set("/soak.xml", feed_body(backlog))
    bot = BotProcess(tmp_path, fake_bot_api, admin=ADMIN)
    await bot.start()
    await bot.wait_polling()

    async def command(chat: int, text: str) -> None:
        before = len(api.messages(chat))
        api.send_text(chat, chat, text)
        await api.wait_for_messages(chat, before + 1, timeout=20)

    await command(ADMIN, f"/addfeed {feed_server.url('/soak.xml')}")
    assert "Added feed 1" in (api.messages(ADMIN)[-1].plain_text or "")
    for user in users:
        api.send_text(user, user, "/subscribe all")
    await api.wait_for(lambda: all(len(api.messages(u)) >= 1 for u in users), timeout=60)

    def pushes() -> int:
        return sum(len(TITLE.findall(m.plain_text or "")) for u in users for m in api.messages(u))

    published = backlog
    expected = 0
    for _ in range(kills):
        # Publish one or two statements, ask for a poll, and kill the bot at a
        # random point of the broadcast that follows.
        published += rng.choice((1, 2))
        feed_server.set("/soak.xml", feed_body(published))
        expected = (published - backlog) * chats
        done_before = pushes()
        api.send_text(ADMIN, ADMIN, "/pollnow")
        target = done_before + rng.randint(0, max(0, expected - done_before))
        await api.wait_for(lambda: pushes() >= target, timeout=60)  # noqa: B023 - awaited here
        await bot.restart()
    await bot.wait_polling()

    # Let the last restart finish the broadcast (and any poll it still owes).
    api.send_text(ADMIN, ADMIN, "/pollnow")
    titles = [str(n) for n in range(backlog + 1, published + 1)]

    def complete() -> bool:
        for user in users:
            got = {n for m in api.messages(user) for n in TITLE.findall(m.plain_text or "")}
            if not got.issuperset(titles):
                return False
        return True

    try:
        await api.wait_for(complete, timeout=120)
    except TimeoutError:
        raise AssertionError(
            f"only {pushes()} of {expected} pushes arrived\n{bot.tail()}"
        ) from None
    await asyncio.sleep(0)  # let the fake record the last answers
    status, _ = await bot.stop()
    assert status == 0, bot.tail()

    lost: list[tuple[int, str]] = []
    extra = 0
    for user in users:
        seen = Counter(n for m in api.messages(user) for n in TITLE.findall(m.plain_text or ""))
        lost += [(user, t) for t in titles if seen[t] == 0]
        extra += sum(c - 1 for c in seen.values() if c > 1)
        assert set(seen) <= set(titles), "an old (backlog) statement was pushed"

    with sqlite3.connect(bot.database) as db:
        # possible_duplicate counts the sends of unknown fate of each row.
        flagged = db.execute("SELECT COALESCE(SUM(possible_duplicate), 0) FROM outbox").fetchone()[
            0
        ]
        pending = db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0]

    reliability_report(
        kills=kills,
        statements=published - backlog,
        deliveries=pushes(),
        lost=len(lost),
        duplicates=extra,
        chats=chats,
        flagged=flagged,
    )
    assert lost == []
    assert pending == 0
    assert extra <= flagged, "a duplicate the bot did not count"
    assert flagged <= kills, "more possible duplicates than kills"

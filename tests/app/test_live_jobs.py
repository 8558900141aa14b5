"""The JobQueue for real: the bot as a subprocess, no clock moved by hand. A short
POLL_INTERVAL makes it poll on its own and push a new statement; a daily time that
has already passed today makes it send today's daily message at start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.botproc import BotProcess
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry, rss

pytestmark = pytest.mark.slow

ADMIN = 501
READER = 502


def feed(*numbers: int) -> bytes:
    start = datetime(2021, 12, 1, 9, 0, tzinfo=UTC)
    return rss(
        [
            Entry(f"live-{n}", f"Live statement {n}", f"Lead {n}.", start + timedelta(hours=n), "")
            for n in numbers
        ],
        title="Live",
        link="",
    )


async def test_polls_and_the_daily_message_run_on_their_own(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    api = fake_bot_api.emulator
    api.add_user(ADMIN, "Admin")
    api.add_user(READER, "Reader")
    feed_server.set("/live.xml", feed(1))
    # 00:00 UTC has always passed: today's message is due as soon as a chat subscribes.
    bot = BotProcess(
        tmp_path,
        fake_bot_api,
        admin=ADMIN,
        env={"POLL_INTERVAL": "1", "DAILY_TIME": "00:00", "TIMEZONE": "UTC"},
    )
    await bot.start()
    await bot.wait_polling()
    try:
        api.send_text(ADMIN, ADMIN, f"/addfeed {feed_server.url('/live.xml')}")
        await api.wait_for_messages(ADMIN, 1, timeout=20)
        api.send_text(READER, READER, "/subscribe all")

        def texts() -> list[str]:
            return [m.plain_text or "" for m in api.messages(READER)]

        # The daily tick runs every minute, the first one at start: the catch-up for
        # a chat that subscribed after its time comes at the next tick at the latest.
        feed_server.set("/live.xml", feed(2, 1))
        await api.wait_for(lambda: any("Live statement 2" in t for t in texts()), timeout=30)
        assert not any("Live statement 1" in t for t in texts()), "the backlog was pushed"
        await api.wait_for(lambda: any("Moscow:" in t for t in texts()), timeout=75)
        daily = [t for t in texts() if "Moscow:" in t]
        assert len(daily) == 1
        assert "London:" in daily[0]
    finally:
        status, _ = await bot.stop()
        assert status == 0, bot.tail()

"""With ALLOW_PRIVATE_FEEDS=false, /addfeed refuses every spelling of this machine and
every private range, before any connection is made (issue 11, item 5)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import sample_feed
from tests.support.rig import ADMIN, Rig, start_rig, stop_rig

NAMES = {
    "loopback.example": ["127.0.0.1"],
    "intranet.example": ["10.20.30.40"],
    "mixed.example": ["93.184.216.34", "192.168.1.10"],
    "v6-ula.example": ["fd12:3456:789a::1"],
}


async def fake_resolver(host: str, port: int) -> list[str]:
    if host in NAMES:
        return NAMES[host]
    raise AssertionError(f"the guard resolved an unexpected name: {host}")


@pytest.fixture
async def guarded_rig(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> AsyncIterator[Rig]:
    running = await start_rig(
        tmp_path,
        fake_bot_api,
        feed_server,
        env={"ALLOW_PRIVATE_FEEDS": "false"},
        resolver=fake_resolver,
    )
    try:
        yield running
    finally:
        await stop_rig(running)


LOOPBACK_SPELLINGS = [
    "http://127.0.0.1:{port}/feed.xml",
    "http://localhost.:{port}/feed.xml",
    "http://localhost:{port}/feed.xml",
    "http://[::1]:{port}/feed.xml",
    "http://0:{port}/feed.xml",
    "http://0.0.0.0:{port}/feed.xml",
    "http://2130706433:{port}/feed.xml",
    "http://0x7f000001:{port}/feed.xml",
    "http://127.1:{port}/feed.xml",
    "http://0177.0.0.1:{port}/feed.xml",
    "http://[::ffff:127.0.0.1]:{port}/feed.xml",
    "http://loopback.example:{port}/feed.xml",
]

PRIVATE = [
    "http://10.0.0.1/feed.xml",
    "http://172.16.5.4/feed.xml",
    "http://192.168.0.1/feed.xml",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fc00::1]/feed.xml",
    "http://[fe80::1]/feed.xml",
    "http://intranet.example/feed.xml",
    "http://mixed.example/feed.xml",
    "http://v6-ula.example/feed.xml",
]


async def test_every_spelling_of_this_machine_is_refused(guarded_rig: Rig) -> None:
    rig = guarded_rig
    rig.feeds.set("/feed.xml", sample_feed(1))
    for spelling in LOOPBACK_SPELLINGS:
        url = spelling.format(port=rig.feeds.port)
        reply = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {url}")
        text = reply.plain_text or ""
        assert text.startswith("Not added"), (url, text)
        assert "refused" in text, (url, text)
    assert rig.feeds.requests == [], "a refused URL must not be requested"
    assert await rig.services.store.list_feeds() == []


async def test_private_ranges_are_refused_before_any_connection(guarded_rig: Rig) -> None:
    # conftest turns any connection beyond loopback into a test failure, so a
    # guard that let one of these through would fail here, not send traffic.
    rig = guarded_rig
    for url in PRIVATE:
        reply = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {url}")
        text = reply.plain_text or ""
        assert text.startswith("Not added"), (url, text)
        assert "private address" in text or "refused" in text, (url, text)
    assert await rig.services.store.list_feeds() == []

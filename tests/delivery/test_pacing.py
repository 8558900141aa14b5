"""Pacing: sends are spaced before they happen, so a fake that enforces Telegram's
flood limits (30 messages/s, 1/s per private chat, 20/min per group) never has to
answer 429; and the pacers themselves, with a clock the test moves."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from emulator import RateLimits
from jobs.pacing import GROUP_PER_WINDOW, GROUP_WINDOW, ChatPacer, GlobalPacer
from tests.support.delivery import outbox, start_delivery_rig
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import statement
from tests.support.rig import add_feed, publish, stop_rig, subscribe


@pytest.mark.slow
async def test_300_deliveries_at_telegrams_limits_get_no_429(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    env = {"BROADCAST_RATE": "30", "DELIVERY_CONCURRENCY": "4"}
    rig = await start_delivery_rig(tmp_path, fake_bot_api, feed_server, env=env, chat_pacing=True)
    try:
        feed = await add_feed(rig, statement(1, day=1))
        chats = list(range(20_001, 20_301))
        await subscribe(rig, feed, chats)
        # The fake shares the bot's event loop here, so it stamps a request when the
        # loop gets to it: on a busy machine a stalled loop hands it several at once.
        # More slack than the default for that; an unpaced bot still gets hundreds
        # of 429s, and the duration check below still holds it to 30/s.
        rig.api.enable_rate_limits(RateLimits(slack=0.2))

        await publish(rig, statement(2, day=2), statement(1, day=1))
        await rig.wait_delivered(within=20)
    finally:
        await stop_rig(rig)

    assert rig.api.count_429 == 0
    counts = rig.api.message_counts()
    assert all(counts.get(chat) == 1 for chat in chats)
    sends = [c.at for c in rig.api.calls_to("sendMessage")]
    assert len(sends) == 300
    # Paced, not merely lucky: 300 messages at 30/s take about ten seconds.
    assert sends[-1] - sends[0] >= 299 / 30 * 0.97
    assert {r.state for r in outbox(rig)} == {"sent"}


async def test_private_chats_get_one_message_a_second_without_429(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    rig = await start_delivery_rig(tmp_path, fake_bot_api, feed_server, chat_pacing=True)
    try:
        feed = await add_feed(rig, statement(1, day=1))
        chats = [21_001, 21_002, 21_003]
        await subscribe(rig, feed, chats)
        rig.api.enable_rate_limits(RateLimits())

        # Three statements for each chat in one poll (not a digest: that takes six).
        await publish(rig, *[statement(n, day=n) for n in (4, 3, 2, 1)])
        await rig.wait_delivered(within=10)
    finally:
        await stop_rig(rig)

    assert rig.api.count_429 == 0
    for chat in chats:
        times = [c.at for c in rig.api.calls_to("sendMessage") if c.params["chat_id"] == str(chat)]
        assert len(times) == 3
        assert all(b - a >= 0.95 for a, b in itertools.pairwise(times))


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_group_gets_at_most_20_messages_a_minute() -> None:
    clock = FakeMonotonic()
    pacer = ChatPacer(monotonic=clock)
    for _ in range(GROUP_PER_WINDOW):
        assert pacer.ready_at(-5, "group") <= clock.now
        pacer.record(-5, "group")
        clock.now += 1.0
    first = 1000.0
    assert pacer.ready_at(-5, "group") == first + GROUP_WINDOW
    assert pacer.ready_at(-6, "supergroup") <= clock.now  # another group is not held
    clock.now = first + GROUP_WINDOW
    pacer.record(-5, "group")
    assert pacer.ready_at(-5, "group") == first + 1.0 + GROUP_WINDOW


def test_a_private_chat_waits_a_second_and_memory_stays_flat() -> None:
    clock = FakeMonotonic()
    pacer = ChatPacer(monotonic=clock)
    pacer.record(7, "private")
    assert pacer.ready_at(7, "private") == clock.now + 1.0
    assert pacer.ready_at(8, "private") <= clock.now
    for chat in range(100_000):
        pacer.record(chat, "private")
        clock.now += 0.001
    # 100,000 chats went by; only those still waiting are remembered.
    assert len(pacer) < 20_000
    assert ChatPacer(enabled=False).ready_at(7, "private") == 0.0


async def test_global_pacer_spaces_sends_evenly_from_the_first() -> None:
    pacer = GlobalPacer(100.0)
    stamps = []
    for _ in range(21):
        assert await pacer.acquire()
        stamps.append(time.monotonic())
    # No bunch at the start: 21 sends at 100/s span at least 0.2 s.
    assert stamps[-1] - stamps[0] >= 0.2 * 0.98
    assert stamps[1] - stamps[0] >= 0.01 * 0.9


async def test_global_pacer_pause_holds_everyone_and_stop_cancels_the_wait() -> None:
    pacer = GlobalPacer(None)
    pacer.pause(0.2)
    start = time.monotonic()
    assert await pacer.acquire()
    assert time.monotonic() - start >= 0.19
    pacer.pause(30)
    stop = asyncio.Event()
    waiting = asyncio.ensure_future(pacer.acquire(stop))
    await asyncio.sleep(0)
    stop.set()
    assert await asyncio.wait_for(waiting, 1.0) is False
    assert await asyncio.wait_for(pacer.wait_unpaused(stop), 1.0) is False

"""Delivery against the fake Bot API: every new statement reaches every subscriber
once and in order, through 429 storms, blocked and vanished chats, a group that
becomes a supergroup, 5xx answers, a hang past the timeout and HTML Telegram
refuses; a burst becomes one digest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator import (
    Blocked,
    ChatNotFound,
    ConnectionReset,
    Delay,
    Kicked,
    Migrate,
    RetryAfter,
    ServerError,
)
from emulator.telegram_html import utf16_length
from tests.support.delivery import (
    FAST,
    outbox,
    running_rig,
    sends_to,
    start_delivery_rig,
    titles,
)
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry, statement
from tests.support.rig import ADMIN, Rig, add_feed, publish, stop_rig, subscribe

OLD = statement(1, day=1)


@pytest.fixture
async def rig(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> AsyncIterator[Rig]:
    async for running in running_rig(tmp_path, fake_bot_api, feed_server):
        yield running


async def test_429_storm_pauses_all_sending_then_resumes_dropping_nothing(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    chats = list(range(5001, 5013))
    await subscribe(rig, feed, chats)
    rig.api.inject(RetryAfter(1), times=2)

    await publish(rig, statement(2, day=2), OLD)
    await rig.wait_delivered(within=8)

    for chat in chats:
        assert titles(rig, chat) == ["Statement 2"], chat
    calls = rig.api.calls_to("sendMessage")
    limited = [c for c in calls if c.status == 429]
    assert len(limited) == 2
    assert rig.services.deliverer.counters.rate_limited == 2
    for hit in limited:
        # Within the second Telegram asked for, only requests already on their way
        # when the 429 came back may land: at most one per other sender.
        during = [c for c in calls if c.status == 200 and hit.at < c.at < hit.at + 0.95]
        assert len(during) <= 3, [(c.at - hit.at, c.status) for c in calls]
    assert calls[-1].at - limited[0].at >= 0.95
    assert {r.state for r in outbox(rig)} == {"sent"}


async def test_403_and_vanished_chats_become_inactive_and_the_rest_get_everything(
    rig: Rig,
) -> None:
    feed = await add_feed(rig, OLD)
    fine = [6001, 6002, 6003, 6004]
    blocked, kicked_group, gone = 6100, -6200, 6300
    await subscribe(rig, feed, [*fine, blocked, gone])
    await subscribe(rig, feed, [kicked_group], "group")
    rig.api.inject(Blocked(), chat_id=blocked)
    rig.api.inject(Kicked(), chat_id=kicked_group)
    rig.api.inject(ChatNotFound(), chat_id=gone)

    # Two statements in one poll: the second is still pending when the first fails.
    await publish(rig, statement(3, day=3), statement(2, day=2), OLD)
    await rig.wait_delivered()

    for chat in fine:
        assert titles(rig, chat) == ["Statement 2", "Statement 3"]
    store = rig.services.store
    reasons = {
        blocked: "blocked the bot",
        kicked_group: "removed the bot",
        gone: "chat not found",
    }
    for chat, reason in reasons.items():
        found = await store.get_chat(chat)
        assert (found.active, found.inactive_reason) == (False, reason)
        assert len(sends_to(rig, chat)) == 1  # one try, and nothing after it
        rows = [r for r in outbox(rig) if r.chat_id == chat]
        assert [(r.state, r.last_error) for r in rows] == [("cancelled", reason)] * 2
    stats = await rig.reply_to(ADMIN, ADMIN, "/stats")
    assert "3 inactive" in (stats.plain_text or "")
    assert "blocked the bot: 1" in (stats.plain_text or "")

    # The user who blocked the bot comes back with /start and gets what is new.
    await rig.reply_to(blocked, blocked, "/start")
    assert (await store.get_chat(blocked)).active
    await publish(rig, statement(4, day=4), statement(3, day=3), statement(2, day=2), OLD)
    await rig.wait_delivered()
    assert titles(rig, blocked)[-1] == "Statement 4"
    assert titles(rig, gone) == []
    for chat in fine:
        assert titles(rig, chat) == ["Statement 2", "Statement 3", "Statement 4"]


async def test_group_that_became_a_supergroup_keeps_its_subscription(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    old_id, new_id = -7001, -1007001
    await subscribe(rig, feed, [old_id], "group")
    rig.api.inject(Migrate(new_id), chat_id=old_id)

    await publish(rig, statement(2, day=2), OLD)
    await rig.wait_delivered()

    assert titles(rig, new_id) == ["Statement 2"]
    assert titles(rig, old_id) == []
    store = rig.services.store
    assert await store.find_chat(old_id) is None
    moved = await store.get_chat(new_id)
    assert (moved.type, moved.active) == ("supergroup", True)
    assert await store.subscriptions(new_id) == {feed}
    assert [(r.chat_id, r.state) for r in outbox(rig)] == [(new_id, "sent")]

    # The next statement goes straight to the new id.
    await publish(rig, statement(3, day=3), statement(2, day=2), OLD)
    await rig.wait_delivered()
    assert titles(rig, new_id) == ["Statement 2", "Statement 3"]
    assert len(sends_to(rig, old_id)) == 1


async def test_5xx_and_resets_are_retried_with_backoff_then_marked_failed(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    flaky, broken, fine = 8001, 8002, 8003
    await subscribe(rig, feed, [flaky, broken, fine])
    rig.api.inject(ServerError(502, "Bad Gateway"), chat_id=flaky)
    rig.api.inject(ConnectionReset(), chat_id=flaky)
    rig.api.inject(ServerError(), chat_id=broken, times=None)

    await publish(rig, statement(2, day=2), OLD)
    await rig.wait_delivered()

    assert titles(rig, flaky) == ["Statement 2"]
    assert titles(rig, fine) == ["Statement 2"]
    assert titles(rig, broken) == []
    attempts = [c.at for c in sends_to(rig, broken)]
    assert len(attempts) == FAST.max_attempts
    # Each wait doubles: 0.05 s, then 0.1 s.
    assert attempts[1] - attempts[0] >= FAST.backoff * 0.9
    assert attempts[2] - attempts[1] >= 2 * FAST.backoff * 0.9
    rows = {r.chat_id: r for r in outbox(rig)}
    assert rows[flaky].state == "sent"
    assert rows[broken].state == "failed"
    assert (rows[broken].last_error or "").startswith("gave up after 3 attempts: Internal")
    stats = await rig.reply_to(ADMIN, ADMIN, "/stats")
    assert "1 failed" in (stats.plain_text or "")
    # Admins were told (the alert itself is the third message sent).
    assert any("8002" in (m.plain_text or "") for m in rig.api.messages(ADMIN))


async def test_a_hang_past_the_timeout_is_sent_once_more_and_counted(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    rig = await start_delivery_rig(tmp_path, fake_bot_api, feed_server, read_timeout=0.5)
    try:
        feed = await add_feed(rig, OLD)
        hung, fine = 9001, 9002
        await subscribe(rig, feed, [hung, fine])
        # Telegram takes the message but answers too late: the bot cannot know.
        rig.api.inject(Delay(1.5), chat_id=hung)

        await publish(rig, statement(2, day=2), OLD)
        await rig.wait_delivered()

        assert titles(rig, hung) == ["Statement 2", "Statement 2"]
        assert titles(rig, fine) == ["Statement 2"]
        rows = {r.chat_id: r for r in outbox(rig)}
        assert (rows[hung].state, rows[hung].possible_duplicate) == ("sent", True)
        assert rows[hung].message_id == 2  # the answer that came back
        assert rows[fine].possible_duplicate is False
        assert rig.services.deliverer.counters.possible_duplicates == 1
        stats = await rig.reply_to(ADMIN, ADMIN, "/stats")
        assert "1 possible duplicates" in (stats.plain_text or "")
    finally:
        await stop_rig(rig)


async def test_html_telegram_cannot_parse_is_resent_as_plain_text(rig: Rig) -> None:
    chat = 9501
    rig.api.add_user(chat, "Pat")
    await rig.services.store.upsert_chat(chat, "private", "Pat")
    await rig.services.store.enqueue_text(chat, "<b>Daily counter <i>since</b> then</i>")

    await rig.wait_delivered()

    first, _resent = sends_to(rig, chat)
    assert first.status == 400 and "can't parse entities" in (first.description or "")
    (message,) = rig.api.messages(chat)
    assert message.parse_mode is None
    assert message.plain_text == "Daily counter since then"
    assert [r.state for r in outbox(rig)] == ["sent"]


async def test_each_chat_gets_statements_in_publication_order_even_after_a_retry(
    rig: Rig,
) -> None:
    feed = await add_feed(rig, OLD)
    chats = [9601, 9602, 9603, 9604, 9605]
    await subscribe(rig, feed, chats)
    # The first message of one chat fails once: its later ones must wait for it.
    rig.api.inject(ServerError(), chat_id=9603)

    # The feed lists newest first; publication order is 2, 3, 4, 5.
    newest_first = [statement(n, day=n) for n in (5, 4, 3, 2)]
    await publish(rig, *newest_first, OLD)
    await rig.wait_delivered()

    for chat in chats:
        assert titles(rig, chat) == [f"Statement {n}" for n in (2, 3, 4, 5)], chat
    assert len(sends_to(rig, 9603)) == 5


async def test_a_burst_of_statements_becomes_one_digest_per_chat(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    chats = [9701, 9702]
    await subscribe(rig, feed, chats)

    await publish(rig, *[statement(n, day=2, hour=n) for n in range(2, 9)], OLD)
    await rig.wait_delivered()

    for chat in chats:
        (digest,) = rig.api.messages(chat)
        lines = (digest.plain_text or "").split("\n")
        assert lines[0] == "7 new statements from Embassy statements"
        assert [line.split(" — ")[1] for line in lines[2:]] == [
            f"Statement {n}" for n in range(2, 9)
        ]
    assert {r.state for r in outbox(rig)} == {"sent"}
    assert len(outbox(rig)) == 14


async def test_a_long_digest_is_split_at_the_message_limit(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    chat = 9801
    await subscribe(rig, feed, [chat])
    burst = [
        Entry(f"s{n}", f"Statement {n} " + "word " * 50, "Lead.", statement(n, day=2).date)
        for n in range(2, 62)
    ]
    await publish(rig, *burst, OLD)
    await rig.wait_delivered()

    parts = rig.api.messages(chat)
    assert len(parts) >= 2
    for index, part in enumerate(parts, start=1):
        text = part.plain_text or ""
        assert utf16_length(text) <= 4096
        assert text.startswith(f"60 new statements from Embassy statements (part {index} of")
    listed = [line for part in parts for line in (part.plain_text or "").split("\n")[2:]]
    assert len(listed) == 60
    assert all(r.message_id is not None for r in outbox(rig))


async def test_stop_lets_the_send_in_flight_finish_and_a_restart_sends_the_rest(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    # One message a second: the broadcast is certainly unfinished when the bot stops.
    env = {"BROADCAST_RATE": "1", "DELIVERY_CONCURRENCY": "1"}
    rig = await start_delivery_rig(tmp_path, fake_bot_api, feed_server, env=env)
    chats = [9901, 9902, 9903, 9904]
    try:
        feed = await add_feed(rig, OLD)
        await subscribe(rig, feed, chats)
        rig.api.inject(Delay(0.3), chat_id=chats[0])
        await publish(rig, statement(2, day=2), OLD)
        await rig.api.wait_for(lambda: len(rig.api.calls_to("sendMessage")) == 1)
    finally:
        await stop_rig(rig)  # while the first request is held by the server

    assert len(rig.api.messages(chats[0])) == 1
    rows = outbox(rig)
    assert rows[0].state == "sent"  # its answer was waited for and recorded
    assert [r.state for r in rows[1:]] == ["pending"] * 3

    rig = await start_delivery_rig(tmp_path, fake_bot_api, feed_server)
    try:
        await rig.wait_delivered()
    finally:
        await stop_rig(rig)
    for chat in chats:
        assert titles(rig, chat) == ["Statement 2"], chat
    # Nothing was in doubt: the waiting sends were never started.
    assert [(r.state, r.possible_duplicate) for r in outbox(rig)] == [("sent", False)] * 4

"""The "Full text" button under pushes: every single-statement push of a statement
with more text than its summary carries it (alerts and corrections too; an edit
keeps it); a statement with no more text says so instead; digests and channel
posts carry none. Its parts are paced like every other send."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from emulator import RateLimits
from tests.support.commands import check_output, press
from tests.support.delivery import running_rig, start_delivery_rig
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry, statement
from tests.support.rig import Rig, add_feed, publish, stop_rig, subscribe
from text.markup import TELEGRAM_LIMIT, utf16_length
from text.statements import SUMMARY_ONLY_NOTE, UPDATED_MARK

CHAT = 7001
OLD = statement(1, day=1)


@pytest.fixture
async def rig(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> AsyncIterator[Rig]:
    async for running in running_rig(tmp_path, fake_bot_api, feed_server):
        yield running


def long_statement(guid: str = "long", title: str = "A long speech", day: int = 2) -> Entry:
    paragraphs = "".join(
        f"<p>Paragraph {n}. " + "The minister spoke about the grain corridor. " * 40 + "</p>"
        for n in range(14)
    )
    return Entry(guid, title, paragraphs, datetime(2021, 12, day, 10, tzinfo=UTC))


async def test_a_push_carries_the_button_and_pressing_it_sends_the_whole_text(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    await subscribe(rig, feed, [CHAT])
    await publish(rig, long_statement(), OLD)
    await rig.wait_delivered()

    [push] = rig.api.messages(CHAT)
    item = (await rig.services.store.latest_items(1))[0]
    assert len(item.content) > 20_000
    assert [(b["text"], b["callback_data"]) for b in push.buttons] == [
        ("Full text", f"ft:{item.id}")
    ]
    assert SUMMARY_ONLY_NOTE not in (push.plain_text or "")

    answer = await press(rig, push, CHAT, f"ft:{item.id}")
    await rig.services.replies.wait_idle()
    parts = rig.api.messages(CHAT)[1:]
    assert answer == f"Sending the full text in {len(parts)} messages."
    assert len(parts) > 4
    bodies = []
    for number, part in enumerate(parts, start=1):
        assert part.parse_mode is None
        assert utf16_length(part.text or "") <= TELEGRAM_LIMIT
        head, _, body = (part.text or "").partition("\n")
        assert head == f"{number}/{len(parts)}"
        bodies.append(body)
    pattern = r"\s*".join(re.escape(body) for body in bodies)
    assert re.fullmatch(pattern, f"{item.title}\n\n{item.content}")
    await check_output(rig)


async def test_a_statement_with_no_more_text_says_so_instead_of_a_button(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    await subscribe(rig, feed, [CHAT])
    await publish(rig, statement(2, day=2), OLD)
    await rig.wait_delivered()

    [push] = rig.api.messages(CHAT)
    assert push.buttons == []
    assert (push.plain_text or "").endswith(f"Read the statement\n{SUMMARY_ONLY_NOTE}")
    await check_output(rig)


async def test_a_correction_keeps_the_button(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    await subscribe(rig, feed, [CHAT])
    await publish(rig, long_statement(), OLD)
    await rig.wait_delivered()
    [push] = rig.api.messages(CHAT)
    buttons = push.buttons
    assert buttons

    # The ministry corrects the statement's title: the message is edited in place.
    await publish(rig, long_statement(title="A long speech (corrected)"), OLD)
    await rig.wait_delivered()
    assert len(rig.api.calls_to("editMessageText")) == 1
    [edited] = rig.api.messages(CHAT)
    assert edited.message_id == push.message_id
    assert (edited.plain_text or "").startswith(f"{UPDATED_MARK}\nA long speech (corrected)")
    assert edited.buttons == buttons
    await check_output(rig)


async def test_digests_and_channel_posts_carry_no_button(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    channel = -1001234
    await subscribe(rig, feed, [CHAT])
    await subscribe(rig, feed, [channel], "channel")

    # Six new statements in one poll: one digest per chat.
    await publish(rig, *[long_statement(f"l{n}", f"Speech {n}", day=2) for n in range(6)], OLD)
    await rig.wait_delivered()
    [digest] = rig.api.messages(CHAT)
    assert (digest.plain_text or "").startswith("6 new statements from")
    assert digest.buttons == []

    # One statement: the subscriber's push has the button, the channel's post none
    # (its readers would post full texts into the channel).
    await publish(rig, long_statement("one", "One more speech", day=3), OLD)
    await rig.wait_delivered()
    assert rig.api.messages(CHAT)[-1].buttons
    posts = rig.api.messages(channel)
    assert (posts[-1].plain_text or "").startswith("One more speech")
    assert posts[-1].buttons == []
    assert all(post.buttons == [] for post in posts)
    await check_output(rig)


async def test_the_parts_are_paced_like_every_send_with_no_429(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    rig = await start_delivery_rig(tmp_path, fake_bot_api, feed_server, chat_pacing=True)
    try:
        feed = await add_feed(rig, OLD)
        await subscribe(rig, feed, [CHAT])
        short = Entry(
            "mid",
            "A speech",
            "".join(
                f"<p>Paragraph {n}. " + "Words of the speech. " * 100 + "</p>" for n in range(3)
            ),
            datetime(2021, 12, 2, 10, tzinfo=UTC),
        )
        await publish(rig, short, OLD)
        await rig.wait_delivered()
        rig.api.enable_rate_limits(RateLimits())
        [push] = rig.api.messages(CHAT)
        await press(rig, push, CHAT, str(push.buttons[0]["callback_data"]))
        await rig.services.replies.wait_idle()
    finally:
        await stop_rig(rig)

    assert rig.api.count_429 == 0
    sends = [c.at for c in rig.api.calls_to("sendMessage") if c.params["chat_id"] == str(CHAT)]
    parts = rig.api.messages(CHAT)[1:]
    assert len(parts) >= 2
    assert len(sends) == 1 + len(parts)
    # One a second in a private chat, counting the push before them.
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(sends))

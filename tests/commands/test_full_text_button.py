"""The "Full text" button under /latest and /search entries: numbered like the
entries, absent (and said so) for a statement with no more text than its summary;
pressing it sends the whole stored text as plain text, in marked parts within
Telegram's limit, in the chat and topic it was pressed in, at most 5 a minute per
user; a statement no longer stored, or a button never made, gets a clear answer."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.full_text_button import FULL_TEXTS_PER_MINUTE, GONE, NOTHING_MORE, ON_ITS_WAY
from bot.replies import STALE_BUTTON
from emulator import SentMessage
from storage.models import Item
from tests.support.commands import button, check_output, data_of, press, text
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry
from tests.support.rig import OTHER, USER, Rig, add_feed, start_rig, stop_rig
from text.markup import TELEGRAM_LIMIT, utf16_length

MARKER = re.compile(r"\A(\d+)/(\d+)\n")


@pytest.fixture
async def rig(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> AsyncIterator[Rig]:
    # No per-chat spacing: the parts of a full text come at once (pacing is
    # tested with it on, in tests/delivery/test_full_text_push.py).
    running = await start_rig(tmp_path, fake_bot_api, feed_server, chat_pacing=False)
    try:
        yield running
    finally:
        await stop_rig(running)


def paragraphs(n: int, words: int = 60) -> list[str]:
    return [
        f"Paragraph {i}: " + " ".join(f"sanctions{k} were discussed again" for k in range(words))
        for i in range(n)
    ]


def long_entry(guid: str = "long", day: int = 3, count: int = 20, month: int = 12) -> Entry:
    """A statement of `count` paragraphs (20: well over 20,000 characters)."""
    html = "".join(f"<p>{p}</p>" for p in paragraphs(count))
    when = datetime(2021, month, day, 10, tzinfo=UTC)
    return Entry(guid, f"Long statement {guid}", html, when)


def short_entry(guid: str = "short", day: int = 2) -> Entry:
    """A statement whose whole text is its summary."""
    return Entry(
        guid, "Salisbury comment", "<p>Only a short comment.</p>", datetime(2021, 12, day, 9)
    )


def two_paragraphs(guid: str = "two", day: int = 1) -> Entry:
    return Entry(
        guid,
        "Two paragraphs",
        "<p>The lead paragraph.</p><p>A second paragraph the summary leaves out.</p>",
        datetime(2021, 12, day, 9, tzinfo=UTC),
    )


async def stored(rig: Rig, guid: str) -> Item:
    for item in await rig.services.store.latest_items(100):
        if item.guid == guid:
            return item
    raise AssertionError(f"no statement {guid}")


async def parts_after(rig: Rig, chat_id: int, before: int) -> list[SentMessage]:
    """The messages a press sent, once they are all out."""
    await rig.services.replies.wait_idle()
    return rig.api.messages(chat_id)[before:]


def check_parts(parts: list[SentMessage], item: Item) -> None:
    """Plain text, numbered 1/n…n/n, each within Telegram's limit, together exactly
    the stored title and text (only whitespace is dropped at a cut)."""
    assert len(parts) > 1
    bodies = []
    for number, part in enumerate(parts, start=1):
        assert part.parse_mode is None  # plain: nothing in a statement is markup
        assert part.buttons == []
        body = part.text or ""
        assert utf16_length(body) <= TELEGRAM_LIMIT
        found = MARKER.match(body)
        assert found, body[:40]
        assert (int(found[1]), int(found[2])) == (number, len(parts))
        bodies.append(body[found.end() :])
    whole = f"{item.title}\n\n{item.content}"
    assert re.fullmatch(r"\s*".join(re.escape(b) for b in bodies), whole)


async def test_latest_and_search_number_their_entries_with_a_button_each(rig: Rig) -> None:
    await add_feed(rig, long_entry(), short_entry(), two_paragraphs())
    long_item, short_item, two_item = [await stored(rig, g) for g in ("long", "short", "two")]

    latest = await rig.reply_to(USER, USER, "/latest")
    lines = text(latest).splitlines()
    assert lines[2] == "1. 3 December 2021 · Embassy statements"
    assert "\n2. 2 December 2021 · Embassy statements · summary only\n" in text(latest)
    assert "\n3. 1 December 2021 · Embassy statements\n" in text(latest)
    # The statement with nothing more than its summary has no button.
    assert data_of(latest) == [f"ft:{long_item.id}", f"ft:{two_item.id}"]
    assert button(latest, "Full text 1") == f"ft:{long_item.id}"
    assert button(latest, "Full text 3") == f"ft:{two_item.id}"
    assert all(len(d.encode()) < 64 for d in data_of(latest))
    del short_item

    found = await rig.reply_to(USER, USER, "/search sanctions7")
    assert text(found).splitlines()[2].startswith("1. 3 December 2021 · Long statement long")
    assert data_of(found) == [f"ft:{long_item.id}"]
    short = await rig.reply_to(USER, USER, "/search Salisbury")
    assert "1. 2 December 2021 · Salisbury comment · summary only" in text(short)
    assert short.buttons == []
    await check_output(rig)


async def test_full_text_of_a_statement_over_20000_characters_in_marked_parts(rig: Rig) -> None:
    await add_feed(rig, long_entry())
    item = await stored(rig, "long")
    assert len(item.content) > 20_000

    latest = await rig.reply_to(USER, USER, "/latest 1")
    before = len(rig.api.messages(USER))
    answer = await press(rig, latest, USER, button(latest, "Full text 1"))
    parts = await parts_after(rig, USER, before)
    assert answer == f"Sending the full text in {len(parts)} messages."
    check_parts(parts, item)
    assert len(parts) >= 6
    await check_output(rig)


async def test_buttons_on_older_pages_and_search_pages_keep_working(rig: Rig) -> None:
    entries = [long_entry(f"l{n}", day=n, count=3, month=11) for n in range(1, 9)]
    await add_feed(rig, *entries)

    latest = await rig.reply_to(USER, USER, "/latest 3")
    await press(rig, latest, USER, button(latest, "Older"))
    page = rig.api.message(USER, latest.message_id)
    assert page is not None
    assert button(page, "Full text 4") == f"ft:{(await stored(rig, 'l5')).id}"
    before = len(rig.api.messages(USER))
    await press(rig, page, USER, button(page, "Full text 4"))
    parts = await parts_after(rig, USER, before)
    assert (parts[0].text or "").split("\n", 1)[0] in ("1/2", "Long statement l5")
    assert "Long statement l5" in (parts[0].text or "")

    found = await rig.reply_to(USER, USER, "/search discussed")
    await press(rig, found, USER, button(found, "More"))
    more = rig.api.message(USER, found.message_id)
    assert more is not None
    assert "Full text 6" in [b["text"] for b in more.buttons]
    before = len(rig.api.messages(USER))
    await press(rig, more, USER, button(more, "Full text 6"))
    assert await parts_after(rig, USER, before)
    await check_output(rig)


async def test_full_texts_are_limited_per_user(rig: Rig) -> None:
    await add_feed(rig, *[long_entry(f"l{n}", day=n, count=1, month=11) for n in range(1, 8)])
    latest = await rig.reply_to(USER, USER, "/latest 7")
    for number in range(1, FULL_TEXTS_PER_MINUTE + 1):
        answer = await press(rig, latest, USER, button(latest, f"Full text {number}"))
        assert answer == "Sending the full text."
        await rig.services.replies.wait_idle()
    before = len(rig.api.messages(USER))

    answer = await press(rig, latest, USER, button(latest, "Full text 6"))
    assert answer.startswith("That is a lot of reading: at most 5 full texts a minute.")
    assert re.search(r"Please try again in \d+ seconds?\.$", answer)
    assert await parts_after(rig, USER, before) == []
    # The answer is an alert the user must dismiss, not a toast that flashes by.
    last = rig.api.calls_to("answerCallbackQuery")[-1]
    assert last.params.get("show_alert") in (True, "true", "True")

    # Someone else is not held back by it; and a minute later the user may again.
    other = await rig.reply_to(OTHER, OTHER, "/latest 1")
    assert await press(rig, other, OTHER, button(other, "Full text 1")) == (
        "Sending the full text."
    )
    rig.clock.advance(seconds=61)
    assert await press(rig, latest, USER, button(latest, "Full text 6")) == (
        "Sending the full text."
    )
    await rig.services.replies.wait_idle()
    await check_output(rig)


async def test_a_second_press_while_it_is_being_sent_is_not_sent_twice(rig: Rig) -> None:
    await add_feed(rig, long_entry())
    latest = await rig.reply_to(USER, USER, "/latest 1")
    data = button(latest, "Full text 1")
    # The parts wait for a 429 pause: the reply is still on its way at the second press.
    rig.services.deliverer.pacer.pause(1.0)
    await press(rig, latest, USER, data)
    assert await press(rig, latest, USER, data) == ON_ITS_WAY
    before = len(rig.api.messages(USER))
    await rig.services.replies.wait_idle()
    assert len(rig.api.messages(USER)) > before
    starts = [m for m in rig.api.messages(USER) if (m.text or "").startswith("1/")]
    assert len(starts) == 1
    await check_output(rig)


async def test_refused_presses_get_a_clear_answer_and_send_nothing(rig: Rig) -> None:
    await add_feed(rig, long_entry(), short_entry())
    latest = await rig.reply_to(USER, USER, "/latest 2")
    short_item = await stored(rig, "short")
    long_item = await stored(rig, "long")
    before = len(rig.api.messages(USER))

    # A modified client asking for the full text of a statement that has none, and
    # buttons this message never had.
    assert await press(rig, latest, USER, f"ft:{short_item.id}", forge=True) == STALE_BUTTON
    for data in ("ft:", "ft:x", "ft:-1", "ft:1e3", "ft:" + "9" * 40, f"ft:{long_item.id}:1"):
        assert await press(rig, latest, USER, data, forge=True) == STALE_BUTTON

    # A statement that is no longer stored.
    with sqlite3.connect(rig.settings.database_path) as db:
        db.execute("DELETE FROM items WHERE id = ?", (long_item.id,))
    assert await press(rig, latest, USER, button(latest, "Full text 1")) == GONE
    assert rig.api.messages(USER)[before:] == []
    await check_output(rig)


async def test_a_press_under_a_statement_whose_text_was_cut_back_says_there_is_no_more(
    rig: Rig,
) -> None:
    await add_feed(rig, two_paragraphs())
    latest = await rig.reply_to(USER, USER, "/latest 1")
    item = await stored(rig, "two")
    # Since the list was sent, the statement's text became its summary alone.
    with sqlite3.connect(rig.settings.database_path) as db:
        db.execute("UPDATE items SET content = summary WHERE id = ?", (item.id,))
    before = len(rig.api.messages(USER))
    assert await press(rig, latest, USER, button(latest, "Full text 1")) == NOTHING_MORE
    assert rig.api.messages(USER)[before:] == []
    await check_output(rig)


async def test_the_full_text_goes_to_the_group_and_topic_it_was_pressed_in(rig: Rig) -> None:
    forum = -100777
    rig.api.add_chat(forum, "supergroup", title="Forum", members=[USER], is_forum=True)
    topic = rig.api.create_topic(forum, "Statements")
    await add_feed(rig, long_entry())
    item = await stored(rig, "long")

    before = len(rig.api.messages(forum))
    rig.api.send_text(forum, USER, "/latest 1", thread_id=topic)
    latest = (await rig.api.wait_for_messages(forum, before + 1))[-1]
    assert latest.thread_id == topic
    before = len(rig.api.messages(forum))
    await press(rig, latest, USER, button(latest, "Full text 1"))
    parts = await parts_after(rig, forum, before)
    check_parts(parts, item)
    assert {p.thread_id for p in parts} == {topic}
    assert rig.api.messages(USER) == []
    await check_output(rig)

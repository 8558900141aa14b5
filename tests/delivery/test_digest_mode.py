"""Digest mode: a chat that asked for one message a day gets the day's statements in
one digest at its daily time, just before the counter message; split only when
Telegram's limit demands, and a restart in the middle resends nothing already sent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from emulator import RetryAfter, SentMessage
from tests.support.commands import text
from tests.support.delivery import outbox, start_delivery_rig
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry
from tests.support.rig import USER, Rig, add_feed, publish, stop_rig, subscribe
from text.markup import TELEGRAM_LIMIT, utf16_length

OLD = Entry("old", "Backlog", "Stored when the feed was added.", datetime(2021, 11, 1, tzinfo=UTC))
NINE_LONDON = datetime(2021, 12, 3, 9, 0, 5, tzinfo=UTC)


def day_entry(n: int, *, title: str | None = None) -> Entry:
    return Entry(
        f"d{n}",
        title or f"Statement of the day {n}",
        f"<p>What statement {n} says, in one line.</p><p>More that the digest leaves out.</p>",
        datetime(2021, 12, 2, 10, n - 1, tzinfo=UTC),
    )


async def digest_chat(rig: Rig) -> int:
    feed = await add_feed(rig, OLD)
    await subscribe(rig, feed, [USER])
    answer = text(await rig.reply_to(USER, USER, "/settings pushes digest"))
    assert answer.startswith("New statements: one digest a day")
    return feed


async def test_statements_wait_for_the_daily_digest_before_the_counter_message(rig: Rig) -> None:
    await digest_chat(rig)
    before = len(rig.api.messages(USER))
    await publish(rig, OLD, day_entry(1), day_entry(2), day_entry(3))
    await rig.wait_delivered()
    assert len(rig.api.messages(USER)) == before  # held, not pushed
    assert [r.state for r in outbox(rig) if r.chat_id == USER and r.item_id] == ["held"] * 3

    rig.clock.set(NINE_LONDON)
    await rig.run_job("daily")
    await rig.wait_delivered()
    digest, daily = rig.api.messages(USER)[before:]
    lines = (digest.plain_text or "").split("\n")
    assert lines[0] == "Your daily digest: 3 new statements"
    assert lines[2:5] == [
        "Statement of the day 1",
        "2 December 2021 · Embassy statements",
        "What statement 1 says, in one line.",
    ]
    assert "More that the digest leaves out" not in (digest.plain_text or "")
    # Titles link to the statements.
    assert '<a href="https://embassy.example/statements/d3">Statement of the day 3</a>' in (
        digest.text or ""
    )
    assert (daily.plain_text or "").startswith("3 December 2021\nMoscow: 12:00\nLondon: 09:00")

    # Later the same day nothing more comes; a statement after the digest waits a day.
    await publish(rig, OLD, day_entry(1), day_entry(2), day_entry(3), day_entry(4))
    rig.clock.set(datetime(2021, 12, 3, 18, 0, tzinfo=UTC))
    await rig.run_job("daily")
    await rig.wait_delivered()
    assert len(rig.api.messages(USER)) == before + 2
    rig.clock.set(datetime(2021, 12, 4, 9, 0, 5, tzinfo=UTC))
    await rig.run_job("daily")
    await rig.wait_delivered()
    next_digest = rig.api.messages(USER)[before + 2]
    assert (next_digest.plain_text or "").startswith("Your daily digest: 1 new statement\n")


async def test_a_chat_without_the_daily_message_still_gets_its_digest(rig: Rig) -> None:
    await digest_chat(rig)
    await rig.reply_to(USER, USER, "/settings daily off")
    before = len(rig.api.messages(USER))
    await publish(rig, OLD, day_entry(1))
    rig.clock.set(NINE_LONDON)
    await rig.run_job("daily")
    await rig.wait_delivered()
    [digest] = rig.api.messages(USER)[before:]
    assert (digest.plain_text or "").startswith("Your daily digest: 1 new statement")


async def test_back_to_instant_sends_what_was_held_at_once(rig: Rig) -> None:
    await digest_chat(rig)
    await publish(rig, OLD, day_entry(1), day_entry(2))
    before = len(rig.api.messages(USER))
    rig.api.send_text(USER, USER, "/settings pushes instant")
    # The confirmation and the released digest, in whichever order they go.
    both = await rig.api.wait_for_messages(USER, before + 2)
    firsts = sorted(text(m).split("\n")[0] for m in both[before:])
    assert firsts == ["New statements: each as it comes", "Your daily digest: 2 new statements"]
    await publish(rig, OLD, day_entry(1), day_entry(2), day_entry(3))
    await rig.wait_delivered()
    assert rig.texts(USER)[-1].startswith("Statement of the day 3")


async def test_a_long_digest_is_split_only_as_telegram_demands(rig: Rig) -> None:
    await digest_chat(rig)
    long_title = "A statement with a long title about many things " * 4
    entries = [day_entry(n, title=f"{n}. {long_title}") for n in range(1, 61)]
    await publish(rig, OLD, *entries)
    before = len(rig.api.messages(USER))
    rig.clock.set(NINE_LONDON)
    await rig.run_job("daily")
    await rig.wait_delivered()
    parts = rig.api.messages(USER)[before:-1]  # the last one is the counter message
    assert len(parts) > 1
    for number, part in enumerate(parts, start=1):
        plain = part.plain_text or ""
        assert plain.startswith(
            f"Your daily digest: 60 new statements (part {number} of {len(parts)})"
        )
        assert utf16_length(plain) <= TELEGRAM_LIMIT
    listed = [
        line
        for part in parts
        for line in (part.plain_text or "").split("\n")
        if line.endswith(long_title.strip())
    ]
    assert [line.split(".")[0] for line in listed] == [str(n) for n in range(1, 61)]
    # Fewer parts would not fit: each part but the last is nearly full.
    for part in parts[:-1]:
        assert utf16_length(part.plain_text or "") > TELEGRAM_LIMIT * 0.8


async def test_a_restart_in_the_middle_of_a_digest_resends_nothing_already_sent(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    long_title = "A statement with a long title about many things " * 4

    def listed(messages: list[SentMessage]) -> list[int]:
        return [
            int(line.split(".")[0])
            for message in messages
            for line in (message.plain_text or "").split("\n")
            if line.endswith(long_title.strip())
        ]

    rig = await start_delivery_rig(tmp_path, fake_bot_api, feed_server)
    try:
        await digest_chat(rig)
        entries = [day_entry(n, title=f"{n}. {long_title}") for n in range(1, 61)]
        await publish(rig, OLD, *entries)
        before = len(rig.api.messages(USER))
        # The first part goes out; Telegram answers the second with a long 429, and
        # the bot is stopped while it waits (a deploy in the middle of the digest).
        rig.api.inject(RetryAfter(120), chat_id=USER, after=1)
        rig.clock.set(NINE_LONDON)
        await rig.run_job("daily")
        await rig.api.wait_for_call("sendMessage", len(rig.api.calls_to("sendMessage")) + 2)
    finally:
        await stop_rig(rig)
    first = rig.api.messages(USER)[before:]
    assert len(first) == 1
    in_first = listed(first)
    assert in_first == list(range(1, len(in_first) + 1))
    # Each part is confirmed as it goes: its statements are sent, the rest wait.
    states = [r.state for r in outbox(rig) if r.chat_id == USER and r.item_id]
    assert states.count("sent") == len(in_first)
    assert states.count("pending") == 60 - len(in_first)

    # Started again after Telegram's pause: the rest arrive, none of the first again.
    rig.clock.advance(seconds=180)
    restarted = await start_delivery_rig(tmp_path, fake_bot_api, feed_server, clock=rig.clock)
    try:
        await restarted.wait_delivered(10)
    finally:
        await stop_rig(restarted)
    later = [
        m for m in rig.api.messages(USER)[before + 1 :] if "daily digest" in (m.plain_text or "")
    ]
    assert sorted(listed(later)) == list(range(len(in_first) + 1, 61))
    states = [r.state for r in outbox(rig) if r.chat_id == USER and r.item_id]
    assert states == ["sent"] * 60

"""/feedstatus (every feed's health, paged with buttons) and /stats (chats, deliveries,
the queue), as an admin sees them."""

from __future__ import annotations

import re

from emulator import Blocked
from tests.support.commands import press
from tests.support.feeds import sample_feed
from tests.support.rig import ADMIN, OTHER, USER, Rig


async def _add_feeds(rig: Rig, count: int) -> None:
    """`count` feeds on the feed server, added to the store (as an OPML import would)."""
    pairs = []
    for n in range(1, count + 1):
        rig.feeds.set(f"/f{n}.xml", sample_feed(n, items=n % 4), etag=f'"{n}"')
        pairs.append((rig.feeds.url(f"/f{n}.xml"), None))
    added, _ = await rig.services.store.add_feeds(pairs)
    assert len(added) == count


def _block(text: str, feed_id: int) -> str:
    """The lines /feedstatus shows for one feed."""
    for block in text.split("\n\n"):
        if block.startswith(f"{feed_id}. "):
            return block
    raise AssertionError(f"feed {feed_id} is not on this page:\n{text}")


async def test_feedstatus_shows_each_feeds_health_paged(rig: Rig) -> None:
    await _add_feeds(rig, 25)
    rig.feeds.set_status("/f3.xml", 500)
    await rig.reply_to(USER, USER, "/subscribe 1")
    await rig.reply_to(OTHER, OTHER, "/subscribe 1")
    for _ in range(3):
        await rig.reply_to(ADMIN, ADMIN, "/pollnow")
        rig.clock.advance(minutes=1)
    await rig.wait_delivered()  # the alert about feed 3, so it is not taken for a reply
    await rig.reply_to(ADMIN, ADMIN, "/pausefeed 2")

    first = await rig.reply_to(ADMIN, ADMIN, "/feedstatus")
    text = first.plain_text or ""
    assert text.startswith("Feeds, page 1 of 3\n\n")
    assert re.findall(r"^(\d+)\. ", text, re.M) == [str(n) for n in range(1, 11)]
    assert _block(text, 1).splitlines() == [
        "1. Feed 1 — ok",
        rig.feeds.url("/f1.xml"),
        # Europe/London in December is UTC; the clock started at 04:30.
        "last success: 2021-12-03 04:32; next poll: " + _next_poll(_block(text, 1)),
        "statements: 1; subscribers: 2",
    ]
    failing = _block(text, 3).splitlines()
    # Never fetched: no title of its own yet, so its URL stands in.
    assert failing[0] == f"3. {rig.feeds.url('/f3.xml')} — failing"
    assert failing[2].startswith("last success: never; next poll: 2021-12-03 ")
    assert failing[3] == "statements: 0; subscribers: 0"
    assert failing[4].startswith("last error (2021-12-03 04:32, 3 in a row): ")
    assert "500" in failing[4]
    paused = _block(text, 2).splitlines()
    assert paused[0] == "2. Feed 2 — paused"
    assert paused[2].endswith("next poll: —")
    assert [b["callback_data"] for b in first.buttons] == ["fs:1"]

    await press(rig, first, ADMIN, "fs:1")
    await rig.api.wait_for_call("editMessageText", 1)
    second = rig.api.message(ADMIN, first.message_id)
    assert second is not None
    assert (second.plain_text or "").startswith("Feeds, page 2 of 3\n\n")
    assert re.findall(r"^(\d+)\. ", second.plain_text or "", re.M) == [
        str(n) for n in range(11, 21)
    ]
    assert [b["callback_data"] for b in second.buttons] == ["fs:0", "fs:2"]

    await press(rig, second, ADMIN, "fs:2")
    await rig.api.wait_for_call("editMessageText", 2)
    third = rig.api.message(ADMIN, first.message_id)
    assert third is not None
    assert re.findall(r"^(\d+)\. ", third.plain_text or "", re.M) == [str(n) for n in range(21, 26)]
    assert "statements: 1; subscribers: 0" in _block(third.plain_text or "", 25)
    assert [b["callback_data"] for b in third.buttons] == ["fs:1"]


def _next_poll(block: str) -> str:
    match = re.search(r"next poll: (\d{4}-\d\d-\d\d \d\d:\d\d)", block)
    assert match, block
    return match.group(1)


async def test_feedstatus_without_feeds(rig: Rig) -> None:
    answer = await rig.reply_to(ADMIN, ADMIN, "/feedstatus")
    assert answer.plain_text == "No feeds yet. Add one with /addfeed URL."
    assert answer.buttons == []


async def test_stats_counts_chats_deliveries_and_the_queue(rig: Rig) -> None:
    rig.feeds.set("/feed.xml", sample_feed(1, items=2), etag='"1"')
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/feed.xml')}")
    for chat in (USER, OTHER):
        await rig.reply_to(chat, chat, "/subscribe all")
    rig.api.add_chat(-1009, "channel", title="Wire", username="wirechan")
    await rig.reply_to(ADMIN, ADMIN, "/addchannel @wirechan")

    # A new statement: USER gets it, OTHER has blocked the bot, the channel took away
    # the bot's right to post (failed for good).
    rig.api.inject(Blocked(), chat_id=OTHER)
    rig.api.chats[-1009].bot_can_post = False
    rig.feeds.set("/feed.xml", sample_feed(1, items=3), etag='"2"')
    rig.clock.advance(minutes=10)
    await rig.run_job("poll")
    await rig.wait_delivered()
    sent_to_user = await rig.services.store.outbox_rows_for_chat(USER)
    assert [r.state for r in sent_to_user] == ["sent"]
    # One send whose answer never came (a timeout) counts as a possible duplicate.
    await rig.services.store.mark_possible_duplicate([sent_to_user[0].id])

    # Delivery stops (as during an outage): the next statement waits in the outbox.
    await rig.services.deliverer.stop()
    rig.feeds.set("/feed.xml", sample_feed(1, items=4), etag='"3"')
    rig.clock.advance(minutes=10)
    await rig.run_job("poll")
    rig.clock.advance(seconds=95)

    answer = await rig.reply_to(ADMIN, ADMIN, "/stats")
    lines = (answer.plain_text or "").splitlines()
    assert lines[:5] + lines[6:] == [
        "Statistics",
        # USER, the channel, and ADMIN (who got an alert about the channel)
        "Chats: 3 active, 1 inactive (blocked the bot: 1)",
        "Subscriptions: 3",
        "Feeds: 1; statements: 4",
        # sent: the statement to USER and the alert to ADMIN; failed: the channel's
        "Last 24 hours: 2 sent, 1 failed, 1 possible duplicates",
        # the next statement, for USER and the channel
        "Outbox: 2 pending; oldest 1 min 35 s old",
        "Saved searches: 0 alert(s), 0 filter(s)",
        "Daily digests: 0 chat(s), 0 statement(s) held for them",
    ]
    # Why it failed, as Telegram said it.
    assert lines[5].startswith("Failed 1 × refused by Telegram:"), lines[5]

    # A day later the deliveries of the last 24 hours are gone from the count.
    rig.clock.advance(days=1)
    later = await rig.reply_to(ADMIN, ADMIN, "/stats")
    assert "Last 24 hours: 0 sent, 0 failed, 0 possible duplicates" in (later.plain_text or "")

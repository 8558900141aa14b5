"""Channels as subscribers: /addchannel checks with getChatMember that the bot may
post and explains what to do when it may not; the channel gets statements and
its daily message by its own settings (`/settings @channel …`); /removechannel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.channels import parse_channel_ref, parse_channel_settings, parse_feed_selection
from tests.support.feeds import sample_feed
from tests.support.rig import ADMIN, USER, Rig

CHANNEL = -1001234567890


async def _add_two_feeds(rig: Rig) -> None:
    for n in (1, 2):
        rig.feeds.set(f"/f{n}.xml", sample_feed(n, items=2), etag=f'"{n}a"')
        await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url(f'/f{n}.xml')}")


async def test_addchannel_by_name_subscribes_and_receives_statements(rig: Rig) -> None:
    await _add_two_feeds(rig)
    rig.api.add_chat(CHANNEL, "channel", title="Embassy <news>", username="embassynews")

    added = await rig.reply_to(ADMIN, ADMIN, "/addchannel @embassynews")
    text = added.plain_text or ""
    assert text.startswith("The channel receives new statements now (newly subscribed: 1, 2).")
    assert "Embassy <news> (@embassynews)\nfeeds: 1, 2; daily message: 09:00 Europe/London" in text
    assert "<b>Embassy &lt;news&gt;</b>" in (added.text or "")
    checks = rig.api.calls_to("getChatMember")
    assert [(c.params["chat_id"], c.params["user_id"]) for c in checks] == [
        (str(CHANNEL), str(rig.api.bot.id))
    ]
    # Its backlog is not pushed; a new statement is.
    rig.feeds.set("/f2.xml", sample_feed(2, items=3), etag='"2b"')
    rig.clock.advance(minutes=10)
    await rig.run_job("poll")
    await rig.wait_delivered()
    posts = rig.texts(CHANNEL)
    assert len(posts) == 1
    assert posts[0].startswith("Statement 2-2\n")


async def test_addchannel_by_id_with_some_feeds_then_more(rig: Rig) -> None:
    await _add_two_feeds(rig)
    rig.api.add_chat(CHANNEL, "channel", title="Private wire")
    added = await rig.reply_to(ADMIN, ADMIN, f"/addchannel {CHANNEL} 2")
    assert "newly subscribed: 2)" in (added.plain_text or "")
    assert f"Private wire ({CHANNEL})\nfeeds: 2;" in (added.plain_text or "")
    more = await rig.reply_to(ADMIN, ADMIN, f"/addchannel {CHANNEL} 1,2")
    assert "newly subscribed: 1)" in (more.plain_text or "")
    assert await rig.services.store.subscriptions(CHANNEL) == {1, 2}


@pytest.mark.parametrize(
    ("status", "can_post", "explains"),
    [
        ("member", True, "The bot is not an administrator of News"),
        ("left", True, "The bot is not an administrator of News"),
        ("administrator", False, "may not post messages"),
    ],
)
async def test_addchannel_explains_when_the_bot_may_not_post(
    rig: Rig, status: str, can_post: bool, explains: str
) -> None:
    await _add_two_feeds(rig)
    rig.api.add_chat(
        CHANNEL,
        "channel",
        title="News",
        username="newschan",
        bot_status=status,  # type: ignore[arg-type]
        bot_can_post=can_post,
    )
    answer = await rig.reply_to(ADMIN, ADMIN, "/addchannel @newschan all")
    text = answer.plain_text or ""
    assert text.startswith("Not added. ")
    assert explains in text
    assert "“Post messages”" in text
    assert "/addchannel again" in text
    assert await rig.services.store.find_channel(CHANNEL) is None
    assert await rig.services.store.subscriptions(CHANNEL) == set()


async def test_addchannel_refuses_unknown_names_groups_and_bad_arguments(rig: Rig) -> None:
    await _add_two_feeds(rig)
    rig.api.add_chat(-500, "supergroup", title="Chatter", username="chattergroup")
    unknown = await rig.reply_to(ADMIN, ADMIN, "/addchannel @nosuchchannel")
    assert (unknown.plain_text or "").startswith(
        "Not added. Telegram does not show the bot a channel @nosuchchannel (Chat not found)."
    )
    group = await rig.reply_to(ADMIN, ADMIN, "/addchannel @chattergroup")
    assert "@chattergroup is a supergroup, not a channel." in (group.plain_text or "")
    for command in ("/addchannel", "/addchannel news", "/addchannel @x"):
        usage = await rig.reply_to(ADMIN, ADMIN, command)
        assert (usage.plain_text or "").startswith("Usage: /addchannel @name|-100…")
    bad_feed = await rig.reply_to(ADMIN, ADMIN, "/addchannel @chattergroup 7")
    assert bad_feed.plain_text == (
        "There is no feed 7; /feedstatus lists the ids. Nothing changed."
    )
    assert await rig.services.store.list_channels() == []


async def test_channel_settings_and_daily_message(rig: Rig) -> None:
    await _add_two_feeds(rig)
    await rig.reply_to(ADMIN, ADMIN, "/addcounter 2018-03-04 Europe/Moscow {days} days since")
    rig.api.add_chat(CHANNEL, "channel", title="News", username="newschan")
    await rig.reply_to(ADMIN, ADMIN, "/addchannel @newschan all")

    saved = await rig.reply_to(ADMIN, ADMIN, "/settings @newschan time 07:30 zone Europe/Moscow")
    assert (saved.plain_text or "").splitlines() == [
        "Saved.",
        "News (@newschan)",
        "feeds: 1, 2; daily message: 07:30 Europe/Moscow",
    ]
    shown = await rig.reply_to(ADMIN, ADMIN, f"/settings {CHANNEL}")
    assert (shown.plain_text or "").startswith("Settings of the channel:\nNews (@newschan)")

    for command, reason in [
        ("/settings @newschan time 25:00", "is not a time as HH:MM"),
        ("/settings @newschan zone Mars/Olympus", "is not a time zone"),
        ("/settings @newschan daily maybe", "daily is on or off"),
        ("/settings @newschan colour blue", "is not a setting"),
        ("/settings @newschan time", "give each setting a value"),
    ]:
        refused = await rig.reply_to(ADMIN, ADMIN, command)
        assert reason in (refused.plain_text or ""), command
        assert (refused.plain_text or "").endswith("Nothing changed.")
    unknown = await rig.reply_to(ADMIN, ADMIN, "/settings @otherchan time 08:00")
    assert "@otherchan is not one of the bot's channels" in (unknown.plain_text or "")

    # 07:30 Moscow is 04:30 UTC: the channel's daily message goes then, not at 09:00 London.
    rig.clock.set(datetime(2021, 12, 3, 4, 29, tzinfo=UTC))
    await rig.run_job("daily")
    await rig.wait_delivered()
    assert rig.texts(CHANNEL) == []
    rig.clock.set(datetime(2021, 12, 3, 4, 30, tzinfo=UTC))
    await rig.run_job("daily")
    await rig.wait_delivered()
    [daily] = rig.texts(CHANNEL)
    assert "1370 days since" in daily

    off = await rig.reply_to(ADMIN, ADMIN, "/settings @newschan daily off")
    assert "daily message: off" in (off.plain_text or "")
    rig.clock.set(datetime(2021, 12, 4, 4, 30, tzinfo=UTC))
    await rig.run_job("daily")
    await rig.wait_delivered()
    assert len(rig.texts(CHANNEL)) == 1


async def test_removechannel_some_feeds_then_all(rig: Rig) -> None:
    await _add_two_feeds(rig)
    rig.api.add_chat(CHANNEL, "channel", title="News", username="newschan")
    await rig.reply_to(ADMIN, ADMIN, "/addchannel @newschan")

    partly = await rig.reply_to(ADMIN, ADMIN, "/removechannel @NewsChan 1")
    assert (partly.plain_text or "").startswith("Stopped feed(s) 1.\nNews (@newschan)\nfeeds: 2;")
    gone = await rig.reply_to(ADMIN, ADMIN, "/removechannel @newschan")
    assert gone.plain_text == (
        "Removed the channel News (@newschan): it had 1 subscription(s) and gets no more "
        "statements or daily messages."
    )
    assert await rig.services.store.list_channels() == []
    chat = await rig.services.store.get_chat(CHANNEL)
    assert (chat.active, chat.inactive_reason) == (False, "removed by an admin")

    rig.feeds.set("/f2.xml", sample_feed(2, items=3), etag='"2b"')
    rig.clock.advance(minutes=10)
    await rig.run_job("poll")
    await rig.wait_delivered()
    assert rig.texts(CHANNEL) == []

    again = await rig.reply_to(ADMIN, ADMIN, "/removechannel @newschan")
    assert again.plain_text == "@newschan is not one of the bot's channels. Nothing changed."
    # Added back, it is active again with what it is given now.
    back = await rig.reply_to(ADMIN, ADMIN, "/addchannel @newschan 1")
    assert "feeds: 1;" in (back.plain_text or "")
    assert (await rig.services.store.get_chat(CHANNEL)).active


async def test_a_channels_failures_reach_the_admins(rig: Rig) -> None:
    """The bot lost its right to post after it was added: the send fails for good, and
    the admins hear about it."""
    await _add_two_feeds(rig)
    rig.api.add_chat(CHANNEL, "channel", title="News", username="newschan")
    await rig.reply_to(ADMIN, ADMIN, "/addchannel @newschan")
    rig.api.chats[CHANNEL].bot_can_post = False
    before = len(rig.api.messages(ADMIN))
    rig.feeds.set("/f1.xml", sample_feed(1, items=3), etag='"1b"')
    rig.clock.advance(minutes=10)
    await rig.run_job("poll")
    await rig.wait_delivered()
    alerts = [m.plain_text or "" for m in rig.api.messages(ADMIN)[before:]]
    assert len(alerts) == 1
    assert alerts[0].startswith(f"⚠️ Delivery failed\nchat {CHANNEL}: ")
    assert "need administrator rights" in alerts[0].lower()
    assert USER not in rig.api.chats or rig.texts(USER) == []


def test_parsers() -> None:
    assert parse_channel_ref("@news_chan") == "@news_chan"
    assert parse_channel_ref("-1001234567890") == -1001234567890
    for bad in ("news", "@ab", "-12345", "@1abc", "1001234"):
        assert parse_channel_ref(bad) is None
    assert parse_feed_selection([]) is None
    assert parse_feed_selection(["ALL"]) is None
    assert parse_feed_selection(["1,2", "2", "3"]) == [1, 2, 3]
    with pytest.raises(ValueError, match="not a feed id"):
        parse_feed_selection(["1", "x"])
    parsed = parse_channel_settings(["daily", "ON", "tz", "Asia/Tokyo"])
    assert (parsed.daily_enabled, parsed.timezone, parsed.daily_time) == (True, "Asia/Tokyo", None)
    assert parse_channel_settings([]).empty

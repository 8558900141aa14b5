"""The user commands in a group: any member reads (/latest, /search, /counters),
only the group's admins (asked of Telegram with getChatMember) change its
subscriptions; `/cmd@CommuniqueBot` works and commands for another bot are ignored."""

from __future__ import annotations

from bot.replies import GROUP_ADMINS_ONLY
from tests.support.commands import (
    BOT,
    add_group,
    button,
    check_output,
    current,
    data_of,
    press,
    say_unanswered,
    subscriptions,
    text,
)
from tests.support.feeds import numbered
from tests.support.rig import ADMIN, OTHER, USER, Rig, add_feed

# In the group made by add_group, OTHER is a group admin and USER a plain member.
GROUP_ADMIN, MEMBER = OTHER, USER


async def test_members_read_latest_search_counters_help_and_feeds(rig: Rig) -> None:
    group = add_group(rig)
    feed = await add_feed(rig, *numbered(8), path="/a.xml")
    for user in (MEMBER, GROUP_ADMIN):
        latest = await rig.reply_to(group, user, f"/latest@{BOT} 3")
        assert text(latest).splitlines()[0] == "Latest statements (1–3)"
        found = await rig.reply_to(group, user, f"/search@{BOT} statement")
        assert text(found).startswith("Results 1–5 of 8 for «statement»")
        counters = await rig.reply_to(group, user, "/counters")
        assert "3 December 2021" in text(counters)
        helped = await rig.reply_to(group, user, "/help")
        assert "only the group's admins may change its subscriptions" in text(helped)
        assert f"/latest@{BOT}" in text(helped)
        listing = await rig.reply_to(group, user, "/feeds")
        assert data_of(listing) == [f"f:s:{feed}"]
    # Reading never asks who is an admin.
    assert rig.api.calls_to("getChatMember") == []
    await check_output(rig)


async def test_a_member_pages_latest_in_a_group(rig: Rig) -> None:
    group = add_group(rig)
    await add_feed(rig, *numbered(8), path="/a.xml")
    message = await rig.reply_to(group, GROUP_ADMIN, "/latest 5")
    await press(rig, message, MEMBER, button(message, "Older"))
    assert text(current(rig, message)).splitlines()[0] == "Latest statements (6–8)"
    await check_output(rig)


async def test_only_group_admins_change_subscriptions(rig: Rig) -> None:
    group = add_group(rig)
    feed = await add_feed(rig, *numbered(2), path="/a.xml")

    for command in (f"/subscribe {feed}", "/subscribe all", "/subscribe", "/unsubscribe all"):
        refused = await rig.reply_to(group, MEMBER, command)
        assert text(refused) == GROUP_ADMINS_ONLY, command
        assert refused.buttons == []
    refused = await rig.reply_to(group, MEMBER, f"/start sub_{feed}")
    assert text(refused) == GROUP_ADMINS_ONLY
    assert await subscriptions(rig, group) == set()
    checked = rig.api.calls_to("getChatMember")
    assert checked and all(c.params["user_id"] in (MEMBER, str(MEMBER)) for c in checked)

    done = await rig.reply_to(group, GROUP_ADMIN, f"/subscribe@{BOT} {feed}")
    assert text(done).startswith("Subscribed to Embassy statements.")
    assert await subscriptions(rig, group) == {feed}

    refused = await rig.reply_to(group, MEMBER, f"/unsubscribe {feed}")
    assert text(refused) == GROUP_ADMINS_ONLY
    assert await subscriptions(rig, group) == {feed}
    done = await rig.reply_to(group, GROUP_ADMIN, f"/unsubscribe {feed}")
    assert text(done).startswith("Unsubscribed from Embassy statements.")
    assert await subscriptions(rig, group) == set()
    await check_output(rig)


async def test_a_member_pressing_a_toggle_is_refused_and_nothing_changes(rig: Rig) -> None:
    group = add_group(rig)
    feed = await add_feed(rig, *numbered(2), path="/a.xml")
    welcome = await rig.reply_to(group, MEMBER, "/start")
    assert data_of(welcome) == [f"f:s:{feed}"]

    answer = await press(rig, welcome, MEMBER, f"f:s:{feed}")
    assert answer == GROUP_ADMINS_ONLY
    last = rig.api.calls_to("answerCallbackQuery")[-1]
    assert last.params.get("show_alert") in (True, "true")
    assert await subscriptions(rig, group) == set()
    assert current(rig, welcome).edits == []

    assert await press(rig, welcome, GROUP_ADMIN, f"f:s:{feed}") == "Subscribed"
    assert await subscriptions(rig, group) == {feed}
    assert data_of(current(rig, welcome)) == [f"f:u:{feed}"]
    await check_output(rig)


async def test_a_group_admin_who_loses_the_role_is_refused(rig: Rig) -> None:
    group = add_group(rig)
    feed = await add_feed(rig, *numbered(2), path="/a.xml")
    rig.api.set_member_status(group, GROUP_ADMIN, "member")
    refused = await rig.reply_to(group, GROUP_ADMIN, f"/subscribe {feed}")
    assert text(refused) == GROUP_ADMINS_ONLY
    rig.api.set_member_status(group, MEMBER, "creator")
    done = await rig.reply_to(group, MEMBER, f"/subscribe {feed}")
    assert text(done).startswith("Subscribed to")
    await check_output(rig)


async def test_an_anonymous_group_admin_may_change_subscriptions_and_settings(
    rig: Rig,
) -> None:
    """An admin writing as the group comes from GroupAnonymousBot with the group as
    sender_chat; only admins can write that way, so no getChatMember is needed."""
    group = add_group(rig)
    feed = await add_feed(rig, *numbered(2), path="/a.xml")

    async def anonymously(command: str) -> str:
        before = len(rig.api.messages(group))
        rig.api.send_text(group, GROUP_ADMIN, command, anonymous=True)
        return text((await rig.api.wait_for_messages(group, before + 1))[-1])

    assert (await anonymously(f"/subscribe {feed}")).startswith("Subscribed to Embassy")
    assert await subscriptions(rig, group) == {feed}
    assert "08:15" in await anonymously("/settings time 08:15")
    assert rig.api.calls_to("getChatMember") == []
    await check_output(rig)


async def test_a_restricted_member_is_refused_politely(rig: Rig) -> None:
    group = add_group(rig)
    feed = await add_feed(rig, *numbered(2), path="/a.xml")
    rig.api.set_member_status(group, MEMBER, "restricted")
    refused = await rig.reply_to(group, MEMBER, f"/subscribe {feed}")
    assert text(refused) == GROUP_ADMINS_ONLY
    assert await subscriptions(rig, group) == set()
    await check_output(rig)


async def test_the_bots_admin_is_no_group_admin_in_someone_elses_group(rig: Rig) -> None:
    """Only the group's own admins change its subscriptions and settings, as the
    design says, even when the bot's operator is a plain member there."""
    group = add_group(rig)
    feed = await add_feed(rig, *numbered(2), path="/a.xml")
    rig.api.set_member_status(group, ADMIN, "member")
    for command in (f"/subscribe {feed}", "/settings daily off"):
        refused = await rig.reply_to(group, ADMIN, command)
        assert text(refused) == GROUP_ADMINS_ONLY, command
    assert await subscriptions(rig, group) == set()
    rig.api.set_member_status(group, ADMIN, "administrator")
    done = await rig.reply_to(group, ADMIN, f"/subscribe {feed}")
    assert text(done).startswith("Subscribed to Embassy")
    await check_output(rig)


async def test_commands_for_another_bot_are_ignored(rig: Rig) -> None:
    group = add_group(rig)
    await add_feed(rig, *numbered(2), path="/a.xml")
    for command in ("/latest@OtherBot", "/search@OtherBot statement", "/subscribe@OtherBot 1"):
        await say_unanswered(rig, group, GROUP_ADMIN, command)
    assert await subscriptions(rig, group) == set()
    # The same words addressed to this bot are answered.
    got = await rig.reply_to(group, MEMBER, f"/latest@{BOT}")
    assert text(got).startswith("Latest statements")
    await check_output(rig)

"""/start, /help, /feeds, /subscribe, /unsubscribe and /latest in a private chat,
through the real Application and the fake Bot API."""

from __future__ import annotations

from bot.app import ADMIN_COMMANDS, USER_COMMANDS
from tests.support.commands import (
    add_group,
    button,
    check_output,
    current,
    data_of,
    press,
    say_unanswered,
    subscriptions,
    text,
    wait_settled,
)
from tests.support.feeds import numbered
from tests.support.rig import ADMIN, USER, Rig, add_feed


async def test_start_welcomes_with_subscribe_buttons(rig: Rig) -> None:
    one = await add_feed(rig, *numbered(2), path="/a.xml")
    two = await add_feed(rig, *numbered(1), path="/b.xml", title="Ministry <news> & views")

    welcome = await rig.reply_to(USER, USER, "/start")

    lines = text(welcome).split("\n\n")
    assert lines[0].startswith("Communique watches the feeds of official statements")
    assert lines[0].count(". ") == 1 and lines[0].endswith(".")  # two sentences
    assert "Tap a feed below to subscribe" in lines[1]
    assert data_of(welcome) == [f"f:s:{one}", f"f:s:{two}", "f:all"]
    assert "➕ 2. Ministry <news> & views" in [b["text"] for b in welcome.buttons]

    # A toggle under the welcome keeps the welcome and shows the new state.
    answer = await press(rig, welcome, USER, f"f:s:{two}")
    assert answer == "Subscribed"
    assert await subscriptions(rig, USER) == {two}
    now = current(rig, welcome)
    assert text(now) == text(welcome)
    assert data_of(now) == [f"f:s:{one}", f"f:u:{two}", "f:all"]
    await check_output(rig)


async def test_start_without_feeds_says_an_admin_adds_them(rig: Rig) -> None:
    welcome = await rig.reply_to(USER, USER, "/start")
    assert "There are no feeds yet: an admin adds them with /addfeed" in text(welcome)
    assert welcome.buttons == []
    await check_output(rig)


async def test_deep_link_subscribes_at_once(rig: Rig) -> None:
    feed = await add_feed(rig, *numbered(2), path="/a.xml")

    done = await rig.reply_to(USER, USER, f"/start sub_{feed}")

    assert text(done).startswith("Subscribed to Embassy statements.")
    assert await subscriptions(rig, USER) == {feed}
    again = await rig.reply_to(USER, USER, f"/start sub_{feed}")
    assert text(again) == "This chat already follows Embassy statements."
    await check_output(rig)


async def test_deep_link_with_a_bad_or_unknown_id_explains_and_offers_buttons(rig: Rig) -> None:
    feed = await add_feed(rig, *numbered(2), path="/a.xml")

    unknown = await rig.reply_to(USER, USER, "/start sub_99")
    assert text(unknown) == (
        "There is no feed 99 (it may have been removed). Tap a feed below to subscribe."
    )
    assert data_of(unknown) == [f"f:s:{feed}"]

    bad = await rig.reply_to(USER, USER, "/start sub_<b>x")
    assert text(bad) == (
        "That link does not name a feed («sub_<b>x»). Tap a feed below to subscribe."
    )
    assert await subscriptions(rig, USER) == set()
    await check_output(rig)


async def test_help_lists_every_command_with_an_example(rig: Rig) -> None:
    user_help = text(await rig.reply_to(USER, USER, "/help"))
    admin_help = text(await rig.reply_to(ADMIN, ADMIN, "/help"))

    for command in ["start", *(c.command for c in USER_COMMANDS)]:
        assert f"\n/{command}" in user_help, command
        assert f"e.g. /{command}" in user_help, command
    for command in (c.command for c in ADMIN_COMMANDS):
        assert f"/{command}" not in user_help
        assert f"\n/{command}" in admin_help, command
        assert f"e.g. /{command}" in admin_help, command
    assert "Admin commands" in admin_help and "Admin commands" not in user_help
    assert "e.g. /settings, /settings time 08:00, /settings zone Europe/Berlin" in user_help
    assert 'e.g. /search Salisbury, /search "chemical weapons", /search sanction*' in user_help
    # Every command line is followed by its example line.
    lines = admin_help.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("/"):
            assert lines[index + 1].startswith("   e.g. /"), line
    await check_output(rig)


async def test_feeds_toggles_edit_the_message_in_place(rig: Rig) -> None:
    one = await add_feed(rig, *numbered(2), path="/a.xml")
    two = await add_feed(rig, *numbered(1), path="/b.xml", title="Ministry")
    listing = await rig.reply_to(USER, USER, "/feeds")
    assert text(listing).splitlines()[1:3] == [
        "1. Embassy statements — not subscribed",
        "2. Ministry — not subscribed",
    ]

    assert await press(rig, listing, USER, f"f:s:{one}") == "Subscribed"
    after = current(rig, listing)
    assert "1. Embassy statements — ✅ subscribed" in text(after)
    assert data_of(after) == [f"f:u:{one}", f"f:s:{two}", "f:all"]

    assert await press(rig, after, USER, "f:all") == "Subscribed to every feed"
    after = current(rig, listing)
    assert data_of(after) == [f"f:u:{one}", f"f:u:{two}"]  # nothing left to add: no "all"
    assert await subscriptions(rig, USER) == {one, two}

    assert await press(rig, after, USER, f"f:u:{one}") == "Unsubscribed"
    after = current(rig, listing)
    assert "1. Embassy statements — not subscribed" in text(after)
    assert await subscriptions(rig, USER) == {two}
    assert len(after.edits) == 3  # the same message, edited three times
    assert len(rig.api.messages(USER)) == 1
    await check_output(rig)


async def test_feeds_with_none_and_with_too_many_stays_in_one_message(rig: Rig) -> None:
    empty = await rig.reply_to(USER, USER, "/feeds")
    assert text(empty) == "There are no feeds yet. An admin adds them with /addfeed URL."

    store = rig.services.store
    for i in range(120):
        await store.add_feed(f"https://embassy.example/{i}.xml", f"Feed {i} " + "long " * 40)
    listing = await rig.reply_to(USER, USER, "/feeds")
    lines = text(listing).splitlines()
    shown = [line for line in lines if line[:1].isdigit()]
    assert lines[len(shown) + 1] == f"…and {120 - len(shown)} more"
    assert shown[-1].startswith(f"{len(shown)}. Feed {len(shown) - 1} long")
    assert len(listing.buttons) == 91  # 90 toggles and "Subscribe to all"
    await check_output(rig)


async def test_subscribe_and_unsubscribe_arguments(rig: Rig) -> None:
    one = await add_feed(rig, *numbered(2), path="/a.xml")
    two = await add_feed(rig, *numbered(1), path="/b.xml", title="Ministry")

    got = text(await rig.reply_to(USER, USER, f"/subscribe {one}"))
    assert got.startswith("Subscribed to Embassy statements. New statements will arrive here")
    got = text(await rig.reply_to(USER, USER, "/subscribe all"))
    assert got.startswith("Subscribed to Ministry.")  # only what was new
    assert await subscriptions(rig, USER) == {one, two}
    got = text(await rig.reply_to(USER, USER, "/subscribe all"))
    assert got == "This chat already follows Embassy statements and Ministry."

    got = text(await rig.reply_to(USER, USER, f"/unsubscribe {two}"))
    assert got == "Unsubscribed from Ministry. No more statements from it will arrive here."
    got = text(await rig.reply_to(USER, USER, f"/unsubscribe {two}"))
    assert got == "This chat does not follow Ministry."
    got = text(await rig.reply_to(USER, USER, "/unsubscribe all"))
    assert got.startswith("Unsubscribed from Embassy statements.")
    got = text(await rig.reply_to(USER, USER, "/unsubscribe ALL"))
    assert got == "This chat does not follow any feed. /feeds lists them."
    assert await subscriptions(rig, USER) == set()
    await check_output(rig)


async def test_subscribe_without_arguments_shows_the_buttons(rig: Rig) -> None:
    one = await add_feed(rig, *numbered(2), path="/a.xml")
    for command in ("/subscribe", "/unsubscribe"):
        listing = await rig.reply_to(USER, USER, command)
        assert text(listing).startswith("Feeds\n")
        assert data_of(listing) == [f"f:s:{one}"]
    await check_output(rig)


async def test_subscribe_garbage_gets_usage_and_changes_nothing(rig: Rig) -> None:
    await add_feed(rig, *numbered(2), path="/a.xml")
    cases = {
        "/subscribe abc": "«abc» is not a feed id. Usage: /subscribe FEED_ID or /subscribe all",
        "/subscribe 99": "There is no feed 99 (it may have been removed). /feeds lists them.",
        "/subscribe -1": "«-1» is not a feed id.",
        "/subscribe ١": "«١» is not a feed id.",  # an Arabic-Indic digit is not an id
        "/subscribe 99999999999999999999": "is not a feed id",
        "/subscribe <i>1</i>": "«<i>1</i>» is not a feed id.",
        "/subscribe 1 2": "One feed at a time, please. Usage: /subscribe FEED_ID",
        "/unsubscribe x": "«x» is not a feed id. Usage: /unsubscribe FEED_ID or /unsubscribe all",
    }
    for command, expected in cases.items():
        got = text(await rig.reply_to(USER, USER, command))
        assert expected in got, (command, got)
    assert await subscriptions(rig, USER) == set()
    await check_output(rig)


async def test_latest_defaults_limits_and_usage(rig: Rig) -> None:
    one = await add_feed(rig, *numbered(30), path="/a.xml")
    two = await add_feed(rig, *numbered(3), path="/b.xml", title="Ministry")

    latest = text(await rig.reply_to(USER, USER, "/latest"))
    lines = latest.splitlines()
    assert lines[0] == "Latest statements (1–5)"
    assert lines[2] == "1. 30 November 2021 · Embassy statements"
    assert lines[3] == "Statement number 30"
    assert lines[4] == "Lead of statement 30."  # the summary's first paragraph only
    assert latest.count("November 2021") == 5

    twenty = text(await rig.reply_to(USER, USER, "/latest 20"))
    assert twenty.count("November 2021") == 20
    only_two = text(await rig.reply_to(USER, USER, f"/latest 2 {two}"))
    assert only_two.splitlines()[0] == "Latest from Ministry (1–2)"
    assert only_two.count("· Ministry") == 2
    all_three = text(await rig.reply_to(USER, USER, f"/latest 20 {two}"))
    assert all_three.splitlines()[0] == "Latest from Ministry"
    assert all_three.count("· Ministry") == 3

    usage = "Usage: /latest [N] [FEED_ID]"
    bad = {
        "/latest 0": "N must be between 1 and 20.",
        "/latest 21": "N must be between 1 and 20.",
        "/latest abc": "«abc» is not a number.",
        "/latest -3": "N must be between 1 and 20.",
        "/latest 99999999999999999999": "N must be between 1 and 20.",
        "/latest 5 -2": "FEED_ID must be a feed's number from /feeds.",
        "/latest 1e3": "«1e3» is not a number.",
        "/latest 1 2 3": "That is too many arguments.",
        "/latest <b>": "«<b>» is not a number.",
        "/latest 5 99": "There is no feed 99. /feeds lists them.",
    }
    for command, expected in bad.items():
        got = text(await rig.reply_to(USER, USER, command))
        assert got.startswith(expected), (command, got)
        if "feed 99" not in expected:
            assert usage in got
    del one
    await check_output(rig)


async def test_latest_pages_older_and_newer_in_the_same_message(rig: Rig) -> None:
    await add_feed(rig, *numbered(12), path="/a.xml")
    message = await rig.reply_to(USER, USER, "/latest 5")
    # Statement N has id N: a "Full text" button for each entry, then the paging.
    assert data_of(message) == ["ft:12", "ft:11", "ft:10", "ft:9", "ft:8", "l:5:5:0"]

    await press(rig, message, USER, button(message, "Older"))
    page = current(rig, message)
    assert text(page).splitlines()[0] == "Latest statements (6–10)"
    assert "Statement number 7\n" in text(page) and "Statement number 12" not in text(page)
    assert data_of(page) == ["ft:7", "ft:6", "ft:5", "ft:4", "ft:3", "l:10:5:0", "l:0:5:0"]
    # Numbered on from the first page, entries and buttons alike.
    assert "\n6. 7 November 2021 · Embassy statements\n" in text(page)
    assert button(page, "Full text 6") == "ft:7"

    await press(rig, page, USER, button(page, "Older"))
    page = current(rig, message)
    assert text(page).splitlines()[0] == "Latest statements (11–12)"
    assert data_of(page) == ["ft:2", "ft:1", "l:5:5:0"]  # the oldest page: only "Newer"

    await press(rig, page, USER, button(page, "Newer"))
    await press(rig, current(rig, message), USER, "l:0:5:0")
    page = current(rig, message)
    assert text(page) == text(message)
    assert len(rig.api.messages(USER)) == 1
    await check_output(rig)


async def test_latest_with_nothing_stored_says_how_to_subscribe(rig: Rig) -> None:
    got = text(await rig.reply_to(USER, USER, "/latest"))
    assert got == (
        "No statements stored yet. Use /feeds to see the feeds and /subscribe to follow them."
    )
    feed = await add_feed(rig, path="/empty.xml", title="Quiet ministry")
    got = text(await rig.reply_to(USER, USER, f"/latest 5 {feed}"))
    assert got == "No statements from Quiet ministry are stored yet. /latest shows the newest " + (
        "from every feed."
    )
    await check_output(rig)


async def test_counters_in_private(rig: Rig) -> None:
    got = text(await rig.reply_to(USER, USER, "/counters"))
    assert "3 December 2021" in got
    await check_output(rig)


async def test_an_edited_command_is_not_run_again(rig: Rig) -> None:
    """Fixing a typo in an old message must not repeat it (think /addfeed)."""
    await add_feed(rig, *numbered(3), path="/a.xml")
    before = len(rig.api.messages(USER))
    update = rig.api.send_text(USER, USER, "/latest 1")
    await rig.api.wait_for_messages(USER, before + 1)
    before += 1
    rig.api.edit_text(USER, USER, update["message"]["message_id"], "/latest 2")
    await wait_settled(rig)
    assert len(rig.api.messages(USER)) == before
    # A new message with the same words is answered as ever.
    answer = await rig.reply_to(USER, USER, "/latest 2")
    assert text(answer).splitlines()[0] == "Latest statements (1–2)"
    await check_output(rig)


async def test_commands_sent_together_run_in_the_order_they_were_sent(rig: Rig) -> None:
    """After downtime, or with quick taps, Telegram hands over several updates of one
    chat at once: they must act in the order the user sent them."""
    feed = await add_feed(rig, *numbered(2), path="/a.xml")
    await rig.reply_to(USER, USER, "/start")
    for _ in range(3):
        before = len(rig.api.messages(USER))
        rig.api.send_text(USER, USER, f"/subscribe {feed}")
        rig.api.send_text(USER, USER, f"/unsubscribe {feed}")
        rig.api.send_text(USER, USER, "/settings daily off")
        rig.api.send_text(USER, USER, "/settings")
        replies = await rig.api.wait_for_messages(USER, before + 4)
        got = [text(m).splitlines()[0] for m in replies[before:]]
        assert got[0].startswith("Subscribed to Embassy statements"), got
        assert got[1].startswith("Unsubscribed from Embassy statements"), got
        assert "Daily message: off" in text(replies[before + 3]), got
        assert await subscriptions(rig, USER) == set()
        await rig.reply_to(USER, USER, "/settings daily on")
    await check_output(rig)


async def test_an_unknown_command_or_plain_words_get_a_hint_in_private(rig: Rig) -> None:
    unknown = await rig.reply_to(USER, USER, "/nonexistent now")
    assert text(unknown) == "I don't know /nonexistent. /help lists what I can do."
    words = await rig.reply_to(USER, USER, "sanctions")
    assert text(words).startswith("I answer commands. To search the statements, send /search")
    await check_output(rig)


async def test_a_group_stays_quiet_for_unknown_commands_and_chatter(rig: Rig) -> None:
    group = add_group(rig)
    for message in ("/nonexistent", "/weather@OtherBot", "hello everyone"):
        await say_unanswered(rig, group, USER, message)
    await check_output(rig)

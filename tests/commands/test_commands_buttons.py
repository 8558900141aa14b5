"""Buttons and menus: forged and stale presses are answered and change nothing, old
buttons keep working (or explain themselves) after a restart, every press gets
exactly one answer, and the command menus are published at start."""

from __future__ import annotations

import json
from pathlib import Path

from bot.app import ADMIN_COMMANDS, USER_COMMANDS
from bot.commands import STALE_BUTTON
from tests.support.commands import (
    button,
    check_output,
    current,
    data_of,
    press,
    text,
)
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import numbered
from tests.support.rig import ADMIN, USER, Rig, add_feed, start_rig, stop_rig


async def test_forged_buttons_are_answered_and_change_nothing(rig: Rig) -> None:
    feed = await add_feed(rig, *numbered(12), path="/a.xml")
    latest = await rig.reply_to(USER, USER, "/latest")
    listing = await rig.reply_to(USER, USER, "/feeds")
    found = await rig.reply_to(USER, USER, "/search statement")
    forged = [
        (latest, f"f:s:{feed}"),  # a real action, but not a button of this message
        (latest, "f:all"),
        (latest, "l:0:20:0"),
        (latest, "l:5:5:99"),
        (latest, "s:abcdefgh:5"),
        (listing, "f:s:99999999999999999999"),
        (listing, "f:x:1"),
        (listing, "l:-5:5:0"),
        (found, "s:abcdefgh:5"),
        (found, "s::"),
        (found, "zz"),
        (found, "x" * 64),
    ]
    for message, data in forged:
        answer = await press(rig, message, USER, data, forge=True)
        assert answer == STALE_BUTTON, data
    # An admin's button (another module's) pressed by a user is refused there, politely.
    assert await press(rig, found, USER, "rf:1", forge=True)
    for message in (latest, listing, found):
        assert current(rig, message).edits == []
    assert await rig.services.store.subscriptions(USER) == set()
    await check_output(rig)


async def test_a_button_for_a_removed_feed_says_so(rig: Rig) -> None:
    one = await add_feed(rig, *numbered(2), path="/a.xml")
    two = await add_feed(rig, *numbered(2), path="/b.xml", title="Ministry")
    listing = await rig.reply_to(USER, USER, "/feeds")
    await rig.services.store.remove_feed(two)

    assert await press(rig, listing, USER, f"f:s:{two}") == "That feed no longer exists."
    assert data_of(current(rig, listing)) == [f"f:s:{one}"]  # the list is brought up to date
    assert await rig.services.store.subscriptions(USER) == set()
    await check_output(rig)


async def test_old_buttons_after_a_restart(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    rig = await start_rig(tmp_path, fake_bot_api, feed_server)
    try:
        feed = await add_feed(rig, *numbered(12), path="/a.xml")
        listing = await rig.reply_to(USER, USER, "/feeds")
        latest = await rig.reply_to(USER, USER, "/latest")
        found = await rig.reply_to(USER, USER, "/search statement")
        await check_output(rig)
    finally:
        await stop_rig(rig)

    # A new process on the same database: chat_data (the saved searches) is gone.
    rig = await start_rig(tmp_path, fake_bot_api, feed_server, clock=rig.clock)
    try:
        # Feed toggles and /latest pages carry everything they need: they still work.
        assert await press(rig, listing, USER, f"f:s:{feed}") == "Subscribed"
        assert await rig.services.store.subscriptions(USER) == {feed}
        await press(rig, latest, USER, button(latest, "Older"))
        assert text(current(rig, latest)).startswith("Latest statements (6–10)")

        # A search's "More" needs the query, which was kept in memory: it says so.
        answer = await press(rig, found, USER, button(found, "More"))
        assert answer == "This search has expired. Please send /search again."
        assert rig.api.calls_to("answerCallbackQuery")[-1].params.get("show_alert") in (
            True,
            "true",
        )
        assert current(rig, found).edits == []
        await check_output(rig, restarted=True)
    finally:
        await stop_rig(rig)


async def test_every_callback_data_fits_in_64_bytes(rig: Rig) -> None:
    # Large ids and offsets are the longest data the bot makes.
    store = rig.services.store
    for i in range(3):
        await store.add_feed(f"https://embassy.example/{i}.xml", "F" * 300)
    await add_feed(rig, *numbered(30), path="/a.xml")
    listing = await rig.reply_to(USER, USER, "/feeds")
    page = await rig.reply_to(USER, USER, "/latest 20 4")
    await press(rig, page, USER, button(page, "Older"))
    found = await rig.reply_to(USER, USER, "/search statement*")
    for message in (listing, current(rig, page), found):
        for data in data_of(message):
            assert 0 < len(data.encode()) < 64, data
    await check_output(rig)  # also checks every button of every message sent


async def test_menus_are_published_at_start(rig: Rig) -> None:
    def menu(scope: dict[str, object]) -> list[str]:
        key = (json.dumps(scope, sort_keys=True), "")
        return [c["command"] for c in rig.api.commands.get(key, [])]

    users = [c.command for c in USER_COMMANDS]
    admins = [c.command for c in ADMIN_COMMANDS]
    assert {"latest", "search", "feeds", "subscribe", "unsubscribe", "counters", "help"} <= set(
        users
    )
    assert "settings" in users
    assert menu({"type": "default"}) == users
    assert menu({"type": "chat", "chat_id": ADMIN}) == users + admins
    assert menu({"type": "chat", "chat_id": USER}) == []
    scopes = [json.loads(c.params["scope"]) for c in rig.api.calls_to("setMyCommands")]
    assert {s["type"] for s in scopes} == {"default", "chat"}
    await check_output(rig)

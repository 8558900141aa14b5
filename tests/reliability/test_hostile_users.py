"""Hostile users, through the fake Bot API: huge arguments (what Telegram delivers, 4096
characters, and forged updates of 100,000), right-to-left and zero-width characters,
FTS operators, SQL-looking strings, forged and replayed callback_data (ids that do not
exist, another chat's data, another user's search, negative, huge and non-ASCII
numbers, presses with no message), every admin command from a non-admin and every
group-admin action from a plain member. Each gets a reply Telegram accepts (valid
HTML, within 4096 characters) or a button answer, never an unexpected error, and
changes nothing in the database."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import ADMIN_COMMANDS
from emulator.telegram_html import MAX_MESSAGE_LENGTH
from tests.reliability.conftest import Report
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import sample_feed
from tests.support.rig import ADMIN, OTHER, USER, Rig, start_rig, stop_rig

GROUP = -100_777
GROUP_ADMIN = 4004
WENT_WRONG = "something went wrong"

RTL = "\u202e"  # right-to-left override
ZW = "\u200b\u200c\u200d\u2060\ufeff"  # zero-width space, joiners, word joiner, BOM
HOSTILE_WORDS = [
    "'; DROP TABLE items; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM subscriptions; --",
    "NOT",
    "AND OR NOT",
    '"unterminated',
    "*",
    "a*b*",
    "NEAR(a b, 2)",
    "title:statement",
    "^start",
    "-minus",
    "(((",
    "{days}{days}",
    "%s %d %n",
    "<b>bold</b> &amp; <script>",
    f"{RTL}statement{ZW}",
    ZW,
    "١٢٣",  # Arabic-Indic digits: str.isdecimal() says yes
    "𝟏𝟐",  # mathematical bold digits
    "\x00\x01\x7f",
    "statement" * 400,
]


def database_state(rig: Rig) -> list[tuple[str, list[tuple[object, ...]]]]:
    """Every row of every table, read by another connection as another process would."""
    db = sqlite3.connect(rig.settings.database_path)
    try:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%' ORDER BY name"
            )
        ]
        return [
            (t, sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)) for t in tables
        ]
    finally:
        db.close()


@pytest.fixture
async def world(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> AsyncIterator[Rig]:
    """A feed of 12 statements, a counter, USER subscribed, a group whose admin
    subscribed it (OTHER is a plain member); everyone has spoken to the bot once."""
    rig = await start_rig(tmp_path, fake_bot_api, feed_server, chat_pacing=False)
    try:
        rig.feeds.set("/feed.xml", sample_feed(1, items=12))
        added = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/feed.xml')}")
        assert "Added feed 1" in (added.plain_text or "")
        await rig.reply_to(ADMIN, ADMIN, "/addcounter 2018-03-04 {days} days since")
        rig.api.add_chat(
            GROUP, "supergroup", title="Readers", creator=GROUP_ADMIN, members=[OTHER, USER]
        )
        for user in (USER, OTHER, GROUP_ADMIN):
            await rig.reply_to(user, user, "/start")
        await rig.reply_to(USER, USER, "/subscribe 1")
        await rig.reply_to(GROUP, GROUP_ADMIN, "/subscribe 1")
        await rig.reply_to(GROUP, OTHER, "/latest")
        await rig.wait_delivered()
        yield rig
    finally:
        await stop_rig(rig)


class Sweep:
    """Sends hostile input and checks each answer; counts what was tried."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.tried = 0

    async def say(self, chat: int, user: int, text: str) -> str:
        """One message (as Telegram would deliver it); the bot's reply, checked."""
        rig = self.rig
        before_state = database_state(rig)
        before = len(rig.api.messages(chat))
        rig.clock.advance(seconds=4)  # under /search's limit of 20 a minute
        rig.api.send_text(chat, user, text)
        await rig.api.wait_for_messages(chat, before + 1)
        await rig.wait_delivered()
        self.tried += 1
        replies = rig.api.messages(chat)[before:]
        for reply in replies:
            assert WENT_WRONG not in (reply.plain_text or "").lower(), (text[:80], reply.plain_text)
        assert database_state(rig) == before_state, f"{text[:80]!r} changed the database"
        return "\n".join(r.plain_text or "" for r in replies)

    async def press(self, chat: int, user: int, message_id: int, data: str) -> str | None:
        """A (possibly forged) button press; the answer's text, checked."""
        rig = self.rig
        before_state = database_state(rig)
        answered = len(rig.api.calls_to("answerCallbackQuery"))
        update = rig.api.press_button(chat, user, message_id, data, forge=True)
        await rig.api.wait_for_call("answerCallbackQuery", answered + 1)
        await rig.wait_delivered()
        self.tried += 1
        answer = rig.api.callback_answers.get(update["callback_query"]["id"], {})
        text = answer.get("text")
        assert WENT_WRONG not in (text or "").lower(), (data, text)
        assert database_state(rig) == before_state, f"pressing {data!r} changed the database"
        return text if isinstance(text, str) else None


def assert_no_unexpected_errors(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    alerts = [m.plain_text or "" for m in rig.api.messages(ADMIN)]
    assert not any("Unexpected error" in a for a in alerts), alerts
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    bad = [
        (c.method, c.status, c.description)
        for c in rig.api.calls
        if c.method != "getUpdates"
        and c.status not in (200, None)
        # An edit to what the message already shows is harmless, and handled.
        and "message is not modified" not in (c.description or "")
    ]
    assert bad == [], "Telegram refused a request the bot made"


async def test_hostile_arguments_get_a_clear_answer_and_change_nothing(
    world: Rig, caplog: pytest.LogCaptureFixture, reliability_report: Report
) -> None:
    rig = world
    sweep = Sweep(rig)
    commands = [
        "/search",
        "/latest",
        "/subscribe",
        "/unsubscribe",
        "/feeds",
        "/counters",
        "/help",
        "/start",
    ]
    for word in HOSTILE_WORDS:
        for command in commands:
            text = f"{command} {word}"[:MAX_MESSAGE_LENGTH]
            await sweep.say(USER, USER, text)
    # Arguments as long as Telegram lets a message be.
    for command in ("/search ", "/latest ", "/subscribe ", "/settings ", "/unsubscribe "):
        for filler in ("x", "9", "é", "🙂", ZW[0], f"{RTL}a "):
            text = command + filler * ((MAX_MESSAGE_LENGTH - len(command)) // len(filler))
            await sweep.say(USER, USER, text)
    answer = await sweep.say(USER, USER, "/search statement")
    assert "Statement 1-" in answer  # search still works after all that
    assert_no_unexpected_errors(rig, caplog)
    reliability_report(inputs=sweep.tried)


async def test_forged_updates_of_100000_characters_are_answered(
    world: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    # Telegram never delivers these; a forged update (or a future limit) must not
    # make the bot echo 100,000 characters back or fail.
    sweep = Sweep(world)
    for text in (
        "/search " + "a" * 100_000,
        "/search " + "statement " * 10_000,
        "/latest " + "9" * 100_000,
        "/subscribe " + "1 " * 50_000,
        "/search " + (RTL + ZW) * 20_000,
    ):
        reply = await sweep.say(USER, USER, text)
        assert len(reply) <= MAX_MESSAGE_LENGTH
    assert_no_unexpected_errors(world, caplog)


async def test_admin_commands_from_anyone_else_are_refused(
    world: Rig, caplog: pytest.LogCaptureFixture, reliability_report: Report
) -> None:
    sweep = Sweep(world)
    arguments = {
        "addfeed": "https://example.org/x.xml Title'; DROP TABLE feeds; --",
        "removefeed": "1",
        "pausefeed": "1",
        "resumefeed": "1",
        "addcounter": "2020-01-01 {days} days",
        "countertext": "1 ru прошло {days} {день|дня|дней}",
        "removecounter": "1",
        "addchannel": "@somechannel all",
        "removechannel": "@somechannel",
    }
    for command in ADMIN_COMMANDS:
        text = f"/{command.command} {arguments.get(command.command, '')}".strip()
        for chat, user in ((USER, USER), (GROUP, GROUP_ADMIN), (GROUP, OTHER)):
            reply = await sweep.say(chat, user, text)
            assert "only the bot's admins" in reply.lower(), (text, user, reply)
    assert_no_unexpected_errors(world, caplog)
    reliability_report(inputs=sweep.tried)


async def test_group_admin_actions_from_a_plain_member_are_refused(
    world: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig = world
    sweep = Sweep(rig)
    for text in (
        "/subscribe 1",
        "/subscribe all",
        "/unsubscribe 1",
        "/unsubscribe all",
        "/settings time 07:00",
        "/settings zone Asia/Tokyo",
        "/settings daily off",
    ):
        reply = await sweep.say(GROUP, OTHER, text)
        assert "only the group's admins" in reply.lower(), (text, reply)
    # The buttons the group's admin was shown, pressed by the member.
    feeds = await rig.reply_to(GROUP, GROUP_ADMIN, "/feeds")
    settings = await rig.reply_to(GROUP, GROUP_ADMIN, "/settings")
    for message in (feeds, settings):
        assert message.buttons, message.plain_text
        for button in message.buttons:
            answer = await sweep.press(GROUP, OTHER, message.message_id, button["callback_data"])
            assert answer is not None and "admins" in answer.lower(), (button, answer)
    assert await rig.services.store.subscriptions(GROUP) == {1}
    assert_no_unexpected_errors(rig, caplog)


async def test_forged_and_replayed_buttons_are_refused(
    world: Rig, caplog: pytest.LogCaptureFixture, reliability_report: Report
) -> None:
    rig = world
    sweep = Sweep(rig)
    search = await rig.reply_to(ADMIN, ADMIN, "/search statement")
    admin_token = next(
        b["callback_data"] for b in search.buttons if b["callback_data"].startswith("s:")
    )
    remove = await rig.reply_to(ADMIN, ADMIN, "/removefeed 1")
    feeds = await rig.reply_to(USER, USER, "/feeds")
    latest = await rig.reply_to(USER, USER, "/latest 2")
    mine = await rig.reply_to(USER, USER, "/search statement")

    forged = [
        "f:s:999999",
        "f:u:999999",
        "f:s:-1",
        "f:s:0",
        "f:s:" + "9" * 40,
        "f:s:١",
        "f:s:1:extra",
        "f:",
        "f:all:1",
        "l:-5:3:0",
        "l:0:-3:0",
        "l:0:99999:0",
        "l:99999999999:5:0",
        "l:0:5:999999",
        "l:0:5:١",
        admin_token,  # another chat's search
        "s:nonexistent:0",
        "s:" + admin_token.split(":")[1] + ":-5",
        "s::0",
        "rf:y:1",  # an admin's confirmation, pressed by a user
        "rf:y:-1",
        "fs:-1",
        "fs:99999",
        "st:d:0",
        "st:t:9999",
        "st:z:../../etc/passwd",
        "st:z:" + "Ω" * 20,
        "ft:1",  # a statement's full text, under a message that never offered it
        "ft:-1",
        "ft:" + "9" * 40,
        "ft:1:1",
        "x" * 64,
        "é" * 32,
        "'; DROP TABLE chats; --",
        "",
    ]
    for message in (feeds, latest, mine):
        for data in forged:
            await sweep.press(USER, USER, message.message_id, data)
    # The admin's own buttons, pressed by someone else in the admin's chat id space:
    # the same data on USER's message is not one of its buttons.
    for button in remove.buttons:
        await sweep.press(USER, USER, feeds.message_id, button["callback_data"])

    # A press with no message at all (as for an inline message): nothing to check the
    # data against, so each handler's own checks must hold.
    for data in [*forged, "f:s:1", "f:u:1", "f:all", "rf:y:1", "st:d:0"]:
        before_state = database_state(rig)
        answered = len(rig.api.calls_to("answerCallbackQuery"))
        query = {
            "id": f"forged-{sweep.tried}",
            "from": {"id": USER, "is_bot": False, "first_name": "Uma"},
            "chat_instance": "42",
            "inline_message_id": "AAAAforged",
            "data": data,
        }
        # Telegram knows the query it sent, so the bot may answer it.
        rig.api._callback_queries[query["id"]] = query
        rig.api.enqueue_update({"callback_query": query})
        await rig.api.wait_for_call("answerCallbackQuery", answered + 1)
        await rig.wait_delivered()
        sweep.tried += 1
        assert database_state(rig) == before_state, f"no-message press {data!r} changed data"

    # Replays: a genuine button (USER's "unsubscribe from 1") pressed again after it
    # did its work is data the message no longer offers, and changes nothing more.
    assert await rig.services.store.subscriptions(USER) == {1}
    assert {"callback_data": "f:u:1"} in [
        {"callback_data": b["callback_data"]} for b in feeds.buttons
    ]
    for _ in range(3):
        answered = len(rig.api.calls_to("answerCallbackQuery"))
        rig.api.press_button(USER, USER, feeds.message_id, "f:u:1", forge=True)
        await rig.api.wait_for_call("answerCallbackQuery", answered + 1)
        sweep.tried += 1
        assert await rig.services.store.subscriptions(USER) == set()
    assert (await rig.services.store.get_feed(1)).id == 1  # rf:y:1 never ran
    assert_no_unexpected_errors(rig, caplog)
    reliability_report(inputs=sweep.tried)

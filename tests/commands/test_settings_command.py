"""/settings through the real Application and the fake Bot API: the view, its
arguments (bad ones get a clear reply and change nothing), buttons that edit the
message in place, stale and forged buttons, and who may change a group's settings."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time

import pytest

from bot.chat_settings import STALE, parse_button, parse_settings_args, parse_time
from bot.replies import GROUP_ADMINS_ONLY
from storage.models import Chat
from tests.support.commands import add_group, current, data_of, press, text
from tests.support.rig import ADMIN, OTHER, USER, Rig

# In the group made by add_group, OTHER is a group admin and USER a plain member.
GROUP_ADMIN, MEMBER = OTHER, USER


async def chat_row(rig: Rig, chat_id: int) -> Chat:
    return await rig.services.store.get_chat(chat_id)


def last_answer(rig: Rig) -> dict[str, object]:
    answers = list(rig.api.callback_answers.values())
    assert answers, "no callback query was answered"
    return answers[-1]


@pytest.fixture(autouse=True)
def no_errors(caplog: pytest.LogCaptureFixture) -> object:
    """Nothing in these tests may end in the error handler (a second answer to a
    query, a refused edit, an unexpected exception)."""
    caplog.set_level(logging.INFO)
    yield
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


async def test_settings_shows_the_defaults_with_buttons(rig: Rig) -> None:
    shown = await rig.reply_to(USER, USER, "/settings")
    lines = text(shown).splitlines()
    assert lines[:4] == [
        "Daily counter message",
        "Daily message: on",
        "Time: 09:00",
        "Time zone: Europe/London (there it is 04:30, 3 December 2021)",
    ]
    # Not subscribed to anything yet: the daily message would not come.
    assert "follow at least one feed" in text(shown)
    assert data_of(shown) == [
        "st:d:0",
        "st:t:0800",
        "st:t:1000",
        "st:z:Europe/London",
        "st:z:Europe/Berlin",
        "st:z:Europe/Moscow",
        "st:z:America/New_York",
        "st:z:Asia/Tokyo",
        "st:z:Australia/Sydney",
        "st:p:digest",
    ]
    assert all(len(d.encode()) < 64 for d in data_of(shown))
    labels = [str(b["text"]) for b in shown.buttons]
    assert "✓ London" in labels and "Moscow" in labels


async def test_arguments_change_the_settings(rig: Rig) -> None:
    changed = await rig.reply_to(USER, USER, "/settings time 08:15")
    assert text(changed).startswith("Daily time set to 08:15")
    assert "Time: 08:15" in text(changed)
    changed = await rig.reply_to(USER, USER, "/settings zone europe/berlin")
    assert text(changed).startswith("Time zone set to Europe/Berlin")
    assert "Time zone: Europe/Berlin (there it is 05:30, 3 December 2021)" in text(changed)
    changed = await rig.reply_to(USER, USER, "/settings daily off")
    assert text(changed).startswith("Daily message off")
    assert data_of(changed)[0] == "st:d:1"
    chat = await chat_row(rig, USER)
    assert (chat.daily_time, chat.timezone, chat.daily_enabled) == (
        time(8, 15),
        "Europe/Berlin",
        False,
    )
    changed = await rig.reply_to(USER, USER, "/settings daily ON")
    assert (await chat_row(rig, USER)).daily_enabled is True
    assert "Daily message: on" in text(changed)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/settings zone Mars/Olympus_Mons", "is not a time zone I know"),
        ("/settings zone Moscow", "is not a time zone I know"),
        ("/settings zone localtime", "is not a time zone I know"),  # the server's own
        ("/settings zone Factory", "is not a time zone I know"),
        ("/settings zone ../../etc/passwd", "is not a time zone I know"),
        ("/settings zone <b>Europe/Berlin</b>", "«<b>Europe/Berlin</b>» is not a time zone"),
        ("/settings time 25:00", "«25:00» is not a time"),
        ("/settings time 8", "«8» is not a time"),
        ("/settings time 08:60", "is not a time"),
        ("/settings daily maybe", "is neither on nor off"),
        ("/settings colour blue", "Usage:"),
        ("/settings time", "Usage:"),
        ("/settings time 08:00 extra", "Usage:"),
    ],
)
async def test_bad_arguments_get_a_clear_reply_and_change_nothing(
    rig: Rig, command: str, expected: str
) -> None:
    await rig.reply_to(USER, USER, "/settings")
    before = await chat_row(rig, USER)
    answer = await rig.reply_to(USER, USER, command)
    assert expected in text(answer)
    if "zone" in command:
        assert "Europe/London, Europe/Berlin" in text(answer)  # examples
    else:
        assert "/settings time 08:00" in text(answer)  # usage
    assert answer.buttons == []
    assert await chat_row(rig, USER) == before


async def test_buttons_edit_the_message_in_place(rig: Rig) -> None:
    shown = await rig.reply_to(USER, USER, "/settings")
    count = len(rig.api.messages(USER))

    await press(rig, shown, USER, "st:d:0")
    assert last_answer(rig)["text"] == "Daily message off"
    now = current(rig, shown)
    assert "Daily message: off" in text(now)
    assert data_of(now)[0] == "st:d:1"
    assert (await chat_row(rig, USER)).daily_enabled is False

    await press(rig, now, USER, "st:t:1000")
    assert last_answer(rig)["text"] == "Daily time set to 10:00"
    now = current(rig, shown)
    assert "Time: 10:00" in text(now)
    assert data_of(now)[1:3] == ["st:t:0900", "st:t:1100"]

    await press(rig, now, USER, "st:z:Europe/Moscow")
    assert last_answer(rig)["text"] == "Time zone set to Europe/Moscow"
    now = current(rig, shown)
    assert "Time zone: Europe/Moscow (there it is 07:30, 3 December 2021)" in text(now)
    assert "✓ Moscow" in [str(b["text"]) for b in now.buttons]

    await press(rig, now, USER, "st:d:1")
    chat = await chat_row(rig, USER)
    assert (chat.daily_enabled, chat.daily_time, chat.timezone) == (
        True,
        time(10, 0),
        "Europe/Moscow",
    )
    # Every press edited the one message; nothing new was sent.
    assert len(rig.api.messages(USER)) == count
    assert len(current(rig, shown).edits) == 4


async def test_time_buttons_wrap_around_midnight(rig: Rig) -> None:
    shown = await rig.reply_to(USER, USER, "/settings time 00:30")
    assert data_of(shown)[1:3] == ["st:t:2330", "st:t:0130"]
    await press(rig, shown, USER, "st:t:2330")
    assert (await chat_row(rig, USER)).daily_time == time(23, 30)


async def test_an_old_button_does_what_its_label_says(rig: Rig) -> None:
    first = await rig.reply_to(USER, USER, "/settings")
    await rig.reply_to(USER, USER, "/settings daily off")
    # The first message still offers "off": pressing it again is harmless.
    await press(rig, first, USER, "st:d:0")
    assert last_answer(rig)["text"] == "Daily message off"
    assert (await chat_row(rig, USER)).daily_enabled is False
    assert data_of(current(rig, first))[0] == "st:d:1"


@pytest.mark.parametrize(
    "data",
    ["st:z:Mars/Olympus_Mons", "st:t:2500", "st:t:99", "st:d:2", "st:x", "st:", "st:z:UTC"],
)
async def test_forged_buttons_are_answered_and_change_nothing(rig: Rig, data: str) -> None:
    shown = await rig.reply_to(USER, USER, "/settings")
    before = await chat_row(rig, USER)
    answered = len(rig.api.calls_to("answerCallbackQuery"))
    rig.api.press_button(USER, USER, shown.message_id, data, forge=True)
    await rig.api.wait_for_call("answerCallbackQuery", answered + 1)
    assert last_answer(rig)["text"] == STALE
    assert await chat_row(rig, USER) == before
    assert current(rig, shown).edits == []


async def test_a_settings_button_forged_under_another_message_changes_nothing(rig: Rig) -> None:
    helped = await rig.reply_to(USER, USER, "/help")
    await rig.reply_to(USER, USER, "/settings")
    before = await chat_row(rig, USER)
    answered = len(rig.api.calls_to("answerCallbackQuery"))
    rig.api.press_button(USER, USER, helped.message_id, "st:d:0", forge=True)
    await rig.api.wait_for_call("answerCallbackQuery", answered + 1)
    assert last_answer(rig)["text"] == STALE
    assert await chat_row(rig, USER) == before
    assert current(rig, helped).edits == []


async def test_in_a_group_only_its_admins_change_settings(rig: Rig) -> None:
    group = add_group(rig)
    # A member sees them, without buttons, and is told who may change them.
    seen = await rig.reply_to(group, MEMBER, "/settings")
    assert "Daily message: on" in text(seen)
    assert GROUP_ADMINS_ONLY in text(seen)
    assert seen.buttons == []
    refused = await rig.reply_to(group, MEMBER, "/settings time 06:00")
    assert text(refused) == GROUP_ADMINS_ONLY
    before = await chat_row(rig, group)
    assert before.daily_time == time(9, 0)

    # The group's admin gets the buttons; a member pressing them is refused.
    shown = await rig.reply_to(group, GROUP_ADMIN, "/settings")
    assert data_of(shown)[0] == "st:d:0"
    await press(rig, shown, MEMBER, "st:d:0")
    assert last_answer(rig) == {"text": GROUP_ADMINS_ONLY, "show_alert": True, "url": None}
    assert await chat_row(rig, group) == before
    assert current(rig, shown).edits == []

    await press(rig, shown, GROUP_ADMIN, "st:d:0")
    assert (await chat_row(rig, group)).daily_enabled is False
    changed = await rig.reply_to(group, GROUP_ADMIN, "/settings@CommuniqueBot zone Asia/Tokyo")
    assert text(changed).startswith("Time zone set to Asia/Tokyo")
    assert (await chat_row(rig, group)).timezone == "Asia/Tokyo"
    # Being the bot's admin is not enough: the group decides for itself.
    rig.api.set_member_status(group, ADMIN, "member")
    refused = await rig.reply_to(group, ADMIN, "/settings daily on")
    assert text(refused) == GROUP_ADMINS_ONLY
    assert (await chat_row(rig, group)).daily_enabled is False


async def test_the_view_says_when_the_next_message_comes(rig: Rig) -> None:
    feed = await rig.services.store.add_feed("https://embassy.example/feed")
    await rig.reply_to(USER, USER, "/start")
    await rig.services.store.subscribe(USER, [feed.id])
    shown = await rig.reply_to(USER, USER, "/settings")
    assert "Next: today at 09:00" in text(shown)
    assert "follow at least one feed" not in text(shown)

    rig.clock.set(datetime(2021, 12, 3, 9, 0, tzinfo=UTC))
    await rig.run_job("daily")
    await rig.wait_delivered()
    shown = await rig.reply_to(USER, USER, "/settings time 10:00")
    assert "Next: tomorrow at 10:00 (today's has been sent)" in text(shown)

    rig.clock.set(datetime(2021, 12, 4, 9, 30, tzinfo=UTC))
    await rig.reply_to(USER, USER, "/settings daily off")
    shown = await rig.reply_to(USER, USER, "/settings time 09:00")
    assert "Next:" not in text(shown)
    shown = await rig.reply_to(USER, USER, "/settings daily on")
    assert "Next: within a minute" in text(shown)


# ------------------------------------------------------------- pure parsing


def test_parse_time() -> None:
    assert parse_time("08:00") == time(8, 0)
    assert parse_time("8:05") == time(8, 5)
    assert parse_time("23:59") == time(23, 59)
    for bad in ("24:00", "8", "08:0", "08-00", "０８:00", "", " : "):
        assert parse_time(bad) is None, bad


def test_parse_arguments_and_buttons() -> None:
    assert parse_settings_args(["zone", "UTC"]) != parse_settings_args(["zone", "Nowhere"])
    assert parse_button("st:z:Europe/Berlin") is not None
    assert parse_button("st:z:Europe/Nowhere") is None
    assert parse_button("st:t:0930") is not None
    assert parse_button("f:s:1") is None

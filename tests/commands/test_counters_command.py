"""/counters shows the daily message for the clock's moment, in private chats and in
groups; /addcounter and /removecounter refuse bad input with a clear reply and
change nothing. Through the real Application and the fake Bot API."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.support.counters import GOLDEN, add_seed_counters
from tests.support.rig import ADMIN, OTHER, USER, Rig
from text.counters import NO_COUNTERS

GROUP = -100888


async def counters_as_seen(rig: Rig) -> list[tuple[date, str, str]]:
    return [
        (c.start_date, c.timezone, c.template) for c in await rig.services.store.list_counters()
    ]


async def test_counters_with_none_set(rig: Rig) -> None:
    shown = await rig.reply_to(USER, USER, "/counters")
    assert shown.plain_text == "3 December 2021\nMoscow: 07:30\nLondon: 04:30\n\n" + NO_COUNTERS


async def test_counters_in_private_and_group_chats_show_the_seed_message(rig: Rig) -> None:
    await add_seed_counters(rig)
    rig.api.add_chat(GROUP, "supergroup", title="Press room", members=[USER, OTHER])
    # The rig's clock stands at 04:30 UTC on 3 December 2021: 07:30 in Moscow.
    for chat, user in ((USER, USER), (GROUP, USER), (GROUP, OTHER), (ADMIN, ADMIN)):
        shown = await rig.reply_to(chat, user, "/counters")
        assert shown.plain_text == GOLDEN
        assert shown.parse_mode == "HTML"
    # Reading the counters never asks Telegram who is an admin.
    assert rig.api.calls_to("getChatMember") == []


async def test_counters_follow_the_clock_across_moscow_midnight(rig: Rig) -> None:
    await add_seed_counters(rig)
    rig.clock.set(datetime(2021, 12, 3, 20, 59, tzinfo=UTC))  # 23:59 in Moscow
    before = (await rig.reply_to(USER, USER, "/counters")).plain_text or ""
    assert before.splitlines()[:3] == ["3 December 2021", "Moscow: 23:59", "London: 20:59"]
    assert "1370 days" in before and "1362 days" in before
    rig.clock.set(datetime(2021, 12, 3, 21, 0, tzinfo=UTC))  # midnight in Moscow
    after = (await rig.reply_to(USER, USER, "/counters")).plain_text or ""
    # The date follows the first clock (Moscow); the counters count in Moscow too.
    assert after.splitlines()[:3] == ["4 December 2021", "Moscow: 00:00", "London: 21:00"]
    assert "1371 days" in after and "1363 days" in after


async def test_addcounter_stores_a_counter_and_removecounter_removes_it(rig: Rig) -> None:
    added = await rig.reply_to(ADMIN, ADMIN, "/addcounter 2021-12-01 Since <the> meeting: {days}")
    assert added.plain_text == (
        "Added counter 1 (from 2021-12-01, Europe/London calendar). "
        "/counters shows the message now."
    )
    shown = await rig.reply_to(USER, USER, "/counters")
    assert (shown.plain_text or "").splitlines()[-1] == "Since <the> meeting: 2"
    assert "Since &lt;the&gt; meeting: 2" in (shown.text or "")
    # Today is allowed (0 days); the zone's own calendar decides what today is.
    today = await rig.reply_to(ADMIN, ADMIN, "/addcounter 2021-12-03 europe/moscow {days} today")
    assert (today.plain_text or "").startswith(
        "Added counter 2 (from 2021-12-03, Europe/Moscow calendar)"
    )

    removed = await rig.reply_to(ADMIN, ADMIN, "/removecounter 1")
    assert removed.plain_text == "Counter 1 removed."
    assert [c.id for c in await rig.services.store.list_counters()] == [2]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/addcounter", "give a start date and a template"),
        ("/addcounter 2018-03-04", "give a start date and a template"),
        ("/addcounter 2018-13-04 {days} days", "«2018-13-04» is not a date as YYYY-MM-DD"),
        ("/addcounter 2018-02-30 {days} days", "«2018-02-30» is not a date"),
        ("/addcounter 04.03.2018 {days} days", "«04.03.2018» is not a date"),
        ("/addcounter 20180304 {days} days", "«20180304» is not a date"),
        ("/addcounter 2018-W10-1 {days} days", "«2018-W10-1» is not a date"),
        ("/addcounter 2018-03-04 Mars/Olympus_Mons {days} days", "is not a time zone"),
        ("/addcounter 2018-03-04 Europe/Moscow days have passed", "must contain {days}"),
        ("/addcounter 2018-03-04 Europe/Moscow", "the template is empty"),
        ("/addcounter 2021-12-04 {days} days", "2021-12-04 is in the future"),
        # Tokyo's calendar decides: there it is 13:30 on 3 December.
        ("/addcounter 2021-12-04 Asia/Tokyo {days} days", "2021-12-04 is in the future"),
    ],
)
async def test_addcounter_refuses_bad_input_and_changes_nothing(
    rig: Rig, command: str, expected: str
) -> None:
    await add_seed_counters(rig)
    before = await counters_as_seen(rig)
    answer = await rig.reply_to(ADMIN, ADMIN, command)
    assert expected in (answer.plain_text or "")
    assert await counters_as_seen(rig) == before


async def test_addcounter_accepts_a_date_that_is_today_only_in_its_own_zone(rig: Rig) -> None:
    # 04:30 UTC on 3 December is 13:30 on 3 December in Tokyo: fine. At 20:00 UTC it is
    # already 4 December in Tokyo, so the 4th counts as today there but not in London.
    rig.clock.set(datetime(2021, 12, 3, 20, 0, tzinfo=UTC))
    added = await rig.reply_to(ADMIN, ADMIN, "/addcounter 2021-12-04 Asia/Tokyo {days} days")
    assert (added.plain_text or "").startswith("Added counter 1")
    refused = await rig.reply_to(ADMIN, ADMIN, "/addcounter 2021-12-04 {days} days")
    assert "is in the future" in (refused.plain_text or "")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/removecounter", "Usage: /removecounter COUNTER_ID"),
        ("/removecounter one", "Usage: /removecounter COUNTER_ID"),
        ("/removecounter 1 2", "Usage: /removecounter COUNTER_ID"),
        ("/removecounter 99", "There is no counter 99."),
    ],
)
async def test_removecounter_refuses_bad_input_and_changes_nothing(
    rig: Rig, command: str, expected: str
) -> None:
    await add_seed_counters(rig)
    before = await counters_as_seen(rig)
    answer = await rig.reply_to(ADMIN, ADMIN, command)
    assert expected in (answer.plain_text or "")
    assert await counters_as_seen(rig) == before


async def test_only_admins_manage_counters(rig: Rig) -> None:
    await add_seed_counters(rig)
    before = await counters_as_seen(rig)
    for command in ("/addcounter 2020-01-01 {days} days", "/removecounter 1"):
        answer = await rig.reply_to(USER, USER, command)
        assert "only the bot's admins" in (answer.plain_text or "")
    assert await counters_as_seen(rig) == before

"""Counters in two languages, end to end (issue 17): /addcounter takes choice groups
checked by the template's own language and keeps that language; /countertext gives a
counter its text in another language, checked against that language's plural forms;
each chat's daily message reads the text of its language (the counter's own when it
has none). Bad input gets a clear answer and changes nothing."""

from __future__ import annotations

from datetime import time

import pytest

from tests.support.counters import (
    GLUSHKOV_RU,
    GOLDEN,
    GOLDEN_RU,
    SALISBURY,
    SALISBURY_RU,
    add_seed_counters,
)
from tests.support.feeds import statement
from tests.support.languages import speak
from tests.support.rig import ADMIN, OTHER, USER, Rig, add_feed, subscribe

PLURAL_EN = (
    "/addcounter 2018-03-04 Europe/Moscow {days} {day has|days have} passed since the"
    " Salisbury incident"
)
RUSSIAN = "С инцидента в Солсбери {прошёл|прошло|прошло} {days} {день|дня|дней}"


async def counters_as_stored(rig: Rig) -> list[tuple[int, str, str, dict[str, str]]]:
    return [
        (c.id, c.template, c.language, dict(c.texts))
        for c in await rig.services.store.list_counters()
    ]


async def daily_messages(rig: Rig, *chats: int) -> list[str]:
    """Each chat's daily message at the rig's moment (07:30 in Moscow, 3 December
    2021): subscribed, with its daily message at 07:30 Moscow time."""
    feed = await add_feed(rig, statement(1))
    await subscribe(rig, feed, chats)
    for chat in chats:
        await rig.services.store.update_chat_settings(
            chat, timezone="Europe/Moscow", daily_time=time(7, 30)
        )
    await rig.run_job("daily")
    await rig.wait_delivered()
    return [rig.texts(chat)[-1] for chat in chats]


async def test_a_counter_in_english_with_plural_forms_and_a_russian_text(rig: Rig) -> None:
    added = await rig.reply_to(ADMIN, ADMIN, PLURAL_EN)
    assert added.plain_text == (
        "Added counter 1 (from 2018-03-04, Europe/Moscow calendar). "
        "/counters shows the message now."
    )
    [(_, _, language, texts)] = await counters_as_stored(rig)
    assert (language, texts) == ("en", {})

    russian = await rig.reply_to(ADMIN, ADMIN, f"/countertext 1 ru {RUSSIAN}")
    assert russian.plain_text == (
        "Counter 1 has a text for chats in ru now; today it reads:\n"
        "С инцидента в Солсбери прошло 1370 дней\n"
        "Chats in other languages keep its own text."
    )
    [(_, _, _, texts)] = await counters_as_stored(rig)
    assert texts == {"ru": RUSSIAN}

    await speak(rig, USER, "ru")
    await speak(rig, OTHER, "en")
    in_russian, in_english = await daily_messages(rig, USER, OTHER)
    assert in_russian.splitlines()[-1] == "С инцидента в Солсбери прошло 1370 дней"
    assert in_russian.startswith("3 декабря 2021\nМосква: 07:30\nЛондон: 04:30\n")
    assert in_english.splitlines()[-1] == "1370 days have passed since the Salisbury incident"
    assert in_english.startswith("3 December 2021\nMoscow: 07:30\nLondon: 04:30\n")


async def test_the_seed_counters_with_their_russian_texts(rig: Rig) -> None:
    """The seed's English lines stay byte for byte; a Russian chat reads the golden
    Russian message."""
    await add_seed_counters(rig)
    for counter_id, text in ((1, SALISBURY_RU), (2, GLUSHKOV_RU)):
        answer = await rig.reply_to(ADMIN, ADMIN, f"/countertext {counter_id} ru {text}")
        assert (answer.plain_text or "").startswith(f"Counter {counter_id} has a text")
    await speak(rig, USER, "ru")
    await speak(rig, OTHER, "en")
    assert await daily_messages(rig, USER, OTHER) == [GOLDEN_RU, GOLDEN]


async def test_a_text_is_replaced_and_a_chat_without_one_gets_the_counters_own(
    rig: Rig,
) -> None:
    await rig.reply_to(ADMIN, ADMIN, f"/addcounter 2018-03-04 Europe/Moscow {SALISBURY.template}")
    await rig.reply_to(ADMIN, ADMIN, "/countertext 1 ru Прошло {days} {дня|дней|дней}")
    again = await rig.reply_to(ADMIN, ADMIN, f"/countertext 1 ru {RUSSIAN}")
    assert "С инцидента в Солсбери прошло 1370 дней" in (again.plain_text or "")
    [(_, template, _, texts)] = await counters_as_stored(rig)
    assert (template, texts) == (SALISBURY.template, {"ru": RUSSIAN})
    # An English text replaces the counter's own for English chats only.
    await rig.reply_to(ADMIN, ADMIN, "/countertext 1 en {days} {day|days} since Salisbury")
    await speak(rig, USER, "ru")
    await speak(rig, OTHER, "en")
    in_russian, in_english = await daily_messages(rig, USER, OTHER)
    assert in_russian.splitlines()[-1] == "С инцидента в Солсбери прошло 1370 дней"
    assert in_english.splitlines()[-1] == "1370 days since Salisbury"


async def test_a_russian_template_is_checked_by_russian_forms(rig: Rig) -> None:
    two = await rig.reply_to(
        ADMIN, ADMIN, "/addcounter 2018-03-04 Europe/Moscow Прошло {days} {день|дней}"
    )
    assert "{день|дней} needs 3 forms, one for each of one|few|many" in (two.plain_text or "")
    assert await counters_as_stored(rig) == []
    three = await rig.reply_to(ADMIN, ADMIN, f"/addcounter 2018-03-04 Europe/Moscow {RUSSIAN}")
    assert (three.plain_text or "").startswith("Added counter 1")
    assert await counters_as_stored(rig) == [(1, RUSSIAN, "ru", {})]
    # Its own text is Russian: every chat without a text of its language reads it.
    await speak(rig, OTHER, "en")
    [in_english] = await daily_messages(rig, OTHER)
    assert in_english.splitlines()[-1] == "С инцидента в Солсбери прошло 1370 дней"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/countertext", "give a counter id, a language and a template"),
        ("/countertext 1 ru", "give a counter id, a language and a template"),
        ("/countertext one ru {days} дней", "«one» is not a counter id"),
        ("/countertext 1 de {days} Tage", "«de» is not a language of the bot: en, ru"),
        ("/countertext 1 ru прошло дней", "the template must contain {days}"),
        (
            "/countertext 1 ru {прошёл|прошло} {days} {день|дня|дней}",
            "{прошёл|прошло} needs 3 forms, one for each of one|few|many",
        ),
        ("/countertext 1 en {days} {day|days|days}", "needs 2 forms, one for each of one|other"),
        (f"/countertext 9 ru {RUSSIAN}", "There is no counter 9."),
    ],
)
async def test_countertext_refuses_bad_input_and_changes_nothing(
    rig: Rig, command: str, expected: str
) -> None:
    await add_seed_counters(rig)
    before = await counters_as_stored(rig)
    answer = await rig.reply_to(ADMIN, ADMIN, command)
    assert expected in (answer.plain_text or ""), answer.plain_text
    if expected != "There is no counter 9.":
        assert (answer.plain_text or "").startswith("Usage: /countertext COUNTER_ID LANG TEMPLATE")
    assert await counters_as_stored(rig) == before


async def test_only_admins_give_counters_texts(rig: Rig) -> None:
    await add_seed_counters(rig)
    before = await counters_as_stored(rig)
    refused = await rig.reply_to(USER, USER, f"/countertext 1 ru {RUSSIAN}")
    assert refused.plain_text == "Sorry, only the bot's admins can do that."
    await speak(rig, OTHER, "ru")
    refused = await rig.reply_to(OTHER, OTHER, f"/countertext 1 ru {RUSSIAN}")
    assert refused.plain_text == "Извините, это могут делать только администраторы бота."
    assert await counters_as_stored(rig) == before


async def test_a_russian_admin_manages_counters_in_russian(rig: Rig) -> None:
    await speak(rig, ADMIN, "ru")
    usage = await rig.reply_to(ADMIN, ADMIN, "/addcounter 2018-03-04")
    assert (usage.plain_text or "").splitlines() == [
        "Формат: /addcounter YYYY-MM-DD [Area/City] TEMPLATE — укажите дату начала и шаблон.",
        "Например: /addcounter 2018-03-04 Europe/Moscow С инцидента в Солсбери "
        "{прошёл|прошло|прошло} {days} {день|дня|дней}",
    ]
    for command, reason in [
        ("/addcounter 2018-13-04 {days}", "«2018-13-04» — не дата в формате ГГГГ-ММ-ДД"),
        ("/addcounter 2018-03-04 Mars/Base {days}", "«Mars/Base» — не часовой пояс"),
        ("/addcounter 2018-03-04 Прошло дней", "в шаблоне должно быть {days}"),
        ("/addcounter 2018-03-04 {days} {день|дней}", "в {день|дней} нужно 3 формы"),
    ]:
        answer = await rig.reply_to(ADMIN, ADMIN, command)
        assert reason in (answer.plain_text or ""), command
    future = await rig.reply_to(ADMIN, ADMIN, "/addcounter 2021-12-05 {days} дней")
    assert future.plain_text == (
        "Не добавлено: дата 2021-12-05 ещё не наступила (сегодня 2021-12-03 в поясе "
        "Europe/London). Счётчик считает дни с даты, которая уже прошла."
    )
    assert await counters_as_stored(rig) == []

    added = await rig.reply_to(ADMIN, ADMIN, f"/addcounter 2018-03-04 Europe/Moscow {RUSSIAN}")
    assert added.plain_text == (
        "Счётчик 1 добавлен (с 2018-03-04, по календарю Europe/Moscow). "
        "Команда /counters покажет сообщение сейчас."
    )
    english = await rig.reply_to(
        ADMIN, ADMIN, "/countertext 1 en {days} {day has|days have} passed since Salisbury"
    )
    assert english.plain_text == (
        "Теперь у счётчика 1 есть текст для чатов на языке en; сегодня он выглядит так:\n"
        "1370 days have passed since Salisbury\n"
        "Чаты на других языках получают его основной текст."
    )
    usage = await rig.reply_to(ADMIN, ADMIN, "/countertext 1 xx {days}")
    assert (usage.plain_text or "").startswith(
        "Формат: /countertext COUNTER_ID LANG TEMPLATE — «xx» — не язык бота; языки: en, ru."
    )
    missing = await rig.reply_to(ADMIN, ADMIN, f"/countertext 7 ru {RUSSIAN}")
    assert missing.plain_text == "Счётчика 7 нет."
    assert (await rig.reply_to(ADMIN, ADMIN, "/removecounter x")).plain_text == (
        "Формат: /removecounter COUNTER_ID — счётчики показывает /counters, их номера есть в"
        " /stats."
    )
    assert (await rig.reply_to(ADMIN, ADMIN, "/removecounter 1")).plain_text == (
        "Счётчик 1 удалён."
    )
    assert await counters_as_stored(rig) == []

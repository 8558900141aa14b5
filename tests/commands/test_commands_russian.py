"""A reader whose Telegram speaks Russian is answered in Russian from the first
message (issue 17): the welcome, help, feeds, /latest, /search, alerts, filters,
settings and their buttons, refusals and usage lines. Other languages start in
DEFAULT_LANGUAGE; `/settings language` and its buttons switch; the command menus
are published once per language."""

from __future__ import annotations

import json
from pathlib import Path

from bot.app import ADMIN_COMMANDS, USER_COMMANDS
from tests.support.commands import (
    add_group,
    button,
    check_output,
    current,
    press,
    text,
)
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import numbered
from tests.support.rig import ADMIN, OTHER, USER, Rig, add_feed, start_rig, stop_rig

IVAN = 4004  # Telegram in Russian
HANS = 5005  # Telegram in German: a language we do not speak


async def test_a_russian_reader_is_welcomed_and_answered_in_russian(rig: Rig) -> None:
    rig.api.add_user(IVAN, "Иван", language_code="ru")
    feed = await add_feed(rig, *numbered(3), path="/a.xml")

    welcome = await rig.reply_to(IVAN, IVAN, "/start")
    first, second = text(welcome).split("\n\n")
    assert first.startswith("Communique следит за лентами официальных заявлений")
    assert second == (
        "Нажмите на ленту ниже, чтобы подписаться, или отправьте /help, чтобы увидеть все команды."
    )
    assert await press(rig, welcome, IVAN, f"f:s:{feed}") == "Подписка оформлена"
    assert [b["text"] for b in current(rig, welcome).buttons] == ["✅ 1. Embassy statements"]

    help_text = text(await rig.reply_to(IVAN, IVAN, "/help"))
    assert help_text.startswith("Что умеет Communique\n\n/start — приветствие с кнопками подписки")
    assert "/latest [N] [FEED_ID] — N последних заявлений (по умолчанию 5, не больше 20)" in (
        help_text
    )
    assert "   например: /latest, /latest 10, /latest 5 2" in help_text
    assert "/addfeed" not in help_text  # a reader sees no admin commands

    latest = await rig.reply_to(IVAN, IVAN, "/latest 2")
    assert text(latest).split("\n")[:4] == [
        "Последние заявления (1–2)",
        "",
        "1. 3 ноября 2021 · Embassy statements",
        "Statement number 3",  # the statement itself stays in its own language
    ]
    assert [b["text"] for b in latest.buttons] == ["Полный текст 1", "Полный текст 2", "◀ Ранее"]

    assert text(await rig.reply_to(IVAN, IVAN, "/latest zz")).startswith(
        "«zz» — не число. Формат команды: /latest [N] [FEED_ID]"
    )
    assert text(await rig.reply_to(IVAN, IVAN, "/search")).startswith(
        'Формат команды: /search QUERY — слова, "фраза в кавычках" или начало слова*.'
    )
    assert text(await rig.reply_to(IVAN, IVAN, "/search nothingzz")) == (
        "По запросу «nothingzz» ничего не найдено.\n"
        'Попробуйте меньше слов, "фразу в кавычках" или начало слова, например санкци*.'
    )
    assert text(await rig.reply_to(IVAN, IVAN, "/subscribe 9")) == (
        "Ленты 9 нет (возможно, её удалили). Список лент — /feeds."
    )
    assert text(await rig.reply_to(IVAN, IVAN, "/unknowncmd")) == (
        "Команда /unknowncmd мне незнакома. Список команд — /help."
    )
    await check_output(rig)


async def test_alerts_and_filters_in_russian(rig: Rig) -> None:
    rig.api.add_user(IVAN, "Иван", language_code="ru")
    feed = await add_feed(rig, *numbered(2), path="/a.xml")
    await rig.reply_to(IVAN, IVAN, f"/subscribe {feed}")

    assert text(await rig.reply_to(IVAN, IVAN, "/alert sanctions")) == (
        "Оповещение 1 сохранено: «sanctions». Каждое новое подходящее заявление из любой"
        " ленты будет приходить сюда. Список оповещений — /alerts, удалить это — /unalert 1."
    )
    listed = await rig.reply_to(IVAN, IVAN, "/alerts")
    assert text(listed).split("\n")[:2] == ["Оповещения (1 из 20 возможных)", "1. «sanctions»"]
    assert [b["text"] for b in listed.buttons] == ["✖ 1. sanctions"]
    assert text(await rig.reply_to(IVAN, IVAN, "/unalert 9")) == (
        "В этом чате нет оповещения 9. Список оповещений — /alerts."
    )

    assert text(await rig.reply_to(IVAN, IVAN, f"/filter {feed} sanctions -consular")) == (
        f"Фильтр для ленты {feed}, Embassy statements, задан: «sanctions -consular». Теперь"
        f" этот чат будет получать только подходящие заявления. Удалить фильтр — /unfilter {feed}."
    )
    feeds = text(await rig.reply_to(IVAN, IVAN, "/feeds"))
    assert "1. Embassy statements — ✅ подписка, фильтр «sanctions -consular»" in feeds
    assert text(await rig.reply_to(IVAN, IVAN, f"/unfilter {feed}")) == (
        f"Фильтр удалён: снова приходят все новые заявления ленты {feed}."
    )
    await check_output(rig)


async def test_settings_language_switches_by_word_and_by_button(rig: Rig) -> None:
    rig.api.add_user(IVAN, "Иван", language_code="ru")
    shown = await rig.reply_to(IVAN, IVAN, "/settings")
    lines = text(shown).split("\n")
    assert lines[0] == "Ежедневное сообщение со счётчиками"
    assert "Часовой пояс: Europe/London (там сейчас 04:30, 3 декабря 2021)" in lines
    assert "Язык: Русский" in lines
    assert "Одна сводка в день" in [b["text"] for b in shown.buttons]

    assert text(await rig.reply_to(IVAN, IVAN, "/settings language de")) == (
        "Языка «de» я не знаю. Выберите: en (English), ru (Русский)."
    )
    switched = await rig.reply_to(IVAN, IVAN, "/settings language en")
    assert text(switched).startswith("Language: English\n\nDaily counter message")
    assert text(await rig.reply_to(IVAN, IVAN, "/help")).startswith("What Communique can do")

    # The names people type work too, and the buttons say which is on.
    choice = await rig.reply_to(IVAN, IVAN, "/settings language")
    assert [b["text"] for b in choice.buttons] == ["✓ English", "Русский"]
    assert await press(rig, choice, IVAN, button(choice, "Русский")) == "Язык: Русский"
    # The message becomes the settings, in the language just chosen.
    now = current(rig, choice)
    assert text(now).startswith("Ежедневное сообщение со счётчиками")
    assert "Язык: Русский" in text(now).split("\n")
    assert text(await rig.reply_to(IVAN, IVAN, "/counters")).split("\n")[:2] == [
        "3 декабря 2021",
        "Москва: 07:30",
    ]
    assert text(await rig.reply_to(IVAN, IVAN, "/settings language английский")).startswith(
        "Language: English"
    )
    await check_output(rig)


async def test_other_languages_and_groups_start_in_the_default_language(rig: Rig) -> None:
    rig.api.add_user(HANS, "Hans", language_code="de")
    assert text(await rig.reply_to(HANS, HANS, "/help")).startswith("What Communique can do")
    group = add_group(rig)
    rig.api.add_user(IVAN, "Иван", language_code="ru")
    # A group reads the default language, whoever writes there first.
    assert text(await rig.reply_to(group, USER, "/help")).startswith("What Communique can do")
    # Only its admins change it, and then everyone there reads Russian.
    refused = await rig.reply_to(group, USER, "/settings language ru")
    assert text(refused) == (
        "Only the group's admins can change this group's subscriptions and settings."
    )
    await rig.reply_to(group, OTHER, "/settings language ru")
    assert text(await rig.reply_to(group, USER, "/help")).startswith("Что умеет Communique")
    assert text(await rig.reply_to(group, USER, "/settings time 06:00")) == (
        "Менять подписки и настройки группы могут только её администраторы."
    )
    await check_output(rig)


async def test_default_language_russian_greets_other_languages_in_russian(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    rig = await start_rig(tmp_path, fake_bot_api, feed_server, env={"DEFAULT_LANGUAGE": "ru"})
    try:
        rig.api.add_user(HANS, "Hans", language_code="de")
        assert text(await rig.reply_to(HANS, HANS, "/help")).startswith("Что умеет Communique")
        # A user whose Telegram speaks English is still answered in English.
        assert text(await rig.reply_to(USER, USER, "/help")).startswith("What Communique can do")
        await check_output(rig)
    finally:
        await stop_rig(rig)


async def test_command_menus_are_published_in_each_language(rig: Rig) -> None:
    def menu(scope: dict[str, object], language: str) -> list[tuple[str, str]]:
        key = (json.dumps(scope, sort_keys=True), language)
        return [(c["command"], c["description"]) for c in rig.api.commands.get(key, [])]

    everyone = {"type": "default"}
    admin = {"type": "chat", "chat_id": ADMIN}
    english = menu(everyone, "")
    russian = menu(everyone, "ru")
    assert english == [(c.command, c.description) for c in USER_COMMANDS]
    assert [command for command, _ in russian] == [command for command, _ in english]
    assert dict(russian)["latest"] == "Последние заявления"
    assert dict(russian)["search"] != dict(english)["search"]
    assert [command for command, _ in menu(admin, "ru")] == [
        c.command for c in USER_COMMANDS + ADMIN_COMMANDS
    ]
    assert dict(menu(admin, "ru"))["countertext"] == (
        "COUNTER_ID LANG TEMPLATE: текст счётчика на другом языке"
    )
    assert menu(admin, "en") == []  # the menu without a language is the English one
    # Every description is translated (none left in English).
    assert all(ru != en for (_, ru), (_, en) in zip(russian, english, strict=True))

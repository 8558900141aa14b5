"""What admins read, rendered without a network, in both languages (issue 17): /stats,
the OPML import summary, channels, and the parsers of /addcounter, /countertext and
/settings @channel with their reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.admin import parse_addcounter, parse_countertext, render_stats
from bot.channels import parse_channel_settings, parse_feed_selection, render_channel
from bot.opml import ImportResult, parse_opml, refuse_private, render_import_summary
from storage.models import Chat
from storage.store import Channel, Stats
from text.i18n import translator

RU = translator("ru")
NOW = datetime(2021, 12, 3, 4, 30, tzinfo=UTC)


# ------------------------------------------------------------------------ /stats


STATS = Stats(
    chats_active=7,
    chats_inactive={"blocked the bot": 2},
    subscriptions=9,
    feeds=3,
    items=120,
    sent_24h=40,
    failed_24h=1,
    duplicates_24h=0,
    pending=2,
    oldest_pending_at=NOW - timedelta(seconds=95),
    failure_reasons=(("Forbidden: bot was kicked", 1),),
    alerts=4,
    filters=1,
    held=3,
    digest_chats=1,
)


def test_stats_in_both_languages() -> None:
    counters = [(1, "{days} days have passed since <the> incident")]
    assert render_stats(STATS, NOW, counters).split("\n") == [
        "<b>Statistics</b>",
        "Chats: 7 active, 2 inactive (blocked the bot: 2)",
        "Subscriptions: 9",
        "Feeds: 3; statements: 120",
        "Last 24 hours: 40 sent, 1 failed, 0 possible duplicates",
        "Failed 1 × Forbidden: bot was kicked",
        "Outbox: 2 pending; oldest 1 min 35 s old",
        "Saved searches: 4 alert(s), 1 filter(s)",
        "Daily digests: 1 chat(s), 3 statement(s) held for them",
        "Counters: 1: {days} days have passed since &lt;the&gt; inci",
    ]
    # Why chats went inactive and why sends failed are stored as Telegram said them.
    assert render_stats(STATS, NOW, counters, "ru").split("\n") == [
        "<b>Статистика</b>",
        "Чаты: активных — 7, неактивных — 2 (blocked the bot: 2)",
        "Подписок: 9",
        "Лент: 3; заявлений: 120",
        "За последние 24 часа: отправлено — 40, не доставлено — 1, возможных повторов — 0",
        "Не доставлено: 1 × Forbidden: bot was kicked",
        "Очередь: ждут отправки — 2; самое давнее ждёт 1 мин 35 с",
        "Сохранённые поиски: оповещений — 4, фильтров — 1",
        "Ежедневные сводки: чатов — 1, заявлений ждут сводки — 3",
        "Счётчики: 1: {days} days have passed since &lt;the&gt; inci",
    ]


# -------------------------------------------------------------------------- OPML


def test_the_import_summary_in_russian() -> None:
    feeds, refused = parse_opml(
        b'<opml version="2.0"><body>'
        b'<outline xmlUrl="ftp://a.example/feed"/>'
        b'<outline xmlUrl="http://127.0.0.1/feed"/>'
        b"</body></opml>"
    )
    _kept, private = refuse_private(feeds, allow_private=False)
    result = ImportResult(refused=refused + private)
    # English as the command line prints it.
    assert [why for _, why in result.refused] == [
        "not an http(s) URL",
        "a private address (ALLOW_PRIVATE_FEEDS is off)",
    ]
    assert render_import_summary(result, "a.opml", "ru").split("\n") == [
        "<b>Импорт: a.opml</b>",
        "Добавлено: 0; уже были: 0; отклонено: 2.",
        "Отклонены:",
        "• ftp://a.example/feed: не адрес http(s)",
        "• http://127.0.0.1/feed: адрес частной сети (ALLOW_PRIVATE_FEEDS выключен)",
    ]


# ------------------------------------------------------------------------ parsers


def test_addcounter_checks_choice_groups_by_the_templates_language() -> None:
    english = "{days} {day has|days have} passed"
    assert parse_addcounter(f"2018-03-04 Europe/Moscow {english}") == (
        date(2018, 3, 4),
        "Europe/Moscow",
        english,
    )
    russian = "прошло {days} {день|дня|дней}"
    assert parse_addcounter(f"2018-03-04 {russian}")[2] == russian
    with pytest.raises(ValueError, match=r"needs 3 forms, one for each of one\|few\|many"):
        parse_addcounter("2018-03-04 прошло {days} {день|дней}")
    with pytest.raises(ValueError, match=r"^в \{день\|дней\} нужно 3 формы"):
        parse_addcounter("2018-03-04 прошло {days} {день|дней}", RU)
    with pytest.raises(ValueError, match=r"needs 2 forms, one for each of one\|other"):
        parse_addcounter("2018-03-04 {days} {day|days|days}")
    with pytest.raises(ValueError, match=r"^укажите дату начала и шаблон$"):
        parse_addcounter("2018-03-04", RU)


def test_countertext_arguments() -> None:
    assert parse_countertext("1 RU прошло  {days} {день|дня|дней}") == (
        1,
        "ru",
        "прошло  {days} {день|дня|дней}",
    )
    assert parse_countertext("12 en {days} {day|days}") == (12, "en", "{days} {day|days}")
    # A Latin text for Russian chats still follows Russian forms.
    with pytest.raises(ValueError, match=r"needs 3 forms"):
        parse_countertext("1 ru {days} {day|days}")
    for bad, reason in [
        ("1 ru", "give a counter id, a language and a template"),
        ("x1 ru {days}", "«x1» is not a counter id; /stats lists them"),
        ("1234567890 ru {days}", "«1234567890» is not a counter id"),
        ("1 fr {days} jours", "«fr» is not a language of the bot: en, ru"),
        ("1 ru дней", "the template must contain {days}"),
    ]:
        with pytest.raises(ValueError, match=reason):
            parse_countertext(bad)
    with pytest.raises(ValueError, match=r"^«fr» — не язык бота; языки: en, ru$"):
        parse_countertext("1 fr {days}", RU)


def test_channel_settings_take_a_language() -> None:
    assert parse_channel_settings(["language", "RU"]).language == "ru"
    assert parse_channel_settings(["lang", "en", "daily", "off"]).language == "en"
    assert not parse_channel_settings(["language", "ru"]).empty
    with pytest.raises(ValueError, match="«de» is not a language of the bot: en, ru"):
        parse_channel_settings(["language", "de"])
    with pytest.raises(ValueError, match=r"^«colour» — не настройка; есть time, zone, daily"):
        parse_channel_settings(["colour", "blue"], RU)
    with pytest.raises(ValueError, match=r"^«x» — не номер ленты$"):
        parse_feed_selection(["1", "x"], RU)


def _channel(language: str, *, daily: bool = True, active: bool = True) -> Channel:
    chat = Chat(
        id=-1001,
        type="channel",
        title="News <wire>",
        timezone="Europe/Moscow",
        daily_time=time(7, 30),
        daily_enabled=daily,
        active=active,
        inactive_reason=None if active else "kicked the bot",
        language=language,
    )
    return Channel(chat, "newschan", frozenset())


def test_a_channel_shows_its_language_when_it_is_not_the_default() -> None:
    assert render_channel(_channel("en")) == (
        "<b>News &lt;wire&gt;</b> (@newschan)\nfeeds: none; daily message: 07:30 Europe/Moscow"
    )
    assert render_channel(_channel("ru"), "ru").split("\n")[1] == (
        "ленты: нет; ежедневное сообщение: 07:30 Europe/Moscow; язык: ru"
    )
    assert render_channel(_channel("ru"), "ru", default_language="ru").split("\n")[1] == (
        "ленты: нет; ежедневное сообщение: 07:30 Europe/Moscow"
    )
    assert render_channel(_channel("en", daily=False, active=False), "ru") == (
        "<b>News &lt;wire&gt;</b> (@newschan) — неактивен: kicked the bot\n"
        "ленты: нет; ежедневное сообщение: выключено"
    )

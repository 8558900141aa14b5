"""Text made for admins, in both languages (issue 17): Phrases (English text made
far from any chat, a poll's alert, said later in the reader's language), the page
preview and the feed choice with their plural forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from text.i18n import N_, translator
from text.page_preview import render_feed_choice, render_page_preview
from text.phrase import Phrase, say

RU = translator("ru")


# ------------------------------------------------------------------------ Phrase


def test_a_phrase_is_its_english_text_and_says_itself_in_russian() -> None:
    back = Phrase(N_("works again"))
    assert back == "works again" and str(back) == "works again"
    assert isinstance(str(back), str) and type(str(back)) is str
    assert say(back, RU) == "снова работает"
    assert say("HTTP 503 Service Unavailable", RU) == "HTTP 503 Service Unavailable"

    failed = Phrase.ngettext(
        "failed {count} time in a row: {error}",
        "failed {count} times in a row: {error}",
        3,
        count=3,
        error="HTTP 503",
    )
    assert failed == "failed 3 times in a row: HTTP 503"
    assert f"{failed}" == "failed 3 times in a row: HTTP 503"
    # The values are quoted as they came; the number chooses the Russian form.
    assert say(failed, RU) == "3 сбоя подряд: HTTP 503"
    five = Phrase.ngettext(
        "failed {count} time in a row: {error}",
        "failed {count} times in a row: {error}",
        5,
        count=5,
        error="HTTP 503",
    )
    assert say(five, RU) == "5 сбоев подряд: HTTP 503"
    # A value that is itself a Phrase is said in the same language.
    nested = Phrase(N_("not an OPML file: {error}"), error=Phrase(N_("works again")))
    assert nested == "not an OPML file: works again"
    assert say(nested, RU) == "это не файл OPML: снова работает"


# ---------------------------------------------------------------- page previews


@dataclass(frozen=True)
class Item:
    title: str
    link: str | None
    published_at: datetime | None


def test_the_page_preview_in_russian_with_its_plural_forms() -> None:
    items = [Item("Заявление МИД", "https://e.example/1", datetime(2021, 12, 2, 9, tzinfo=UTC))]
    text = render_page_preview(
        url="https://e.example/news",
        page_title="Новости",
        items=[*items, Item("Без даты", None, None)],
        explanation=["2 statements in ul > li"],
        tz=ZoneInfo("Europe/Moscow"),
        feeds_tried=1,
        selectors="item=li",
        more_pages=1,
        language="ru",
    )
    assert text.split("\n") == [
        "<b>Найдено 2 заявления</b> на https://e.example/news (Новости) по селекторам item=li.",
        "Страница не указывает ленту (проверен 1 адрес ленты): её список читается прямо со"
        " страницы.",
        "Список продолжается на других страницах: при добавлении будет прочитано ещё до 1"
        " страницы.",
        "",
        "• 2 декабря 2021 — Заявление МИД",
        "   https://e.example/1",
        "• без даты — Без даты",
        "",
        "<i>Как они найдены:</i>",
        "2 statements in ul &gt; li",
        "",
        "Добавить? Заявления со страницы будут сохранены сейчас без рассылки; каждое новое придёт"
        " подписчикам с текстом своей страницы.",
    ]
    english = render_page_preview(
        url="https://e.example/news",
        page_title=None,
        items=items,
        explanation=[],
        tz=ZoneInfo("Europe/Moscow"),
        feeds_tried=1,
    )
    assert english.split("\n")[:2] == [
        "<b>1 statement(s) found</b> on https://e.example/news, detected.",
        "It names no feed (1 feed address tried): read as a page.",
    ]


def test_the_feed_choice_in_russian() -> None:
    feeds = [("https://e.example/rss", "RSS"), ("https://e.example/atom", None)]
    assert render_feed_choice("https://e.example/", feeds, "ru").split("\n") == [
        "<b>https://e.example/</b> указывает 2 ленты. Какую добавить?",
        "1. RSS",
        "   https://e.example/rss",
        "2. без названия",
        "   https://e.example/atom",
    ]

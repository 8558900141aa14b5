"""The main text of a statement's own page, without the page around it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from jobs.article import NoArticleError, extract_article
from tests.feeds.pages import URLS, page


def test_an_article_page_gives_its_body_without_chrome_share_bar_tags_or_comments() -> None:
    article = extract_article(page("article.html"), url=URLS["article.html"], headers={})
    assert article.title == (
        "Embassy comment on the Home Office announcing a public inquiry into the death of"
        " Dawn Sturgess"
    )
    assert article.language == "en"
    assert article.published_at == datetime(2021, 11, 19, 16, 20, tzinfo=UTC)
    paragraphs = article.text.split("\n\n")
    assert len(paragraphs) == 5
    assert paragraphs[0].startswith("The announcement by the Home Secretary Priti Patel")
    assert paragraphs[-1] == (
        "The Embassy will follow the work of the inquiry closely and will inform the public"
        " of its assessments."
    )
    # A link inside the text is part of it.
    assert "painfully familiar Litvinenko Case playbook" in paragraphs[1]
    for chrome in (
        "Share on Twitter",
        "Tags:",
        "Latest statements",
        "Comments are closed",
        "Kensington Palace Gardens",  # a figure's caption is not the text
        "Consular Section",
        "19.11.2021",
        "© 2021",
    ):
        assert chrome not in article.text
    assert article.summary.startswith("The announcement by the Home Secretary")
    assert len(article.summary) <= 400


def test_a_page_of_bare_divs_is_read_by_where_its_text_is() -> None:
    article = extract_article(
        page("article_divs.html"), url=URLS["article_divs.html"], headers={}, zone="Europe/Moscow"
    )
    assert article.language == "ru"
    assert article.published_at == datetime(2021, 11, 18, tzinfo=ZoneInfo("Europe/Moscow"))
    paragraphs = article.text.split("\n\n")
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("Добрый день, уважаемые коллеги.")
    for chrome in ("Поделиться", "Министерство", "Контакты", "Внешняя политика"):
        assert chrome not in article.text


@pytest.mark.parametrize("name", ["login.html", "search.html", "not_found.html"])
def test_pages_without_a_body_say_so(name: str) -> None:
    with pytest.raises(NoArticleError, match="no readable text"):
        extract_article(page(name), url=URLS[name], headers={})


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"", "empty"), (b"\x00\x01\x02binary", "binary"), (b"<html></html>", "no readable")],
)
def test_what_is_no_page_raises_the_same_error(body: bytes, reason: str) -> None:
    with pytest.raises(NoArticleError, match=reason):
        extract_article(body, url="https://x.example/a", headers={})


def test_the_article_body_marked_by_itemprop_wins() -> None:
    text = " ".join(["The statement says what it says in plenty of words."] * 6)
    body = (
        "<html><body><div class=teaser><p>"
        + " ".join(["A long teaser that is not the statement at all, it is elsewhere."] * 8)
        + f'</p></div><div itemprop="articleBody"><p>{text}</p><p>Second.</p></div></body></html>'
    ).encode()
    article = extract_article(body, url="https://x.example/a", headers={})
    assert article.text == f"{text}\n\nSecond."

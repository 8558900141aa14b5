"""Lists of statements found on saved pages without selectors, with the reasons why;
pages with no list refused; an admin's selectors; the next page of a list."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.article import NoArticleError, extract_article
from jobs.discovery import advertised_feeds
from jobs.page_list import (
    NotAListError,
    PageList,
    PageListError,
    SelectorError,
    Selectors,
    detect_list,
    list_from_selectors,
)
from jobs.parse import entry_identity
from tests.feeds.pages import URLS, page


def detect(name: str, zone: str | None = None, headers: dict[str, str] | None = None) -> PageList:
    return detect_list(page(name), url=URLS[name], headers=headers or {}, zone=zone)


def first_five(found: PageList) -> list[tuple[str | None, str, str | None]]:
    return [
        (i.published_at.isoformat() if i.published_at else None, i.title, i.link)
        for i in found.items[:5]
    ]


# --- detection on each kind of page ----------------------------------------------------


def test_seed_like_home_page_gives_its_dated_list_and_nothing_of_its_chrome() -> None:
    found = detect("seed_home.html")
    assert found.title == "Embassy of the Russian Federation to the United Kingdom"
    assert found.language == "en"
    assert len(found.items) == 12
    assert first_five(found) == [
        (
            "2021-12-03T00:00:00+00:00",
            "Embassy comment on the visa processing times for British citizens",
            "https://embassy.example/en/news/7102",
        ),
        (
            "2021-12-01T00:00:00+00:00",
            "Foreign Ministry statement on the planned US “summit for democracy”,"
            " November 30, 2021",
            "https://embassy.example/en/news/7101",  # "news/7101", relative to /en/
        ),
        (
            "2021-11-24T00:00:00+00:00",
            "Foreign Minister Sergey Lavrov’s remarks at the meeting of the Russian Union of"
            " Industrialists and Entrepreneurs, Moscow, November 23, 2021",
            "https://www.embassy.example/en/news/7100",  # www. is the same site; #top dropped
        ),
        (
            "2021-11-19T00:00:00+00:00",
            "Embassy comment on the Home Office announcing a public inquiry into the death of"
            " Dawn Sturgess",
            "https://embassy.example/en/news/7099",
        ),
        (
            "2021-11-18T00:00:00+00:00",
            "Foreign Ministry Spokeswoman Maria Zakharova on NATO Secretary General’s comments"
            " on Russia, November 17, 2021",
            "https://embassy.example/en/news/7098",
        ),
    ]
    first = found.items[0]
    assert first.summary.startswith("The Embassy has received a number of enquiries")
    assert first.content == first.summary  # the lead is short: summary and content agree
    assert first.guid is None
    assert first.identity == entry_identity(
        None, first.link, first.title, "2021-12-03T00:00:00+00:00", first.summary
    )
    assert found.items[-1].summary == ""  # the last statement has no lead
    texts = " ".join(i.title + " " + i.content for i in found.items)
    for chrome in ("Moscow: 07:30", "1370 days", "Useful links", "Consular Section", "EN"):
        assert chrome not in texts
    assert all(i.link and "/en/news/" in i.link for i in found.items)


def test_explanation_names_the_blocks_the_reasons_and_what_was_left_out() -> None:
    explanation = detect("seed_home.html").explanation
    assert explanation.method == "detected"
    assert explanation.signature == "div.news-list > div.news-item"
    assert explanation.container == "body > div#content > div.news-list"
    assert (explanation.blocks, explanation.items) == (12, 12)
    assert (explanation.dated, explanation.with_lead) == (12, 11)
    assert explanation.score > 0
    assert "12 of 12 repeated blocks link to a page of this site" in explanation.reasons
    assert "a sidebar (aside.sidebar): 9 links" in explanation.ignored
    assert "navigation (nav.main-menu): 7 links" in explanation.ignored
    assert any(region.startswith("the header (div#top.header)") for region in explanation.ignored)
    [rival] = explanation.rivals
    assert rival.signature == "div.pages > a"
    assert "title" in rival.lost_because
    lines = explanation.lines()
    assert lines[0] == (
        "12 statements in div.news-list > div.news-item, inside body > div#content > div.news-list"
    )
    assert any(line.startswith("- not div.pages > a") for line in lines)
    assert any(line.startswith("- left out a sidebar") for line in lines)


def test_a_table_of_press_releases_resolves_links_against_base_href() -> None:
    found = detect("press_table.html")
    assert found.explanation.signature == "tbody > tr"
    assert len(found.items) == 8
    assert first_five(found)[:2] == [
        (
            "2021-12-03T00:00:00+00:00",
            "Minister welcomes new trade agreement with partner countries",
            "https://www.ministry.example/press/releases/2021-118",
        ),
        (
            "2021-12-02T00:00:00+00:00",
            "Export figures for the third quarter published today",
            "https://www.ministry.example/press/releases/2021-117",
        ),
    ]
    # The type column ("Press release") is a label, not a lead.
    assert all(item.summary == "" for item in found.items)
    assert found.language == "en-GB"
    # The cells lost: each row has three and one link.
    assert any("only 8 of its 24 blocks" in r.lost_because for r in found.explanation.rivals)


def test_cards_take_their_date_from_time_datetime_and_month_first_text() -> None:
    found = detect("cards_time.html", zone="America/New_York")
    assert found.explanation.items == 6
    assert first_five(found)[:3] == [
        (  # <time datetime="2021-12-03T10:00:00-05:00">: the offset is the page's
            "2021-12-03T15:00:00+00:00",
            "Consular office hours during the winter holidays",
            "https://consulate.example/news/consular-hours-holidays",
        ),
        (  # a date without a time: midnight in the source's zone
            "2021-12-01T05:00:00+00:00",
            "Passport applications can now be started online",
            "https://consulate.example/news/passport-applications-online",
        ),
        (  # <time>11/29/2021</time>, no attribute: read month-first (en-US)
            "2021-11-29T05:00:00+00:00",
            "Statement of the Consul General on the regional trade fair",
            "https://consulate.example/news/statement-on-trade-fair",
        ),
    ]
    # The image link and "Read more" go to the same page: one statement, titled by
    # its heading, not "Read more".
    assert len({i.link for i in found.items}) == 6
    assert not any(i.title == "Read more" for i in found.items)
    assert found.items[0].summary.startswith("The consular office will be closed")


def test_a_sidebar_with_more_links_than_the_list_loses_to_the_list() -> None:
    found = detect("sidebar_heavy.html")
    assert found.explanation.signature == "ul.statements > li"
    assert len(found.items) == 6
    assert first_five(found)[0] == (
        "2021-12-03T00:00:00+00:00",
        "Interview of the Ambassador to the national news agency on bilateral relations",
        "https://embassy.example/statements/2021/12/03/ambassador-interview",
    )
    # The sidebar is marked as nothing: it loses on its own merits, with reasons.
    rival = found.explanation.rivals[0]
    assert rival.signature == "ul.link-list (×2) > li"
    assert rival.blocks == 42
    assert "short" in rival.lost_because and "menu" in rival.lost_because
    # "Published 3 December 2021" dated each statement and is not its lead.
    assert all(not i.content.startswith("Published") for i in found.items)


def test_a_russian_list_in_windows_1251_with_times_in_the_sources_zone() -> None:
    found = detect("russian_list.html", zone="Europe/Moscow")
    assert found.language == "ru"
    assert found.title == "Заявления — Посольство"
    assert first_five(found)[:2] == [
        (
            "2021-12-03T11:30:00+00:00",  # 14:30 in Moscow
            "Комментарий посольства о сроках оформления виз для британских граждан",
            "https://embassy.example/ru/news/7102",
        ),
        (
            "2021-12-01T07:00:00+00:00",
            "Заявление МИД России в связи с планируемым «саммитом за демократию»",
            "https://embassy.example/ru/news/7101",
        ),
    ]
    assert found.items[0].summary.startswith("В посольство поступают вопросы")
    assert found.next_page == "https://embassy.example/ru/news?page=2"


def test_the_charset_in_the_header_wins_over_a_wrong_meta() -> None:
    utf8 = page("russian_list.html").decode("windows-1251").encode("utf-8")
    found = detect_list(
        utf8, url=URLS["russian_list.html"], headers={"Content-Type": "text/html; charset=UTF-8"}
    )
    assert found.items[0].title.startswith("Комментарий посольства")


def test_a_flat_list_of_headings_takes_its_date_and_lead_from_the_siblings() -> None:
    found = detect("flat_list.html")
    assert found.explanation.signature == "div.content > h3"
    assert first_five(found) == [
        (
            "2021-12-03T00:00:00+00:00",
            "Sanctions designations in response to human rights abuses",
            "https://spokesperson.example/press/2021/12/sanctions-designations",
        ),
        (
            "2021-12-01T00:00:00+00:00",
            "Statement on World AIDS Day and the global response to the epidemic",
            "https://spokesperson.example/press/2021/12/world-aids-day",
        ),
        (
            "2021-11-30T00:00:00+00:00",
            "National Day greetings to the people of the partner nation",
            "https://spokesperson.example/press/2021/11/national-day-greetings",
        ),
        (
            "2021-11-28T00:00:00+00:00",
            "Joint statement following the ministerial meeting on regional security",
            "https://spokesperson.example/press/2021/11/ministerial-meeting",
        ),
    ]
    # The last statement's lead stops before the "Older entries" link.
    assert found.items[-1].content.startswith("The ministers reaffirmed")
    assert "Older entries" not in found.items[-1].content


def test_a_changed_layout_is_found_again_with_the_same_identities() -> None:
    old, new = detect("layout_v1.html"), detect("layout_v2.html")
    assert old.explanation.signature == "div.news-list > div.news-item"
    assert new.explanation.signature == "section.feed > article.entry"
    assert old.explanation.signature != new.explanation.signature
    old_ids = {i.link: i.identity for i in old.items}
    new_ids = {i.link: i.identity for i in new.items}
    shared = old_ids.keys() & new_ids.keys()
    assert len(shared) == 3
    assert all(old_ids[link] == new_ids[link] for link in shared)
    assert new.items[0].title == "Statement by the Permanent Representative on unilateral sanctions"
    assert new.items[0].published_at == datetime(2021, 12, 7, tzinfo=UTC)


def test_a_header_inside_each_article_is_part_of_it_not_the_pages_chrome() -> None:
    found = detect("wordpress_list.html")
    assert found.explanation.signature == "main#main.site-main > article.post"
    assert first_five(found) == [
        (
            "2021-12-03T18:00:00+00:00",
            "High Commissioner hosts a reception for the National Day",
            "https://commission.example/2021/12/03/reception-national-day/",
        ),
        (
            "2021-12-01T09:30:00+00:00",
            "The visa application centre moves to a new address",
            "https://commission.example/2021/12/01/visa-centre-relocation/",
        ),
        (
            "2021-11-26T12:00:00+00:00",
            "Trade delegation visits the port and the free economic zone",
            "https://commission.example/2021/11/26/trade-delegation/",
        ),
    ]
    assert found.items[0].summary.startswith("The High Commissioner welcomed guests")
    assert "the header (header#masthead.site-header): 4 links" in found.explanation.ignored
    assert found.next_page == "https://commission.example/news/page/2/"


def test_a_cards_header_holding_its_link_is_part_of_the_card() -> None:
    cards = "".join(
        f'<div class="card"><div class="card-header"><a href="/news/{n}">Statement number {n}'
        f' on the talks held in the capital</a></div><div class="card-body"><p>{n}.11.2021</p>'
        "</div></div>"
        for n in range(10, 14)
    )
    body = f'<html><body><div class="header"><a href="/a">About</a></div>{cards}</body></html>'
    found = detect_list(body.encode(), url="https://x.example/", headers={})
    assert [i.link for i in found.items] == [f"https://x.example/news/{n}" for n in range(10, 14)]
    assert found.explanation.ignored == ("the header (div.header): 1 link",)


def test_dates_are_read_in_the_sources_zone() -> None:
    found = detect("seed_home.html", zone="Europe/Moscow")
    assert found.items[0].published_at == datetime(2021, 12, 2, 21, 0, tzinfo=UTC)


# --- pages with no list ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("article.html", "the page reads as one article"),
        ("login.html", "the page is a login form"),
        ("search.html", "the page is a search form"),
        ("not_found.html", "the page is an error page (it says “Page not found — Embassy”)"),
        ("article_divs.html", "was not taken"),
    ],
)
def test_pages_without_a_list_are_refused_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(NotAListError) as refused:
        detect(name)
    message = str(refused.value)
    assert message.startswith("no list of statements found: ")
    assert reason in message


def test_an_articles_sidebar_of_latest_statements_is_not_taken_for_its_list() -> None:
    with pytest.raises(NotAListError, match=r"left out: .*a sidebar \(aside\.sidebar\)"):
        detect("article.html")


def test_a_login_walls_links_are_judged_a_menu() -> None:
    with pytest.raises(NotAListError, match="a menu or a list of links"):
        detect("login.html")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "the page is empty"),
        (b"  \n ", "the page is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        (b"<div " + b" ".join(b'a%d="1"' % i for i in range(2000)) + b">x</div>", "attributes"),
    ],
)
def test_what_is_no_web_page_gets_a_clear_error(body: bytes, reason: str) -> None:
    with pytest.raises(PageListError, match=reason):
        detect_list(body, url="https://x.example/", headers={})


def test_a_page_of_plain_text_or_few_links_is_refused() -> None:
    with pytest.raises(NotAListError, match="no 3 or more repeated blocks"):
        detect_list(b"<p>Hello</p>", url="https://x.example/", headers={})


# --- links -----------------------------------------------------------------------------


def test_only_links_to_the_same_site_make_statements() -> None:
    items = "".join(
        f'<li><span>0{n}.12.2021</span> <a href="{href}">Statement number {n} on the'
        f" situation in the region</a></li>"
        for n, href in enumerate(
            [
                "/news/1",
                "https://other.example/news/2",  # another site
                "javascript:open('x')",
                "mailto:press@embassy.example",
                "#top",
                "https://news.embassy.example/3#comments",  # a subdomain: kept, no fragment
                "//embassy.example/news/4",
                "/news/5",
            ],
            start=1,
        )
    )
    body = f"<html><body><ul class=news>{items}</ul></body></html>".encode()
    found = detect_list(body, url="https://www.embassy.example/news/", headers={})
    assert [i.link for i in found.items] == [
        "https://www.embassy.example/news/1",
        "https://news.embassy.example/3",
        "https://embassy.example/news/4",
        "https://www.embassy.example/news/5",
    ]


# --- selectors -------------------------------------------------------------------------


def test_selectors_read_the_list_the_admin_points_at() -> None:
    selectors, title = Selectors.from_words(
        'item=".news-list .news-item" title=a link=a date=.date summary=p Embassy news'
    )
    assert title == "Embassy news"
    found = list_from_selectors(
        page("seed_home.html"), url=URLS["seed_home.html"], headers={}, selectors=selectors
    )
    assert found.explanation.method == "selectors"
    assert found.explanation.signature == "item=.news-list .news-item"
    assert found.explanation.blocks == 12
    assert first_five(found) == first_five(detect("seed_home.html"))
    assert found.items[0].summary == detect("seed_home.html").items[0].summary


def test_an_item_selector_alone_works_out_the_rest() -> None:
    selectors, _ = Selectors.from_words("item=tr")
    found = list_from_selectors(
        page("press_table.html"), url=URLS["press_table.html"], headers={}, selectors=selectors
    )
    assert len(found.items) == 8  # the header row has no link and is left out
    assert "1 without a title or a link on this site" in found.explanation.reasons
    assert first_five(found) == first_five(detect("press_table.html"))


def test_old_selectors_on_a_changed_layout_say_they_match_nothing() -> None:
    selectors, _ = Selectors.from_words("item=.news-item title=.news-title date=.news-date")
    old = list_from_selectors(
        page("layout_v1.html"), url=URLS["layout_v1.html"], headers={}, selectors=selectors
    )
    assert len(old.items) == 4
    with pytest.raises(NotAListError, match=r"item=\.news-item matches nothing on the page"):
        list_from_selectors(
            page("layout_v2.html"), url=URLS["layout_v2.html"], headers={}, selectors=selectors
        )


def test_selectors_that_find_blocks_without_links_are_refused() -> None:
    selectors, _ = Selectors.from_words("item=.counter")
    body = b'<div class="counter">1370 days</div><div class="counter">1362 days</div>'
    with pytest.raises(NotAListError, match="matches 2 blocks, but none has a title and a link"):
        list_from_selectors(body, url="https://x.example/", headers={}, selectors=selectors)


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        ("item=", "item= is empty"),
        ("item=div[", "item=div[ is not a valid CSS selector"),
        ("item=li title=h3:::after", "title=h3:::after is not a valid CSS selector"),
        ("item=li date=::text", "not a valid CSS selector"),
        ("title=h3", "item=CSS is required"),
        ("item=li colour=red", "unknown selector colour="),
        ('item="li', "cannot read the selectors"),
        ('item="' + "li " * 200 + '"', "too long"),
    ],
)
def test_bad_selectors_get_a_clear_error(words: str, reason: str) -> None:
    with pytest.raises(SelectorError, match=re.escape(reason)):
        Selectors.from_words(words)


def test_selectors_are_checked_when_made() -> None:
    with pytest.raises(SelectorError):
        Selectors(item="li", summary="p >")
    assert Selectors(item="li", title="h3 a").title == "h3 a"


# --- next page -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("seed_home.html", "https://embassy.example/en/news?page=2"),  # "»"
        ("press_table.html", "https://www.ministry.example/press/releases?page=2"),  # rel=next
        ("cards_time.html", "https://consulate.example/news?page=2"),  # aria-label "Next page"
        ("sidebar_heavy.html", "https://embassy.example/statements?start=6"),  # "Older …"
        ("russian_list.html", "https://embassy.example/ru/news?page=2"),  # "Следующая …"
        ("flat_list.html", "https://spokesperson.example/press?page=2"),  # "Older entries"
        ("layout_v1.html", None),  # no pagination
    ],
)
def test_the_next_page_is_found_when_the_page_links_one(name: str, expected: str | None) -> None:
    assert detect(name, zone="Europe/Moscow").next_page == expected


def test_next_prefers_words_to_arrows_and_stays_on_the_site() -> None:
    items = "".join(
        f'<li><span>0{n}.12.2021</span> <a href="/s/{n}">Statement {n} on the situation in the'
        " region today</a></li>"
        for n in range(1, 5)
    )
    body = (
        f"<html><body><ul>{items}</ul>"
        '<a href="https://other.example/?page=2">Next</a>'  # another site: never followed
        '<a href="/list?page=9">»</a> <a href="/list?page=2">next ›</a></body></html>'
    ).encode()
    found = detect_list(body, url="https://embassy.example/list", headers={})
    assert found.next_page == "https://embassy.example/list?page=2"


def test_a_page_nested_a_hundred_thousand_deep_is_refused_not_crashed_on() -> None:
    body = b"<html><body>" + b"<div>" * 100_000 + b"<a href='/x'>deep</a>" + b"</div>" * 100_000
    with pytest.raises(NotAListError):
        detect_list(body, url="https://x.example/", headers={})


_TAG_SOUP = st.lists(
    st.sampled_from(
        [
            "<div class=news-item>", "</div>", "<ul>", "<li>", "</li>", "<a href='/n/1'>",
            "<a href='news/2#x'>", "<a href='javascript:x'>", "</a>", "<p>", "</p>", "<h3>",
            "</h3>", "<time datetime='2021-12-03'>", "</time>", "<nav>", "</nav>", "<table>",
            "<tr><td>", "03.12.2021", "3 декабря 2021", "Statement on the situation today",
            "Read more", "»", "<br>", "<script>x</script>", "<!-- c -->", "&amp;", "\x00",
            "<base href='//other.example/'>", "<meta charset='utf-16'>", "\udcff",
        ]
    ),
    max_size=60,
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TAG_SOUP)
def test_any_tag_soup_gives_a_list_or_a_clear_refusal(pieces: list[str]) -> None:
    body = "".join(pieces).encode("utf-8", "surrogatepass")
    url = "https://embassy.example/en/"
    try:
        found = detect_list(body, url=url, headers={})
    except PageListError as exc:
        assert str(exc)
    else:
        assert len(found.items) >= 3
        assert all(i.link and i.link.startswith("https://") for i in found.items)
    with contextlib.suppress(NoArticleError):
        extract_article(body, url=url, headers={})
    advertised_feeds(body, url=url, headers={})


def test_a_huge_list_is_read_to_its_first_thousand_blocks() -> None:
    body = b"<html><body>" + b"".join(
        b'<div><a href="/x/%d">Statement number %d on the talks</a></div>' % (i, i)
        for i in range(3000)
    )
    found = detect_list(body, url="https://x.example/", headers={})
    assert len(found.items) == 1000
    assert found.items[-1].link == "https://x.example/x/999"
    assert "only the first 1000 of 3000 blocks are read" in found.explanation.reasons

"""Reading HTML bytes as a page: charset, base, language, links and the same site."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.html_page import SiteLinks, absolute_url, load_page, same_site, site_of


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/en/news/1", "https://embassy.example/en/news/1"),
        ("news/1", "https://embassy.example/en/news/1"),
        ("../ru/news/1", "https://embassy.example/ru/news/1"),
        ("/en/./news/../news/2#top", "https://embassy.example/en/news/2"),
        ("HTTPS://WWW.Embassy.Example:443/a?b=1#c", "https://www.embassy.example/a?b=1"),
        ("//cdn.example/x", "https://cdn.example/x"),
        ("  /en/spaces  ", "https://embassy.example/en/spaces"),
        ("#top", None),
        ("", None),
        ("javascript:void(0)", None),
        ("JavaScript:alert(1)", None),
        ("mailto:press@embassy.example", None),
        ("tel:+44", None),
        ("data:text/html,x", None),
        ("http://[::1", None),
    ],
)
def test_links_resolve_to_one_canonical_url(href: str, expected: str | None) -> None:
    base = "https://embassy.example/en/"
    assert absolute_url(href, base) == expected
    assert SiteLinks(base, base).resolve(href) == expected


@given(st.text(alphabet="/.?#=&ab1-_%: \t\r\n\\;@[]'()~", max_size=30))
def test_the_fast_path_for_site_links_resolves_as_the_slow_one(href: str) -> None:
    base = "https://embassy.example/en/list?page=1"
    assert SiteLinks(base, base).resolve(href) == absolute_url(href, base)


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://www.mid.ru/en/", "mid.ru"),
        ("https://en.mid.ru/", "mid.ru"),
        ("https://www.embassy.gov.uk/x", "embassy.gov.uk"),
        ("https://london.embassy.gov.uk/x", "embassy.gov.uk"),
        ("https://press.ministry.co.jp/", "ministry.co.jp"),
        ("https://example.com/", "example.com"),
        ("http://127.0.0.1:8080/feed", "127.0.0.1"),
        ("http://localhost/", "localhost"),
    ],
)
def test_the_site_of_a_url(url: str, site: str) -> None:
    assert site_of(url) == site


def test_same_site_is_the_registrable_host_or_its_subdomains() -> None:
    page = "https://www.embassy.example/en/"
    assert same_site("https://embassy.example/news", page)
    assert same_site("https://news.embassy.example/1", page)
    assert not same_site("https://embassy.example.evil.example/1", page)
    assert not same_site("https://otherembassy.example/1", page)
    assert not same_site("https://gov.uk/1", "https://www.embassy.gov.uk/")
    assert not same_site("http://127.0.0.2/", "http://127.0.0.1/")


def test_charset_base_language_and_title_are_read() -> None:
    body = (
        '<html lang="ru-RU"><head><meta charset="windows-1251"><title> Заявления\n </title>'
        '<base href="/ru/"></head><body><p>Текст</p></body></html>'
    ).encode("windows-1251")
    page = load_page(body, url="https://x.example/a/b", headers={})
    assert page.title == "Заявления"
    assert page.language == "ru-RU"
    assert page.base == "https://x.example/ru/"
    assert page.body.findtext("p") == "Текст"


def test_utf8_without_any_declaration_and_content_language() -> None:
    body = "<p>Посольство</p>".encode()
    page = load_page(body, url="https://x.example/", headers={"Content-Language": "ru, en"})
    assert page.body.findtext("p") == "Посольство"
    assert page.language == "ru"


def test_scripts_and_styles_never_reach_the_text() -> None:
    body = b"<body><script>document.write('x')</script><style>p{}</style><p>Text</p></body>"
    page = load_page(body, url="https://x.example/", headers={})
    assert page.body.text_content() == "Text"


@pytest.mark.parametrize(
    "charset", ["utf-8-sig", "mac-cyrillic", "utf-32", "no-such-thing", "base64", "rot13", "zlib"]
)
def test_a_charset_that_cannot_be_used_falls_back_to_what_the_bytes_are(charset: str) -> None:
    headers = {"Content-Type": f"text/html; charset={charset}"}
    page = load_page("<p>Привет</p>".encode(), url="https://x.example/", headers=headers)
    assert page.body.findtext("p") == "Привет"

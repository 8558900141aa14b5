"""Telegram's HTML parse mode: what it accepts, what it shows, and where it refuses."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.telegram_html import (
    HTMLEntity,
    TelegramHTMLError,
    parse_telegram_html,
    telegram_length,
    utf16_length,
    validate_telegram_html,
)


@pytest.mark.parametrize(
    ("source", "plain"),
    [
        ("plain text", "plain text"),
        ("<b>bold</b> and <strong>strong</strong>", "bold and strong"),
        ("<i>i</i><em>em</em><u>u</u><ins>ins</ins>", "iemuins"),
        ("<s>s</s><strike>st</strike><del>d</del>", "sstd"),
        ('<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>', "xy"),
        ('<a href="https://example.org/?a=1&amp;b=2">link</a>', "link"),
        ("<code>x &lt; y</code>", "x < y"),
        ('<pre><code class="language-python">print(1)</code></pre>', "print(1)"),
        ("<blockquote>q</blockquote><blockquote expandable>e</blockquote>", "qe"),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
        ("&lt;&gt;&amp;&quot;", '<>&"'),
        ("&#65;&#x42;&#x1F600;", "AB😀"),
        ("&lt no semicolon", "< no semicolon"),
        ("a > b", "a > b"),
        ("<B>upper</B>", "upper"),
        ("<b>unnamed end</>", "unnamed end"),
        ("<b >spaces</b >", "spaces"),
        ("<a href=example.org>bare</a>", "bare"),
    ],
)
def test_accepts_what_telegram_accepts(source: str, plain: str) -> None:
    assert validate_telegram_html(source) == plain


@pytest.mark.parametrize(
    ("source", "description"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("Hello<div>x</div>", 'Unsupported start tag "div" at byte offset 5'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x<5 and y", 'Unsupported start tag "5" at byte offset 1'),
        ("é<p>", 'Unsupported start tag "p" at byte offset 2'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("text</b>", "Unexpected end tag at byte offset 4"),
        (
            "<b><i>x</b></i>",
            'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"',
        ),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x', "Unclosed start tag at byte offset 0"),
        (
            "<a href>x</a>",
            'Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0',
        ),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
        ("Tom & Jerry", 'Character "&" at byte offset 4 must be escaped as "&amp;"'),
        ("&nbsp;", 'Character "&" at byte offset 0 must be escaped as "&amp;"'),
    ],
)
def test_refuses_what_telegram_refuses(source: str, description: str) -> None:
    with pytest.raises(TelegramHTMLError) as caught:
        validate_telegram_html(source)
    assert caught.value.description == description
    assert str(caught.value) == f"Can't parse entities: {description}"


def test_bare_ampersand_is_kept_when_not_strict() -> None:
    # Telegram itself keeps an unknown "&" as text; the strict default exists to
    # catch missing escapes in our own output.
    assert validate_telegram_html("Tom & Jerry &nbsp;", strict_ampersand=False) == (
        "Tom & Jerry &nbsp;"
    )


def test_entities_use_utf16_offsets() -> None:
    plain, entities = parse_telegram_html(
        '😀 <b>bold <i>it</i></b> <a href="https://x.example">l</a>'
    )
    assert plain == "😀 bold it l"
    assert entities == [
        HTMLEntity("bold", 3, 7),
        HTMLEntity("italic", 8, 2),
        HTMLEntity("text_link", 11, 1, url="https://x.example"),
    ]


def test_pre_with_language_is_one_entity() -> None:
    _, entities = parse_telegram_html('<pre><code class="language-py">x = 1</code></pre>')
    assert entities == [HTMLEntity("pre", 0, 5, language="py")]
    assert entities[0].to_dict() == {"type": "pre", "offset": 0, "length": 5, "language": "py"}


def test_empty_tags_make_no_entity() -> None:
    assert parse_telegram_html("<b></b>x") == ("x", [])


def test_expandable_blockquote() -> None:
    _, entities = parse_telegram_html("<blockquote expandable>long</blockquote>")
    assert entities == [HTMLEntity("expandable_blockquote", 0, 4)]


def test_length_counts_utf16_units_after_parsing() -> None:
    assert utf16_length("a😀") == 3
    assert telegram_length("<b>a😀</b> &amp;") == 5
    assert telegram_length("<b>", parse_mode=None) == 3


@given(st.text())
def test_escaped_text_always_parses_back_to_itself(text: str) -> None:
    assert validate_telegram_html(html.escape(text)) == text


@given(st.text(), st.sampled_from(["b", "i", "u", "s", "code", "blockquote"]))
def test_escaped_text_inside_a_tag_parses(text: str, tag: str) -> None:
    source = f"<{tag}>{html.escape(text, quote=False)}</{tag}>"
    assert validate_telegram_html(source) == text


@given(st.text(alphabet="<>&/ab;#x1\"'= "))
def test_parser_never_fails_other_than_with_its_error(source: str) -> None:
    try:
        parse_telegram_html(source)
    except TelegramHTMLError:
        pass

"""Rendering of statements: escaping, the 4096 limit, digests, search snippets.

Every rendered message is checked twice: by a strict local well-formedness check
(only our tags, balanced, every ``&`` a Telegram entity) and by the project's
Telegram HTML validator (``emulator.telegram_html``), whose length must match ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.telegram_html import telegram_length, validate_telegram_html
from storage.models import Item, SearchHit
from text.dates import format_date
from text.markup import (
    TELEGRAM_LIMIT,
    esc,
    link,
    split_messages,
    truncate_text,
    utf16_length,
    visible_length,
    visible_text,
)
from text.plain import telegram_html_to_plain
from text.statements import (
    MARK_END,
    MARK_START,
    bold_marks,
    render_digest,
    render_item,
    render_latest,
    render_no_results,
    render_no_statements,
    render_search_results,
)

LONDON = ZoneInfo("Europe/London")
MOSCOW = ZoneInfo("Europe/Moscow")
WHEN = datetime(2021, 12, 1, 10, 0, tzinfo=UTC)

_TAG = re.compile(r"<(/?)([a-z]+)([^>]*)>")
_AMP = re.compile(r"&(?!(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)")
_ALLOWED_TAGS = {"b", "i", "a", "code", "blockquote"}


def check_html(text: str) -> str:
    """Assert ``text`` is well-formed Telegram HTML within the limit; return visible text."""
    assert _AMP.search(text) is None, f"bare & in {text!r}"
    stack: list[str] = []
    position = 0
    for match in _TAG.finditer(text):
        between = text[position : match.start()]
        assert "<" not in between and ">" not in between, f"stray bracket in {text!r}"
        closing, name, attributes = match.groups()
        assert name in _ALLOWED_TAGS, name
        if closing:
            assert stack and stack[-1] == name, f"unbalanced </{name}> in {text!r}"
            stack.pop()
        else:
            if name == "a":
                assert re.fullmatch(r' href="[^"<>]*"', attributes), attributes
            else:
                assert attributes == ""
            stack.append(name)
        position = match.end()
    assert "<" not in text[position:] and ">" not in text[position:]
    assert not stack, f"unclosed {stack} in {text!r}"
    visible = visible_text(text)
    assert validate_telegram_html(text) == visible
    assert visible_length(text) == telegram_length(text) <= TELEGRAM_LIMIT
    assert visible.strip(), "Telegram refuses an empty message"
    return visible


def make_item(
    title: str = "Statement on the talks",
    summary: str = "The Embassy comments on the talks.",
    link: str | None = "https://embassy.example/fnapr/7000",
    feed_title: str = "Embassy news",
    item_id: int = 1,
    published_at: datetime = WHEN,
) -> Item:
    return Item(
        id=item_id,
        feed_id=1,
        identity=f"id-{item_id}",
        guid=None,
        link=link,
        title=title,
        summary=summary,
        content="",
        published_at=published_at,
        first_seen_at=published_at,
        updated_at=published_at,
        feed_title=feed_title,
    )


# --- building blocks ------------------------------------------------------------


def test_esc_escapes_all_five() -> None:
    assert esc("<a href=\"x\">'&'</a>") == (
        "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
    )


def test_link_escapes_url_and_label() -> None:
    assert link('https://e.example/?a=1&b="2"', "<Q&A>") == (
        '<a href="https://e.example/?a=1&amp;b=&quot;2&quot;">&lt;Q&amp;A&gt;</a>'
    )


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>",
        "/relative/path",
        "https://",
        "https://e.example/a b",
        "",
        "ftp://e.example/",
    ],
)
def test_link_refuses_unsafe_urls(url: str) -> None:
    assert link(url, "label") == "label"


def test_link_allows_tg_scheme() -> None:
    assert link("tg://resolve?domain=x", "x").startswith('<a href="tg://')


def test_truncate_text_cuts_between_words() -> None:
    assert truncate_text("one two three four", 12) == "one two…"
    assert truncate_text("short", 10) == "short"
    assert truncate_text("x" * 50, 10) == "x" * 9 + "…"
    assert truncate_text("anything", 0) == ""


def test_truncate_text_counts_utf16_units() -> None:
    text = "😀" * 10  # two UTF-16 units each
    cut = truncate_text(text, 7)
    assert cut == "😀😀😀…"
    assert utf16_length(cut) <= 7


def test_visible_length_decodes_entities_and_drops_tags() -> None:
    assert visible_length('<b>&lt;&amp;&gt;</b> <a href="https://e.example">x</a>') == 5
    assert visible_length("&#x27;&#39;&quot;") == 3
    assert visible_length("😀") == 2


def test_html_to_plain_keeps_urls() -> None:
    html_text = '<b>Title &amp; more</b>\n<a href="https://e.example/?a=1&amp;b=2">Read</a>'
    assert telegram_html_to_plain(html_text) == "Title & more\nRead (https://e.example/?a=1&b=2)"


def test_split_messages_packs_greedily_in_order() -> None:
    blocks = ["a" * 40, "b" * 40, "c" * 40]
    assert split_messages(blocks, limit=90, sep="\n") == ["a" * 40 + "\n" + "b" * 40, "c" * 40]
    assert split_messages([], limit=90) == []


def test_split_messages_measures_visible_not_raw_length() -> None:
    block = "&amp;" * 40  # 200 raw characters, 40 visible
    assert split_messages([block, block], limit=81, sep="\n") == [block + "\n" + block]


def test_split_messages_never_sends_an_oversized_block() -> None:
    (message,) = split_messages(["<b>" + "word " * 100 + "</b>"], limit=50)
    assert visible_length(message) <= 50
    assert message.endswith("…")


# --- dates --------------------------------------------------------------------


def test_format_date_uses_the_chats_zone() -> None:
    late = datetime(2021, 11, 30, 22, 30, tzinfo=UTC)
    assert format_date(late, LONDON) == "30 November 2021"
    assert format_date(late, MOSCOW) == "1 December 2021"
    assert format_date(datetime(2021, 12, 3, 7, 0), LONDON) == "3 December 2021"  # naive = UTC


# --- one statement ------------------------------------------------------------


def test_render_item_layout() -> None:
    text = render_item(make_item(), LONDON)
    assert text == (
        "<b>Statement on the talks</b>\n"
        "1 December 2021 · Embassy news\n\n"
        "The Embassy comments on the talks.\n\n"
        '<a href="https://embassy.example/fnapr/7000">Read the statement</a>'
    )
    check_html(text)


def test_render_item_escapes_everything_from_the_feed() -> None:
    item = make_item(
        title="<script>alert('x')</script> & &amp; \"quoted\"",
        summary="a < b && c > d &lt;",
        link='https://e.example/?q="1"&r=<2>',
        feed_title="<i>Feed</i>",
    )
    text = render_item(item, LONDON)
    assert "<script>" not in text and "<i>" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &amp;amp;" in text
    assert 'href="https://e.example/?q=&quot;1&quot;&amp;r=&lt;2&gt;"' in text
    visible = check_html(text)
    assert "<script>alert('x')</script> & &amp; \"quoted\"" in visible
    assert "a < b && c > d &lt;" in visible


def test_render_item_without_a_safe_link() -> None:
    for bad in (None, "javascript:alert(1)"):
        text = render_item(make_item(link=bad), LONDON)
        assert "<a" not in text and "Read the statement" not in text
        check_html(text)


def test_render_item_empty_title_and_summary() -> None:
    text = render_item(make_item(title="  \n ", summary="", feed_title=""), LONDON)
    assert text.startswith("<b>Untitled statement</b>\n1 December 2021\n\n<a ")
    check_html(text)


def test_render_item_cuts_a_huge_summary_between_words() -> None:
    words = ["statement", "&amp;", "<b>", "Q&A", "«quoted»"]
    summary = " ".join(words[i % len(words)] for i in range(2000))  # ~13,000 characters
    assert len(summary) > 10_000
    text = render_item(make_item(summary=summary), LONDON)
    visible = check_html(text)
    assert visible_length(text) <= TELEGRAM_LIMIT
    assert visible_length(text) > TELEGRAM_LIMIT - 20  # the room was used
    body = visible.split("\n\n")[1]
    assert body.endswith("…")
    assert body[:-1].split(" ")[-1] in words  # the last word is whole
    assert summary.startswith(body[:-1])
    # No broken entity just before the ellipsis.
    assert not re.search(r"&[a-z#0-9]*…", text)
    assert text.endswith('">Read the statement</a>')


def test_render_item_with_a_huge_title_and_astral_characters() -> None:
    text = render_item(make_item(title="𝔘" * 5000, summary="😀 " * 5000), LONDON)
    check_html(text)
    assert visible_length(text) <= TELEGRAM_LIMIT


# --- digests ------------------------------------------------------------------


def test_render_digest_single_message() -> None:
    items = [make_item(title=f"Statement {n}", item_id=n) for n in range(1, 7)]
    (message,) = render_digest(items, "Embassy <news>", LONDON)
    assert message.startswith("<b>6 new statements from Embassy &lt;news&gt;</b>\n\n")
    assert '1 December 2021 — <a href="https://embassy.example/fnapr/7000">Statement 3</a>' in (
        message
    )
    assert message.count("<a ") == 6
    check_html(message)


def test_render_digest_splits_at_the_limit() -> None:
    items = [
        make_item(title=f"Statement number {n} " + "on matters of state " * 12, item_id=n)
        for n in range(200)
    ]
    messages = render_digest(items, "Embassy news", LONDON)
    assert len(messages) > 1
    for index, message in enumerate(messages, start=1):
        check_html(message)
        assert f"(part {index} of {len(messages)})</b>" in message
    assert sum(message.count("<a ") for message in messages) == 200
    # Order is kept across parts.
    numbers = [int(n) for n in re.findall(r"Statement number (\d+)", "".join(messages))]
    assert numbers == list(range(200))


def test_render_digest_without_links() -> None:
    (message,) = render_digest([make_item(link=None)], "Feed", LONDON)
    assert "<a" not in message and "1 new statement from Feed" in message
    check_html(message)


# --- /latest ------------------------------------------------------------------


def test_render_latest_layout() -> None:
    item = make_item(summary="First line of the lead.\nSecond line.")
    text = render_latest([item], LONDON)
    assert text == (
        "<b>Latest statements</b>\n\n"
        "1 December 2021 · Embassy news\n"
        '<a href="https://embassy.example/fnapr/7000">Statement on the talks</a>\n'
        "First line of the lead."
    )
    check_html(text)


def test_render_latest_twenty_long_entries_fit() -> None:
    items = [
        make_item(title="T" * 300 + f" {n}", summary="word " * 500, item_id=n) for n in range(20)
    ]
    text = render_latest(items, LONDON)
    check_html(text)
    assert text.count("<a ") == 20


def test_render_latest_summary_line_is_short() -> None:
    text = render_latest([make_item(summary="word " * 500)], LONDON)
    assert len(text.rsplit("\n", 1)[-1]) <= 300


def test_render_latest_empty_says_how_to_subscribe() -> None:
    assert render_latest([], LONDON) == render_no_statements()
    assert "/subscribe" in render_no_statements()
    check_html(render_no_statements())


def test_render_latest_far_too_many_entries_is_still_within_the_limit() -> None:
    items = [make_item(title="x" * 100, item_id=n) for n in range(200)]
    text = render_latest(items, LONDON)
    check_html(text)
    assert re.search(r"…and \d+ more$", text)


# --- /search ------------------------------------------------------------------


def hit(snippet: str, **kwargs: object) -> SearchHit:
    return SearchHit(item=make_item(**kwargs), snippet=snippet)  # type: ignore[arg-type]


S, E = MARK_START, MARK_END


def test_bold_marks_escapes_before_bolding() -> None:
    assert bold_marks(f"a <b> {S}x&y{E} z") == "a &lt;b&gt; <b>x&amp;y</b> z"


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (f"{S}open only", "<b>open only</b>"),
        (f"close only{E}", "close only"),
        (f"{S}{S}double{E}{E}", "<b>double</b>"),
        (f"{S}{E}empty", "empty"),
        (f"end{S}", "end"),
        (f"{E}{S}a{E}{S}", "<b>a</b>"),
    ],
)
def test_bold_marks_balances_stray_markers(snippet: str, expected: str) -> None:
    assert bold_marks(snippet) == expected


def test_render_search_results_layout() -> None:
    hits = [
        hit(f"…the {S}sanctions{E} &amp; <measures>…", title="On sanctions", item_id=1),
        hit(f"{S}sanctions{E} again", title="Again", item_id=2, link=None),
    ]
    text = render_search_results('sanctions <&> "x"', hits, LONDON, offset=0, total=7)
    lines = text.split("\n")
    assert lines[0] == "<b>Results 1–2 of 7 for «sanctions &lt;&amp;&gt; &quot;x&quot;»</b>"
    assert "…the <b>sanctions</b> &amp;amp; &lt;measures&gt;…" in lines
    assert "1 December 2021 · Again" in lines
    check_html(text)


def test_render_search_results_pages_and_unknown_total() -> None:
    text = render_search_results("q", [hit("x")], LONDON, offset=5, total=None)
    assert text.startswith("<b>Results 6 for «q»</b>")


def test_render_search_results_truncates_a_huge_query() -> None:
    query = "«" + "word " * 2000
    text = render_search_results(query, [hit(f"{S}word{E}")], LONDON, offset=0, total=1)
    check_html(text)
    assert len(text.split("\n")[0]) < 200
    check_html(render_no_results(query))


def test_render_search_results_cut_snippet_keeps_tags_balanced() -> None:
    snippet = "lead " * 30 + S + "match " * 200 + E
    text = render_search_results("match", [hit(snippet)], LONDON, offset=0, total=1)
    check_html(text)


def test_render_no_results_escapes_the_query() -> None:
    text = render_no_results("<script>")
    assert "«&lt;script&gt;»" in text
    check_html(text)


# --- arbitrary feed text ------------------------------------------------------

# Any text without lone surrogates (which cannot be sent as UTF-8 at all), biased
# towards the characters that break HTML.
_pieces = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8),
    st.sampled_from(["<", ">", "&", '"', "'", ";", "#", " ", "\n", "&amp;", "&lt;", "<b>"]),
)
feed_text = st.lists(_pieces, max_size=60).map("".join) | st.builds(
    lambda s, n: s * n, st.text(max_size=20), st.integers(0, 600)
)
urls = st.one_of(
    st.none(),
    st.text(max_size=50),
    st.builds(lambda s: "https://e.example/" + s, st.text(max_size=100)),
)
items = st.builds(
    make_item,
    title=feed_text,
    summary=feed_text,
    link=urls,
    feed_title=feed_text,
    published_at=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
zones = st.sampled_from([LONDON, MOSCOW, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("UTC")])
snippets = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=["Cs"]), st.sampled_from([S, E, "<", "&"])
    ),
    max_size=400,
)

_hypothesis = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@_hypothesis
@given(item=items, tz=zones)
def test_any_item_renders_valid_html(item: Item, tz: ZoneInfo) -> None:
    visible = check_html(render_item(item, tz))
    title = " ".join(item.title.split())
    if title and utf16_length(title) < 100 and "\x00" not in title and title.isprintable():
        assert title in visible


@_hypothesis
@given(batch=st.lists(items, max_size=25), tz=zones, title=feed_text)
def test_any_latest_renders_valid_html(batch: list[Item], tz: ZoneInfo, title: str) -> None:
    check_html(render_latest(batch, tz, title=title or "Latest statements"))


@_hypothesis
@given(batch=st.lists(items, min_size=1, max_size=60), tz=zones, name=feed_text)
def test_any_digest_renders_valid_html(batch: list[Item], tz: ZoneInfo, name: str) -> None:
    messages = render_digest(batch, name, tz)
    for message in messages:
        check_html(message)
    assert sum(message.count("\n") - 1 for message in messages) == len(batch)


@_hypothesis
@given(
    query=feed_text,
    found=st.lists(st.tuples(items, snippets), max_size=5),
    tz=zones,
    offset=st.integers(0, 10_000),
)
def test_any_search_results_render_valid_html(
    query: str, found: list[tuple[Item, str]], tz: ZoneInfo, offset: int
) -> None:
    hits = [SearchHit(item=item, snippet=snippet) for item, snippet in found]
    check_html(render_search_results(query, hits, tz, offset=offset, total=offset + len(hits)))


@_hypothesis
@given(text=st.text(), limit=st.integers(0, 200))
def test_truncate_text_is_a_prefix_within_the_limit(text: str, limit: int) -> None:
    cut = truncate_text(text, limit)
    assert utf16_length(cut) <= limit and len(cut) <= limit
    if utf16_length(text) <= limit:
        assert cut == text
    elif limit > 0:
        assert cut.endswith("…") and text.startswith(cut[:-1])
    else:
        assert cut == ""


@_hypothesis
@given(blocks=st.lists(feed_text.map(esc), max_size=40), limit=st.integers(50, 500))
def test_split_messages_respects_the_limit_and_order(blocks: list[str], limit: int) -> None:
    messages = split_messages(blocks, limit=limit, sep="\n")
    for message in messages:
        assert visible_length(message) <= limit
    fits: Callable[[str], bool] = lambda block: visible_length(block) <= limit  # noqa: E731
    if all(fits(block) for block in blocks):
        assert "\n".join(messages) == "\n".join(block for block in blocks if block)

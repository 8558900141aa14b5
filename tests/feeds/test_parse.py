"""Tests for feed parsing and text normalising: one small feed file per case in data/parse."""

from __future__ import annotations

import hashlib
import random
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.parse import NotAFeedError, ParsedFeed, entry_identity, parse_feed
from tests.support.feeds import PARSE_CORPUS, big_feed
from text.plain import first_words, html_to_text
from text.summary import lead, summarise

SEED_FEED = Path(__file__).parents[2] / "bot" / "data" / "seed_feed.xml"
SEED_EXPECTED = PARSE_CORPUS / "seed_expected.tsv"
FEED_URL = "https://feeds.example/dir/feed.xml"


def parse_file(name: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    return parse_feed((PARSE_CORPUS / name).read_bytes(), url=FEED_URL, headers=headers or {})


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- formats -------------------------------------------------------------------------


def test_rss_091_item_without_guid_is_read() -> None:
    feed = parse_file("rss091.xml")
    assert feed.title == "Ministry notices"
    assert feed.link == "https://ministry.example/"
    [entry] = feed.entries
    assert entry.guid is None
    assert entry.link == "https://ministry.example/notices/12"
    assert entry.title == "Notice on visas"
    assert entry.summary == entry.content == "Visa offices are closed on Monday."


def test_rss_20_fields_ttl_and_date_in_utc() -> None:
    feed = parse_file("rss20.xml")
    assert feed.title == "Regulator press releases"
    assert feed.link == "https://regulator.example/press"
    assert feed.ttl_seconds == 3600  # <ttl>60</ttl> is minutes
    [entry] = feed.entries
    assert entry.guid == "regulator-2021-0042"  # stripped
    assert entry.identity == sha("guid:regulator-2021-0042")
    assert entry.link == "https://regulator.example/press/2021/fees"
    assert entry.title == "New rules on fees"
    assert entry.summary == "The regulator publishes new rules on fees. They apply from January."
    assert entry.published_at == datetime(2021, 12, 1, 7, 30, tzinfo=UTC)


def test_rss_10_rdf() -> None:
    feed = parse_file("rss10_rdf.xml")
    assert feed.title == "Agency statements"
    [entry] = feed.entries
    assert entry.link == "https://agency.example/s/7"
    assert entry.title == "Statement on the harbour"
    assert entry.summary == "The harbour reopens tomorrow."
    assert entry.published_at == datetime(2021, 11, 18, 9, 0, tzinfo=UTC)


def test_atom_text_content_keeps_angle_brackets_as_text() -> None:
    feed = parse_file("atom_text.xml")
    assert feed.link == "https://office.example/"
    [entry] = feed.entries
    assert entry.guid == "urn:office:entry:1"
    # type="text": what looks like markup is literal text, not tags to drop.
    assert entry.title == "Pay & conditions: 5 < 6 <b>literally</b>"
    assert entry.content == "Plain text with <tags> kept as written."
    assert entry.published_at == datetime(2021, 11, 19, 8, 0, tzinfo=UTC)


def test_atom_html_content_is_fullest_text_and_published_beats_updated() -> None:
    feed = parse_file("atom_html.xml")
    [entry] = feed.entries
    assert entry.title == "Budget & spending"
    # <content> is fuller than <summary>, so it is the stored text and the lead source.
    assert entry.content == "First paragraph & more.\n\nSecond paragraph."
    assert entry.summary == "First paragraph & more."
    assert entry.published_at == datetime(2021, 11, 17, 11, 0, tzinfo=UTC)


def test_atom_xhtml_content_and_title() -> None:
    feed = parse_file("atom_xhtml.xml")
    assert feed.title == "Office news"
    [entry] = feed.entries
    assert entry.content == "One two three.\n\nItem a\n\nItem b"
    assert entry.summary == "One two three."


# --- identity and duplicates ----------------------------------------------------------


def test_no_guid_identity_comes_from_link() -> None:
    [entry] = parse_file("no_guid.xml").entries
    assert entry.guid is None
    assert entry.identity == sha("link:https://nog.example/a/1")


def test_no_guid_no_link_identity_from_text_and_missing_title_from_summary() -> None:
    feed = parse_file("no_guid_no_link.xml")
    # The third item (blank title, blank description) has nothing to store.
    titled, untitled = feed.entries
    assert titled.guid is None and titled.link is None
    assert titled.identity == entry_identity(
        None, None, "Only a title", "2021-11-15T09:00:00+00:00", "And some text."
    )
    assert untitled.title == "A statement without a title, a guid or a link, but with…"
    assert untitled.published_at is None
    assert untitled.identity == entry_identity(None, None, untitled.title, None, untitled.summary)


def test_duplicate_guids_are_kept_once_first_wins() -> None:
    feed = parse_file("duplicate_guids.xml")
    assert [e.guid for e in feed.entries] == ["same-1", "other-2"]
    assert feed.entries[0].title == "Original"


def test_identity_prefixes_keep_kinds_apart() -> None:
    by_guid = entry_identity("x", None, "t", None, "s")
    by_link = entry_identity(None, "x", "t", None, "s")
    assert by_guid == sha("guid:x")
    assert by_link == sha("link:x")
    assert by_guid != by_link
    # guid wins over link, link over text
    assert entry_identity("g", "https://l.example/", "t", None, "s") == sha("guid:g")
    assert entry_identity(None, "https://l.example/", "t", None, "s") == sha(
        "link:https://l.example/"
    )
    text_a = entry_identity(None, None, "ab", None, "c")
    text_b = entry_identity(None, None, "a", None, "bc")
    assert text_a != text_b  # the separator matters


# --- links ----------------------------------------------------------------------------


def test_relative_links_made_absolute_against_feed_url() -> None:
    feed = parse_file("relative_links.xml")
    assert feed.link == "https://feeds.example/"
    links = {e.guid: e.link for e in feed.entries}
    assert links == {
        "r1": "https://feeds.example/press/1.html",
        "r2": "https://feeds.example/dir/two.html",
        "r3": None,  # javascript: is no link to show anyone
        "12345": None,  # a permalink guid that is not a URL is not a link either
    }


def test_content_location_header_is_the_base_and_guids_are_not_resolved() -> None:
    headers = {"Content-Location": "https://mirror.example/other/feed.xml"}
    feed = parse_file("relative_links.xml", headers)
    links = {e.guid: e.link for e in feed.entries}
    assert links["r2"] == "https://mirror.example/other/two.html"
    # The guid stays as written, so identities do not change when a feed moves.
    assert "12345" in links


def test_atom_xml_base_applies_to_links() -> None:
    feed = parse_file("atom_xml_base.xml")
    assert feed.link == "https://cdn.example/news/index.html"
    [entry] = feed.entries
    assert entry.link == "https://cdn.example/news/2021/item.html"


# --- text -----------------------------------------------------------------------------


def test_cdata_description_becomes_paragraphs() -> None:
    [entry] = parse_file("cdata.xml").entries
    assert entry.title == "Talks & results"
    assert entry.content == 'Talks ended & a "joint statement" was adopted.\n\nDetails follow.'
    assert entry.summary == 'Talks ended & a "joint statement" was adopted.'


def test_entity_heavy_titles_are_decoded_once_as_html() -> None:
    feed = parse_file("entity_titles.xml")
    assert feed.title == "Entities & co"
    assert [e.title for e in feed.entries] == [
        'Minister’s visit & talks — update "now"',
        "AT&T & partners",
    ]


def test_script_and_style_in_description_are_dropped_text_kept() -> None:
    [entry] = parse_file("script_description.xml").entries
    assert entry.content == "Before after.\n\nTail."
    assert "evil" not in entry.content and "color" not in entry.content


def test_windows_1251_declared_in_the_document() -> None:
    feed = parse_file("windows1251.xml")
    assert feed.title == "Посольство"
    [entry] = feed.entries
    assert entry.title == "Заявление МИД России"
    assert entry.summary == "Москва выражает обеспокоенность. Подробности — ниже."


def test_wrong_declared_charset_falls_back_to_the_document_encoding() -> None:
    # The server claims UTF-8 but sends windows-1251: the bytes fail as UTF-8, and
    # feedparser then tries the encoding the XML declaration names.
    headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
    feed = parse_file("wrong_charset.xml", headers)
    assert feed.title == "Посольство (wrong header)"
    assert feed.entries[0].title == "Заявление МИД России"


def test_undeclared_utf8_without_content_type_is_read_as_utf8() -> None:
    body = (
        "<rss version='2.0'><channel><title>Café</title>"
        "<item><guid>u1</guid><title>Zürich — Genève</title></item></channel></rss>"
    ).encode()
    # Unrelated headers must not make feedparser fall back to ISO-8859-1.
    feed = parse_feed(body, url=FEED_URL, headers={"ETag": '"abc"'})
    assert feed.title == "Café"
    assert feed.entries[0].title == "Zürich — Genève"


def test_control_characters_and_search_markers_are_stripped() -> None:
    body = (
        b"<rss version='2.0'><channel><title>t</title><item><guid>c</guid>"
        b"<title>A&#2;B&#3;C</title><description>x\x02y\x03z\x07!</description>"
        b"</item></channel></rss>"
    )
    [entry] = parse_feed(body, url=FEED_URL, headers={}).entries
    assert entry.title == "ABC"
    assert entry.content == "xyz!"


def test_absurd_dates_become_none() -> None:
    body = (
        b"<rss version='2.0'><channel><title>t</title>"
        b"<item><guid>old</guid><title>a</title>"
        b"<pubDate>Mon, 01 Jan 1900 00:00:00 GMT</pubDate></item>"
        b"<item><guid>bad</guid><title>b</title><pubDate>yesterday-ish</pubDate></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(body, url=FEED_URL, headers={})
    assert [e.published_at for e in feed.entries] == [None, None]


# --- size and emptiness -----------------------------------------------------------------


def test_five_thousand_items() -> None:
    feed = parse_feed(big_feed(5000), url=FEED_URL, headers={})
    assert len(feed.entries) == 5000
    assert feed.entries[0].title == "Statement 0"
    assert feed.entries[-1].link == "https://feeds.example/s/4999"
    assert feed.entries[-1].summary == "Text of statement 4999."
    assert len({e.identity for e in feed.entries}) == 5000


def test_empty_channel_is_a_valid_feed() -> None:
    feed = parse_file("empty_channel.xml")
    assert feed.title == "Quiet embassy"
    assert feed.entries == []


# --- not feeds and hostile bodies -----------------------------------------------------


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(NotAFeedError, match="HTML page"):
        parse_file("html_page.html", {"Content-Type": "text/html; charset=utf-8"})
    with pytest.raises(NotAFeedError, match="HTML page"):
        parse_file("html_page.html")  # recognised without the header too


def test_truncated_xml_with_entries_is_accepted() -> None:
    feed = parse_file("truncated.xml")
    assert feed.title == "Cut short"
    # The half-written item has nothing in it yet, so only the whole one remains.
    assert [e.title for e in feed.entries] == ["Complete item"]


WHOLE = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>E</title>'
    b"<item><guid>a</guid><title>A</title><description>Lead of A.</description>"
    b"<pubDate>Thu, 02 Dec 2021 10:00:00 GMT</pubDate></item>"
    b'<item xml:lang="en"><guid>b</guid><title>B</title>'
    b"<description><![CDATA[<p>Lead of B.</p>]]></description>"
    b"<pubDate>Wed, 01 Dec 2021 10:00:00 GMT</pubDate></item></channel></rss>"
)


@pytest.mark.parametrize(
    ("cut_after", "kept", "whole"),
    [
        ("<p>Lead of B", ["A"], False),  # inside CDATA: B would lose its lead and date
        ("Lead of B.</p>]]></description>", ["A"], False),  # B would lose its date
        ("<title>B", ["A"], False),  # inside a tag's text
        ("<pubDate>Wed", ["A"], False),
        ('<item xml:lang="en"', ["A"], True),  # B's start tag cut: B was never begun
        ("<item", ["A"], True),
        ("10:00:00 GMT</pubDate></item>", ["A", "B"], True),  # between items
        ("</channel>", ["A", "B"], True),
    ],
)
def test_a_body_cut_short_leaves_out_the_entry_it_ends_in(
    cut_after: str, kept: list[str], whole: bool
) -> None:
    end = WHOLE.rindex(cut_after.encode()) + len(cut_after)
    feed = parse_feed(WHOLE[:end], url="https://x.example/rss", headers={})
    assert [e.title for e in feed.entries] == kept
    assert all(e.summary.startswith("Lead of") and e.published_at for e in feed.entries)
    # A body cut inside an entry keeps no validators: the next poll gets it whole
    # instead of a 304.
    assert feed.whole is whole


def test_a_body_cut_inside_its_only_entry_is_an_error_not_an_empty_feed() -> None:
    """Stored as an empty first poll, the feed's whole backlog would look new later."""
    end = WHOLE.index(b"Lead of A") + 4
    with pytest.raises(NotAFeedError, match="ends inside its first entry"):
        parse_feed(WHOLE[:end], url="https://x.example/rss", headers={})


def test_a_malformed_but_whole_feed_keeps_its_last_entry() -> None:
    """A bare & is an XML error too, but not the end of the body: nothing is cut."""
    body = WHOLE.replace(b"Lead of B.", b"Lead of B & more.")
    feed = parse_feed(body, url="https://x.example/rss", headers={})
    assert [e.title for e in feed.entries] == ["A", "B"]


def test_truncated_xml_without_anything_is_an_error() -> None:
    with pytest.raises(NotAFeedError, match="truncated"):
        parse_file("truncated_early.xml")


def test_billion_laughs_is_not_expanded() -> None:
    started = time.perf_counter()
    feed = parse_file("billion_laughs.xml")
    assert time.perf_counter() - started < 2
    [entry] = feed.entries
    assert entry.title == "Laugh &lol9;"  # the reference stays literal text
    assert "lollol" not in entry.content


def _quadratic_blowup(copies: int = 20_000) -> str:
    value = "a" * 50_000
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "{value}">\n]>\n'
        f"<rss version='2.0'><channel><title>q</title><item><guid>q1</guid>"
        f"<title>{'&a;' * copies}</title></item></channel></rss>"
    )


def test_quadratic_blowup_entity_is_not_expanded() -> None:
    # feedparser alone expands this to a 1,000,000,000-character title.
    started = time.perf_counter()
    feed = parse_feed(_quadratic_blowup().encode(), url=FEED_URL, headers={})
    assert time.perf_counter() - started < 2
    assert len(feed.entries[0].title) == len("&a;") * 20_000


def test_quadratic_blowup_in_utf16_is_refused() -> None:
    body = _quadratic_blowup().encode("utf-16")
    with pytest.raises(NotAFeedError, match="entities"):
        parse_feed(body, url=FEED_URL, headers={})


def test_character_entity_aliases_still_work() -> None:
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY mdash "&#8212;">\n]>\n'
        b"<rss version='2.0'><channel><title>a &mdash; b</title></channel></rss>"
    )
    assert parse_feed(body, url=FEED_URL, headers={}).title == "a — b"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"  \r\n\t ", "empty"),
        (random.Random(4).randbytes(4096), "not a feed"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "binary"),
        (b"just some words", "not XML"),
        (b"<?xml version='1.0'?><note><to>x</to></note>", "no RSS or Atom"),
    ],
)
def test_non_feeds_raise_not_a_feed(body: bytes, reason: str) -> None:
    with pytest.raises(NotAFeedError, match=reason):
        parse_feed(body, url=FEED_URL, headers={})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=2048),
        st.lists(
            st.sampled_from(
                [
                    b"<rss version='2.0'>",
                    b"<channel>",
                    b"<item>",
                    b"</item>",
                    b"<title>",
                    b"</title>",
                    b"<guid>",
                    b"<![CDATA[",
                    b"]]>",
                    b"&amp;",
                    b"&#0;",
                    b"<",
                    b"<feed xmlns='http://www.w3.org/2005/Atom'>",
                    b"<entry>",
                    b"<!DOCTYPE x [",
                    b"<!ENTITY e 'v'>",
                    b"]>",
                    b"&e;",
                    b"\xff\xfe",
                    b"\x00",
                    b"text",
                    b"<?xml ",
                    b"encoding='utf-16'?>",
                    b"<link>",
                    b"/a",
                    b"javascript:",
                    b"<pubDate>",
                ]
            ),
            max_size=40,
        ).map(b"".join),
    )
)
def test_any_bytes_give_a_feed_or_not_a_feed_error(body: bytes) -> None:
    try:
        result = parse_feed(body, url=FEED_URL, headers={"Content-Type": "application/xml"})
    except NotAFeedError as exc:
        assert str(exc).startswith("not a feed")
    else:
        assert isinstance(result, ParsedFeed)


# --- the sample feed built from the seed page -------------------------------------------


def _seed_statements() -> list[tuple[date, str]]:
    rows = (SEED_EXPECTED.read_text(encoding="utf-8")).splitlines()
    pairs = (row.split("\t", 1) for row in rows if row and not row.startswith("#"))
    return [(date.fromisoformat(day), title) for day, title in pairs]


SEED_STATEMENTS = _seed_statements()

STATEMENT_0112_LEAD = (
    "In connection with the so-called summit for democracy to be held on December 9-10 at "
    "the initiative of the US administration, we consider it necessary to make the following "
    "statement. The organisers and enthusiasts behind this strange event claim to lead the "
    "world in advancing the cause of democracy and human rights. However, the track record "
    "and reputation of the United States, Great Britain, and the EU member states in terms of "
    "respecting democratic rights and freedoms at home, as well as in the international "
    "arena, are, to put it mildly, far from ideal. The evidence suggests that the United "
    "States and its allies cannot and should not claim the status of a “beacon” of "
    "democracy, since they themselves have chronic problems with freedom of speech, "
    "election administration, corruption and human rights."
)


def test_seed_feed_yields_every_statement() -> None:
    feed = parse_feed(SEED_FEED.read_bytes(), url="https://embassy.example/rss", headers={})
    assert feed.title == "Embassy statements"
    assert feed.ttl_seconds == 1800
    assert len(SEED_STATEMENTS) == 11
    got = [(e.published_at.date() if e.published_at else None, e.title) for e in feed.entries]
    assert got == SEED_STATEMENTS
    assert len({e.link for e in feed.entries}) == len(SEED_STATEMENTS)
    for entry in feed.entries[1:]:  # the first, a speech, is summarised from its body
        lead = entry.content.split("\n\n")[0]
        assert len(entry.summary) <= 400
        if len(lead) <= 400:
            assert entry.summary == lead
        else:
            # Cut at a sentence end (" …") or, failing that, at a word ("…").
            assert entry.summary.endswith("…")
            assert lead.startswith(entry.summary.removesuffix(" …").removesuffix("…"))


def test_seed_feed_summaries_are_the_leads() -> None:
    entries = parse_feed(SEED_FEED.read_bytes(), url="https://x.example/", headers={}).entries
    by_day = {e.published_at.date(): e for e in entries if e.published_at}
    assert by_day[date(2021, 12, 1)].content == STATEMENT_0112_LEAD
    assert by_day[date(2021, 12, 1)].summary == (
        "In connection with the so-called summit for democracy to be held on December 9-10 at "
        "the initiative of the US administration, we consider it necessary to make the following "
        "statement. The organisers and enthusiasts behind this strange event claim to lead the "
        "world in advancing the cause of democracy and human rights. …"
    )
    assert by_day[date(2021, 11, 16)].summary == (
        "I would like to say a few words about the meeting of the foreign and defence ministers "
        "of the Russian Federation and the French Republic, which were held today in the 2 + 2 "
        "format."
    )
    # The speech ships whole as content:encoded; its lead is thanks, so its summary is
    # sentences of its body (tests/text/test_summary.py has the details).
    speech = entries[0]
    assert speech.content.count("\n\n") >= 15
    assert speech.content.endswith("You have roused my curiosity.")
    assert len(speech.summary) <= 400
    assert "Thank you for inviting me" not in speech.summary
    assert "Fyodor Lukyanov" not in speech.summary


# --- html_to_text -----------------------------------------------------------------------


def test_html_to_text_blocks_entities_and_whitespace() -> None:
    fragment = (
        "<div><p>Sergey   Lavrov:\n Great minds&nbsp;think alike.</p>"
        "<p>Rock &amp; roll &#8212; &lt;not a tag&gt; &quot;quoted&quot;</p></div>"
        "<ul><li>one</li><li>two</li></ul>"
    )
    assert html_to_text(fragment) == (
        "Sergey Lavrov: Great minds think alike.\n\n"
        'Rock & roll — <not a tag> "quoted"\n\none\n\ntwo'
    )


def test_html_to_text_drops_script_style_and_comments() -> None:
    fragment = (
        "<p>Keep <script>var x = '<p>no</p>';</script>this<style>.a{}</style><!-- hidden --></p>"
    )
    assert html_to_text(fragment) == "Keep this"


def test_html_to_text_line_breaks() -> None:
    # One <br> is a line break inside a paragraph; two in a row start a new one.
    assert html_to_text("a<br>b<br/><br />c") == "a b\n\nc"


def test_html_to_text_strips_control_characters_and_markers() -> None:
    assert html_to_text("a\x00b\x02c\x03d\x07e\x0bf\x1fg\x7fh\x85i") == "abcdefghi"
    assert html_to_text("a&#2;b&#x3;c") == "abc"


def test_html_to_text_plain_text_passes_through() -> None:
    assert html_to_text("5 < 6 and 7 > 3") == "5 < 6 and 7 > 3"
    assert html_to_text("") == ""


@given(st.text(max_size=300))
def test_html_to_text_never_leaves_control_characters(fragment: str) -> None:
    text = html_to_text(fragment)
    assert not any(ord(c) < 0x20 and c != "\n" for c in text)
    assert "\x7f" not in text


# --- summarise and first_words ----------------------------------------------------------


def test_summarise_short_lead_is_whole_first_paragraph() -> None:
    text = "\n\nFirst paragraph here.\n\nSecond paragraph."
    assert summarise(text) == "First paragraph here."


def test_summarise_cuts_0112_statement_at_a_sentence_end() -> None:
    summary = summarise(STATEMENT_0112_LEAD)
    assert len(summary) <= 400
    assert summary.endswith("human rights. …")
    assert STATEMENT_0112_LEAD.startswith(summary[:-2])


def test_summarise_sentence_end_inside_closing_quote() -> None:
    text = "He said “we will go.” " + "x" * 10 + " and more words here " * 5
    summary = summarise(text, limit=40)
    assert summary == "He said “we will go.” …"


def test_summarise_cuts_at_word_when_sentence_end_is_too_early() -> None:
    text = "Short. " + "word " * 200
    summary = summarise(text, limit=50)
    assert summary == "Short. word word word word word word word word…"
    assert len(summary) <= 50


def test_summarise_hard_cut_for_a_single_long_word() -> None:
    summary = summarise("x" * 1000, limit=20)
    assert summary == "x" * 19 + "…"


@given(st.text(max_size=600), st.integers(min_value=2, max_value=500))
def test_summarise_respects_the_limit(text: str, limit: int) -> None:
    summary = summarise(text, limit)
    assert len(summary) <= limit
    # What is kept is always the start of the text, whitespace collapsed.
    kept = summary.removesuffix(" …").removesuffix("…")
    assert " ".join(text.split()).startswith(kept)


def test_first_words() -> None:
    assert first_words("one two three", 5) == "one two three"
    assert first_words("one, two, three, four", 2) == "one, two…"
    assert first_words("") == ""


def test_entries_known_unchanged_are_left_out_and_edits_come_through() -> None:
    def feed(second_title: str) -> bytes:
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
            "<item><guid>a</guid><title>First</title><description>One.</description></item>"
            f"<item><guid>b</guid><title>{second_title}</title>"
            "<description>Two.</description></item>"
            "<item><title>No key</title><description>Three.</description></item>"
            "</channel></rss>"
        ).encode()

    first = parse_feed(feed("Second"), url="https://x.example/", headers={})
    assert [e.title for e in first.entries] == ["First", "Second", "No key"]
    assert len(first.digests) == 2 and first.unchanged == 0

    again = parse_feed(
        feed("Second, corrected"), url="https://x.example/", headers={}, known=first.digests
    )
    # "First" is known and unchanged; the edit and the keyless entry come through.
    assert [e.title for e in again.entries] == ["Second, corrected", "No key"]
    assert again.unchanged == 1
    assert again.entries[0].identity == first.entries[1].identity
    assert again.digests.keys() == first.digests.keys()


def test_a_photo_caption_before_the_text_is_not_the_lead_but_is_searchable() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        b"<title>Embassy</title><entry><id>urn:x:1</id><title>Statement</title>"
        b'<updated>2021-12-03T07:30:00Z</updated><content type="html">'
        b"&lt;figure&gt;&lt;img src='a.jpg'/&gt;&lt;figcaption&gt;Photo: the Ambassador at"
        b" the press conference&lt;/figcaption&gt;&lt;/figure&gt;"
        b"&lt;p&gt;The Embassy comments on the announcement.&lt;/p&gt;&lt;p&gt;More.&lt;/p&gt;"
        b"</content></entry></feed>"
    )
    [entry] = parse_feed(body, url="https://x.example/atom", headers={}).entries
    assert entry.summary == "The Embassy comments on the announcement."
    assert "Photo: the Ambassador" in entry.content


def test_an_entry_that_is_only_a_figure_takes_its_caption_as_the_lead() -> None:
    body = (
        b'<rss version="2.0"><channel><title>E</title><item><guid>p</guid><title>Photo</title>'
        b"<description>&lt;figure&gt;&lt;img src='a.jpg'/&gt;&lt;figcaption&gt;The Ambassador"
        b" laid a wreath.&lt;/figcaption&gt;&lt;/figure&gt;</description></item></channel></rss>"
    )
    [entry] = parse_feed(body, url="https://x.example/rss", headers={}).entries
    assert entry.summary == "The Ambassador laid a wreath."


def test_a_statement_without_guid_or_link_is_named_by_its_lead_not_its_summary() -> None:
    """The summariser may change between versions; what names a statement must not,
    or an upgrade would make stored statements look new."""
    greeting = "Thank you for inviting me. I am glad to be here today with all of you."
    speech = " ".join(
        f"Point {n}: the transition to a multipolar world order continues." for n in range(40)
    )
    body = f"<p>{greeting}</p><p>{speech}</p>"
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
        f"<description><![CDATA[{body}]]></description></item></channel></rss>"
    ).encode()
    [entry] = parse_feed(feed, url="https://x.example/", headers={}).entries
    assert entry.summary != lead(html_to_text(body))  # a real extractive summary …
    # … but the identity and the stand-in title come from the lead, as always.
    assert entry.identity == entry_identity(None, None, entry.title, None, lead(html_to_text(body)))
    assert entry.title.startswith("Thank you for inviting me.")

"""/search through the fake Bot API: the best matches with date, linked title and a
bolded, escaped snippet; paging; phrases and prefixes; hostile queries; the
per-user rate limit."""

from __future__ import annotations

import re

from bot.reading import SEARCHES_PER_MINUTE
from tests.support.commands import (
    BOT,
    add_group,
    button,
    check_output,
    current,
    data_of,
    press,
    text,
)
from tests.support.feeds import Entry, numbered
from tests.support.rig import OTHER, USER, Rig, add_feed

MINISTRY = "Ministry <news> & views"


def corpus() -> list[Entry]:
    day = "Nov 2021 10:00:00 GMT"
    entries: list[Entry] = [
        Entry("z1", "Sanctions on <script>alert(1)</script> & more",
              "<p>New sanctions were announced against the regime.</p>", f"Mon, 01 {day}"),
        Entry("z2", "Chemical weapons convention",
              "<p>The chemical weapons convention was discussed at length.</p>", f"Tue, 02 {day}"),
        Entry("z3", "Weapons, then chemical",
              "<p>Weapons are not chemical here.</p>", f"Wed, 03 {day}"),
        Entry("z4", "C++ developers conference",
              "<p>The embassy hosted C++ developers.</p>", f"Thu, 04 {day}"),
        Entry("z5", "NOT a statement", "<p>Whether or NOT this counts.</p>", f"Fri, 05 {day}"),
        Entry("z6", "بيان صحفي حول العقوبات", "<p>بيان رسمي عن العقوبات</p>", f"Sat, 06 {day}"),
        Entry("z7", "Sanctioned entities listed",
              "<p>The sanctioned entities are listed.</p>", f"Sun, 07 {day}"),
    ]  # fmt: skip
    entries += [
        Entry(f"s{i}", f"Salisbury update {i}", f"<p>News about Salisbury, number {i}.</p>",
              f"Mon, {10 + i:02d} {day}")
        for i in range(1, 9)
    ]  # fmt: skip
    return entries


async def load(rig: Rig) -> int:
    return await add_feed(rig, *corpus(), path="/ministry.xml", title=MINISTRY)


def titles(message_text: str) -> list[str]:
    """The linked titles of a results message, in order (HTML as sent)."""
    return re.findall(r'<a href="[^"]+">(.*?)</a>', message_text)


async def test_search_shows_five_best_with_date_link_and_bold_snippet(rig: Rig) -> None:
    await load(rig)
    message = await rig.reply_to(USER, USER, "/search Salisbury")

    lines = text(message).splitlines()
    assert lines[0] == "Results 1–5 of 8 for «Salisbury»"
    html = message.text or ""
    assert len(titles(html)) == 5
    entry = re.search(r"(\d+ November 2021) · <a href=\"([^\"]+)\">Salisbury update (\d)</a>", html)
    assert entry is not None
    assert entry.group(2) == f"https://embassy.example/statements/s{entry.group(3)}"
    assert html.count("<b>Salisbury</b>") >= 5  # every snippet bolds the match
    assert data_of(message) == [data_of(message)[0]]
    assert button(message, "More").startswith("s:")

    await press(rig, message, USER, button(message, "More"))
    page = current(rig, message)
    assert text(page).splitlines()[0] == "Results 6–8 of 8 for «Salisbury»"
    assert len(titles(page.text or "")) == 3
    assert [b["text"] for b in page.buttons] == ["◀ Back"]
    shown = set(titles(html)) | set(titles(page.text or ""))
    assert shown == {f"Salisbury update {i}" for i in range(1, 9)}

    await press(rig, page, USER, button(page, "Back"))
    assert text(current(rig, message)) == text(message)
    assert len(rig.api.messages(USER)) == 1
    await check_output(rig)


async def test_phrases_and_prefixes(rig: Rig) -> None:
    await load(rig)
    phrase = await rig.reply_to(USER, USER, '/search "chemical weapons"')
    assert titles(phrase.text or "") == ["Chemical weapons convention"]
    assert "<b>chemical weapons</b>" in (phrase.text or "").lower()

    words = await rig.reply_to(USER, USER, "/search chemical weapons")
    assert sorted(titles(words.text or "")) == [
        "Chemical weapons convention",
        "Weapons, then chemical",
    ]

    prefix = await rig.reply_to(USER, USER, "/search sanction*")
    assert text(prefix).startswith("Results 1–2 of 2 for «sanction*»")
    assert "<b>sanctioned</b>" in (prefix.text or "").lower()
    assert "<b>sanctions</b>" in (prefix.text or "").lower()
    await check_output(rig)


async def test_feed_text_and_queries_are_escaped(rig: Rig) -> None:
    await load(rig)
    message = await rig.reply_to(USER, USER, "/search <script>")
    html = message.text or ""
    assert text(message).startswith("Results 1 of 1 for «<script>»")
    assert "for «&lt;script&gt;»" in html
    assert "Sanctions on &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<script>" not in html
    assert "Sanctions on <script>alert(1)</script> & more" in text(message)
    await check_output(rig)


async def test_hostile_queries_get_a_result_or_a_reason(rig: Rig) -> None:
    await load(rig)
    answers: dict[str, str] = {}
    queries = [
        "c++",
        "NOT",
        '"',
        "x" * 10_000,
        "العقوبات",
        "\u200bSalisbury\u200b",
        "\u202eSalisbury\u202c",
        "title:Salisbury",
        "NEAR(chemical weapons)",
        "*",
        "zebra",
        "a OR b AND (c",
        '"unclosed phrase',
    ]
    for query in queries:
        answers[query] = text(await rig.reply_to(USER, USER, f"/search {query}"))

    assert answers["c++"].startswith("Results 1 of 1 for «c++»")
    assert "C++ developers conference" in answers["c++"]
    assert answers["NOT"].startswith("Results 1–2 of 2 for «NOT»")  # a word, not an operator
    assert answers['"'].startswith("I can't search for that: there is nothing to search for")
    assert answers["x" * 10_000].startswith(
        "I can't search for that: that search is too long (10000 characters); use at most 300."
    )
    assert answers["العقوبات"].startswith("Results 1 of 1 for «العقوبات»")
    assert "بيان صحفي حول العقوبات" in answers["العقوبات"]
    assert answers["\u200bSalisbury\u200b"].startswith("Results 1–5 of 8")
    assert answers["\u202eSalisbury\u202c"].startswith("Results 1–5 of 8")
    assert answers["title:Salisbury"].startswith("No statements match «title:Salisbury»")
    # Taken literally: the phrase "near chemical" followed by the word "weapons".
    assert answers["NEAR(chemical weapons)"].startswith("No statements match «NEAR(chemical")
    assert answers["*"].startswith("I can't search for that")
    assert answers["zebra"] == (
        "No statements match «zebra».\n"
        'Try fewer words, a "phrase in quotes", or a prefix like sanction*.'
    )
    assert answers["a OR b AND (c"].startswith("No statements match")
    assert answers['"unclosed phrase'].startswith("No statements match")
    for answer in answers.values():
        if answer.startswith("I can't"):
            assert 'Usage: /search QUERY — words, "a phrase in quotes" or a prefix*.' in answer
    await check_output(rig)


async def test_search_without_a_query_explains_usage(rig: Rig) -> None:
    for command in ("/search", f"/search@{BOT}", "/search   "):
        got = text(await rig.reply_to(USER, USER, command))
        assert got.startswith('Usage: /search QUERY — words, "a phrase in quotes" or a prefix*.')
        assert "/search sanction*" in got
    await check_output(rig)


async def test_the_21st_search_in_a_minute_is_politely_refused(rig: Rig) -> None:
    await load(rig)
    group = add_group(rig)
    for index in range(SEARCHES_PER_MINUTE):
        chat = USER if index % 2 else group  # the limit is per user, in any chat
        got = text(await rig.reply_to(chat, USER, "/search Salisbury"))
        assert got.startswith("Results 1–5 of 8"), index
        rig.clock.advance(seconds=1)

    refused = text(await rig.reply_to(USER, USER, "/search Salisbury"))
    # The first of the 20 was 20 seconds ago: 40 seconds until it leaves the window.
    assert refused == (
        "That is a lot of searching: at most 20 searches a minute. Please try again in 40 seconds."
    )
    # Other people are not held back.
    got = text(await rig.reply_to(OTHER, OTHER, "/search Salisbury"))
    assert got.startswith("Results 1–5 of 8")

    rig.clock.advance(seconds=40)  # the first search leaves the window: one more allowed
    assert text(await rig.reply_to(USER, USER, "/search Salisbury")).startswith("Results")
    assert text(await rig.reply_to(USER, USER, "/search Salisbury")).startswith("That is a lot")
    rig.clock.advance(seconds=61)  # a whole minute later the window is empty again
    for _ in range(3):
        assert text(await rig.reply_to(USER, USER, "/search Salisbury")).startswith("Results")
    await check_output(rig)


async def test_a_very_common_word_is_not_given_an_exact_total(rig: Rig) -> None:
    await add_feed(rig, *numbered(30), path="/many.xml")
    few = await rig.reply_to(USER, USER, "/search lead")
    assert text(few).startswith("Results 1–5 of 30 for «lead»")
    # Beyond the counting cap the header gives the span only.
    await add_feed(
        rig,
        *[Entry(f"a{i}", f"Archive lead {i}", "<p>Lead.</p>", "Mon, 01 Nov 2021 10:00:00 GMT")
          for i in range(100)],
        path="/more.xml",
        title="Archive",
    )  # fmt: skip
    many = await rig.reply_to(USER, USER, "/search lead")
    assert text(many).startswith("Results 1–5 for «lead»")
    await check_output(rig)

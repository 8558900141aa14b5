"""A statement's whole text as messages (text.full_text), when there is more text
than the summary, and a stored summary recomputed by today's rules
(text.summary.summarise_stored)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from text.full_text import CUT_NOTE, adds_to_summary, full_text_parts
from text.markup import TELEGRAM_LIMIT, utf16_length
from text.summary import lead, summarise, summarise_stored

MARKER = re.compile(r"\A(\d+)/(\d+)\n")


def bodies(parts: list[str]) -> list[str]:
    """The parts without their "i/n" lines, checking the numbers run 1..n."""
    out = []
    for number, part in enumerate(parts, start=1):
        found = MARKER.match(part)
        assert found, part[:40]
        assert (int(found[1]), int(found[2])) == (number, len(parts))
        out.append(part[found.end() :])
    return out


def together(parts: list[str], text: str) -> bool:
    """The parts are `text` exactly, but for the whitespace at each cut."""
    pattern = r"\s*".join(re.escape(body) for body in bodies(parts))
    return re.fullmatch(pattern, text) is not None


def long_statement(paragraphs: int = 60) -> str:
    return "\n\n".join(
        f"Paragraph {n}. " + " ".join(f"The ministry said word{k} again." for k in range(12))
        for n in range(paragraphs)
    )


def test_a_short_text_is_one_message_without_a_marker() -> None:
    assert full_text_parts("Title", "One paragraph.\n\nAnother.") == [
        "Title\n\nOne paragraph.\n\nAnother."
    ]


def test_nothing_to_send_is_no_message() -> None:
    assert full_text_parts("", "  ") == []


def test_a_long_text_is_cut_at_paragraphs_into_numbered_parts_that_hold_it_exactly() -> None:
    content = long_statement()
    assert len(content) > 20_000
    parts = full_text_parts("A long statement", content)
    assert len(parts) > 4
    assert all(utf16_length(part) <= TELEGRAM_LIMIT for part in parts)
    assert together(parts, "A long statement\n\n" + content)
    # Every cut fell between paragraphs: each part begins one.
    for body in bodies(parts):
        assert body.startswith(("A long statement", "Paragraph "))


def test_one_huge_paragraph_is_cut_at_sentences_then_words() -> None:
    content = " ".join(f"Sentence number {n} is here." for n in range(3000))
    parts = full_text_parts("", content)
    assert together(parts, content)
    assert all(body.endswith(".") for body in bodies(parts)[:-1])

    words = " ".join(f"word{n}" for n in range(8000))
    parts = full_text_parts("", words)
    assert together(parts, words)
    assert all(re.fullmatch(r"word\d+", b.split()[-1]) for b in bodies(parts))


def test_a_word_longer_than_a_message_is_cut_inside_and_never_between_surrogates() -> None:
    for content in ("x" * 10_000, "😀" * 5_000, "a" + "😀" * 4_000 + " b"):
        parts = full_text_parts("", content)
        assert all(utf16_length(part) <= TELEGRAM_LIMIT for part in parts)
        # No half of a surrogate pair: every part encodes as UTF-16 on its own.
        for part in parts:
            part.encode("utf-16-le")
        assert together(parts, content)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from("ab .\n😀Жж"),
            min_size=1,
            max_size=3_000,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_text_fits_and_is_kept(paragraphs: list[str]) -> None:
    content = "\n\n".join(paragraphs).strip()
    parts = full_text_parts("Title", content, limit=500)
    assert all(utf16_length(part) <= 500 for part in parts)
    text = "\n\n".join(p for p in ("Title", content) if p)
    if len(parts) > 1:
        assert together(parts, text)
    else:
        assert parts == [text]


def test_more_than_the_parts_allowed_ends_with_where_the_rest_is() -> None:
    content = long_statement(400)
    parts = full_text_parts("T", content, link="https://embassy.example/s/1", max_parts=5)
    assert len(parts) == 5
    assert all(utf16_length(part) <= TELEGRAM_LIMIT for part in parts)
    assert parts[-1].endswith("read the rest at https://embassy.example/s/1]")
    without_link = full_text_parts("T", content, max_parts=5)
    assert without_link[-1].endswith(CUT_NOTE)
    # What was sent is the statement's beginning, in order.
    sent = "\n\n".join(bodies(without_link))
    assert sent.startswith("T\n\nParagraph 0. ")
    assert "Paragraph 20. " in sent and "Paragraph 399. " not in sent


def test_a_text_that_says_no_more_than_its_summary_has_no_full_text() -> None:
    assert not adds_to_summary("The Embassy comments.", "The Embassy comments.")
    assert not adds_to_summary("The Embassy  comments.", "The Embassy\ncomments.")
    assert not adds_to_summary("", "")
    assert not adds_to_summary("A summary from elsewhere.", "")
    assert adds_to_summary("The lead …", "The lead is longer than this.")
    assert adds_to_summary("The lead.", "The lead.\n\nA second paragraph.")


# --- summarise_stored ---------------------------------------------------------------

GREETING = "Thank you for inviting me. It is a great pleasure to be here with you today."
SPEECH = "\n\n".join(
    [GREETING]
    + [
        f"The grain deal and the sanctions regime were discussed at length in round {n}, "
        "and the ministry set out its position on the Black Sea corridor in detail."
        for n in range(12)
    ]
)


def test_a_lead_summary_of_a_long_speech_becomes_an_extract_and_stays_one() -> None:
    old = lead(SPEECH)
    assert old.startswith("Thank you")
    new = summarise_stored(SPEECH, old)
    assert new == summarise(SPEECH) != old
    assert "Thank you" not in new
    assert summarise_stored(SPEECH, new) == new  # a second run changes nothing


def test_a_summary_taken_after_a_photos_caption_stays() -> None:
    caption = "Sergey Lavrov at the meeting"  # a caption: the parse left it out
    body = "The Ministry announced new measures today. " * 20
    content = f"{caption}\n\n{body.strip()}\n\nA second paragraph follows here."
    stored = summarise(body.strip())
    assert summarise(content) != stored
    assert summarise_stored(content, stored) == stored
    assert summarise_stored(content, stored) == summarise_stored(content, stored)


def test_a_summary_of_a_statement_stored_without_text_stays() -> None:
    assert summarise_stored("", "A summary from the list page.") == (
        "A summary from the list page."
    )
    assert summarise_stored("Short.", "Short.") == "Short."

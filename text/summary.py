"""The summary of a statement: its lead, or for a long transcript the sentences that say most.

A press release says what it is about in its first paragraph, and that lead is
the best summary there is. A speech, a briefing or a hearing opens with thanks,
greetings and procedure, so its lead says nothing; for those an extractive summary
(`text.extractive`) picks the sentences that carry the statement within the same
budget. Which way a statement goes, and why, is `explain`'s answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from text import procedural
from text.extractive import SKIP_LONG, Candidate, Tuning, rank
from text.plain import ELLIPSIS, one_line
from text.sentences import split_paragraphs, split_sentences
from text.terms import detect_language

# A sentence ends with . ! ? or … (maybe inside closing quotes or brackets) before a space.
_SENTENCE_END = re.compile("[.!?…][\"'”’»)\\]]*(?=\\s)")

SUMMARY_LIMIT = 400
LANGUAGES = ("en", "ru")

# Up to this length (or one and a half budgets, if more) a statement is short: its
# lead is summary enough, whatever it opens with.
SHORT_STATEMENT = 600
# This many paragraphs opening with a speaker label make a transcript.
TRANSCRIPT_LABELS = 3
# A first paragraph this short without a sentence end is a heading, not a lead.
LONGEST_HEADING = 120

LEAD = "lead"
EXTRACT = "extract"


@dataclass(frozen=True, slots=True)
class Explanation:
    """How a statement was summarised: the summary, the way and why, and for an
    extract every sentence with its score or the reason it was skipped."""

    summary: str
    mode: str  # LEAD or EXTRACT
    why: str
    language: str
    sentences: list[Candidate]


def summarise(text: str, limit: int = SUMMARY_LIMIT, *, language: str | None = None) -> str:
    """At most `limit` characters that say what the statement is about.

    Its lead (see `lead`) when it is short or opens with content; otherwise its most
    central sentences, in their original order. `language` is "en" or "ru"; None
    guesses it from the script. It is reported by `explain`; the rules of both
    languages apply to every sentence and each word is read in its own script,
    since Russian statements quote English names and English ones Russian titles.
    """
    return explain(text, limit, language=language).summary


def explain(
    text: str,
    limit: int = SUMMARY_LIMIT,
    *,
    language: str | None = None,
    tuning: Tuning | None = None,
) -> Explanation:
    """`summarise`, with its reasons."""
    if limit < 2:
        raise ValueError("limit must be at least 2")
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES} or None, got {language!r}")
    language = language or detect_language(text)
    # Most statements are short: decide that before reading the text any further.
    if len(one_line(text)) <= max(SHORT_STATEMENT, limit * 3 // 2):
        return Explanation(lead(text, limit), LEAD, "short statement", language, [])
    why_not_lead = _why_not_lead(text)
    if why_not_lead is None:
        return Explanation(lead(text, limit), LEAD, "opens with a lead", language, [])
    sentences = rank(text, limit, tuning)
    chosen = [c.text for c in sentences if c.chosen]
    summary = " ".join(chosen) if chosen else _best_cut(sentences, limit)
    if not summary:
        return Explanation(lead(text, limit), LEAD, "nothing else to use", language, sentences)
    return Explanation(summary, EXTRACT, why_not_lead, language, sentences)


def summarise_stored(text: str, stored: str, limit: int = SUMMARY_LIMIT) -> str:
    """The summary of a statement already stored with `stored` as its summary, by
    today's rules (`communique resummarise`).

    The stored text includes the captions of its photos, which the summary was
    taken without (a caption is no lead; see jobs.parse). So a stored summary that
    is the lead of a later paragraph, when the text from there on still opens with
    a lead, was right, and stays; so does any summary of a statement stored without
    a text. Otherwise it is `summarise(text)`: applied again to its own result, this
    changes nothing.
    """
    if not text.strip():
        return stored
    new = summarise(text, limit)
    if new == stored or not stored:
        return new
    paragraphs = [p for p in (part.strip() for part in text.split("\n\n")) if p]
    for index in range(1, len(paragraphs)):
        if lead(paragraphs[index], limit) == stored:
            rest = "\n\n".join(paragraphs[index:])
            return stored if summarise(rest, limit) == stored else new
    return new


def lead(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """The lead of a statement: its first non-empty paragraph, at most `limit` characters.

    A longer paragraph is cut at its last sentence end within the limit when that
    keeps a reasonable share of it (at least 40%), else at the last word boundary;
    a cut text ends with "…", which counts within the limit.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    first = next((p.strip() for p in text.split("\n\n") if p.strip()), "")
    first = one_line(first)
    if len(first) <= limit:
        return first
    # A sentence cut ends "… end. …": the space and the ellipsis both count.
    sentence_budget = limit - 2
    sentence_cut = 0
    for match in _SENTENCE_END.finditer(first, 0, sentence_budget + 1):
        sentence_cut = match.end()
    if sentence_cut >= 0.4 * limit:
        return f"{first[:sentence_cut]} {ELLIPSIS}"
    return _cut_at_word(first, limit)


def _cut_at_word(text: str, limit: int) -> str:
    word_budget = limit - 1
    cut = text[:word_budget]
    if not text[word_budget].isspace():
        head, space, _ = cut.rpartition(" ")
        # One enormous "word" (a URL, say): a hard cut is all there is.
        if space and head.strip():
            cut = head
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


def _why_not_lead(text: str) -> str | None:
    """Why the first paragraph is not a lead (a transcript, a courtesy or procedural
    opening, a heading), or None when it is one."""
    paragraphs = split_paragraphs(text)
    labelled = 0
    for paragraph in paragraphs:
        if procedural.split_label(paragraph)[0] is not None:
            labelled += 1
            if labelled >= TRANSCRIPT_LABELS:
                return "a transcript (speakers' turns)"
    speaker, first = procedural.split_label(paragraphs[0])
    sentences = split_sentences(first)
    if not sentences:
        return "an empty opening"
    reason = procedural.skip_reason(sentences[0])
    if reason is not None:
        return f"opens with a {reason}"
    if speaker is not None:
        return "opens with a speaker's turn"
    if len(first) <= LONGEST_HEADING and not _SENTENCE_END.search(first + " "):
        return "opens with a heading"
    return None


def _best_cut(sentences: list[Candidate], limit: int) -> str:
    """When no usable sentence fits: the best-scored one, cut at a word."""
    long_ones = [c for c in sentences if c.skipped == SKIP_LONG]
    if not long_ones:
        return ""
    best = max(long_ones, key=lambda c: (c.score, -c.index))
    return _cut_at_word(best.text, limit)

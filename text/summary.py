"""The summary of a statement: today its lead, the first paragraph cut to fit."""

from __future__ import annotations

import re

from text.plain import ELLIPSIS, one_line

# A sentence ends with . ! ? or … (maybe inside closing quotes or brackets) before a space.
_SENTENCE_END = re.compile("[.!?…][\"'”’»)\\]]*(?=\\s)")

SUMMARY_LIMIT = 400


def summarise(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """The lead of a statement: its first non-empty paragraph, at most `limit` characters.

    A longer paragraph is cut at its last sentence end within the limit when that
    keeps a reasonable share of it (at least 40%), else at the last word boundary;
    a cut text ends with "…", which counts within the limit.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    lead = next((p.strip() for p in text.split("\n\n") if p.strip()), "")
    lead = one_line(lead)
    if len(lead) <= limit:
        return lead
    # A sentence cut ends "… end. …": the space and the ellipsis both count.
    sentence_budget = limit - 2
    sentence_cut = 0
    for match in _SENTENCE_END.finditer(lead, 0, sentence_budget + 1):
        sentence_cut = match.end()
    if sentence_cut >= 0.4 * limit:
        return f"{lead[:sentence_cut]} {ELLIPSIS}"
    word_budget = limit - 1
    cut = lead[:word_budget]
    if not lead[word_budget].isspace():
        head, space, _ = cut.rpartition(" ")
        # One enormous "word" (a URL, say): a hard cut is all there is.
        if space and head.strip():
            cut = head
    return cut.rstrip(" ,;:-–—") + ELLIPSIS

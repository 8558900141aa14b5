"""Sentence splitting for English and Russian statements, without a model.

A summary is made of whole sentences, so a wrong split shows: "Mr." cut from its
name, "С. В. Лавров" torn into three, a quotation broken in half. The rules are
the usual ones of rule-based splitters (Punkt's abbreviation lists, pysbd's
golden rules) kept to what official statements contain:

- a sentence ends at . ! ? … (maybe inside closing quotes or brackets) before a
  space and a word that can start one (a capital, a digit, an opening quote);
  a lower-case word after it continues the sentence ("e.g. the", "2 окт. 2021 г.
  в Москве");
- abbreviations that never end a sentence ("Mr.", "Dr.", "e.g.", "т. е.", "им.")
  never split, those that stand before a number ("No. 5", "p. 3", "ст. 5") do not
  split before one, and initials ("S. V. Lavrov", "С. В. Лавров", "U.S.") split
  only before a word that usually opens a sentence ("the U.S. The ministry");
- a quotation or bracket that closes within the paragraph is not split inside;
- a paragraph break (a blank line, as the stored text has them) always ends one.

Deterministic and linear in the length of the text.
"""

from __future__ import annotations

import bisect
import re

# An end of sentence candidate: terminators, then closers, then the space after.
_CANDIDATE = re.compile(r"(?:\.{3}|[.!?…])+[\"'”’»)\]]*(?=\s)")
# The word before a final "."; dotted runs of short parts are one word ("U.S.",
# "т. е.", "С. В."), as is a number.
_WORD_BEFORE = re.compile(r"(?:^|(?<=\s)|(?<=[(\[«“\"]))((?:[^\W\d_]{1,2}\.\s?)*[^\W_][\w’'-]*)\.$")
# How far back the word before a "." is looked for (abbreviations are short).
_LOOK_BACK = 24
_NUMBER_BEFORE = re.compile(r"\d\s+\S+$")
_QUOTES_AND_BRACKETS = re.compile('["«»“”„()\\[\\]]')
_NEXT_WORD = re.compile(r"\s+([\"'“‘«(\[]*)(\S*)")

_OPENERS = {"(": ")", "[": "]", "«": "»", "“": "”", "„": "“"}
# A quotation longer than this is treated as running text: splitting it beats one
# sentence the length of a page when a closing mark is missing.
_LONGEST_QUOTATION = 600

# Never the last word of a sentence (a name, a number or an example follows).
_NEVER_FINAL = frozenset(
    """
    mr mrs ms mssrs messrs dr prof gen col lt sgt capt cmdr adm maj rev hon st sen rep
    gov pres amb e.g i.e cf viz vs approx dept est fig figs nos
    г-н г-жа им ул пр-т просп пл пер наб д-р проф акад доц см ср напр т.е т.н
    """.split()
)  # fmt: skip
# Do not end a sentence when a number follows them ("No. 5", "ст. 5", "окт. 2021").
_BEFORE_A_NUMBER = frozenset(
    """
    no art para paras p pp vol vols ch sec sect op arts
    jan feb mar apr jun jul aug sep sept oct nov dec
    ст п пп ч гл с стр т тт вып №
    янв фев февр мар апр авг сент окт ноя нояб дек
    """.split()
)  # fmt: skip
# Capitalised words that usually open a sentence: after initials or an acronym
# ("U.S.", "В.") they mean the sentence did end there.
_SENTENCE_OPENERS = frozenset(
    """
    the this that these those it its we our i he she they there here in on at as
    but and however a an if when while after before for with what why how who
    мы это в на но и однако он она они я как что если когда после при по для так
    """.split()
)  # fmt: skip


def split_paragraphs(text: str) -> list[str]:
    """The non-empty paragraphs of stored text (blank-line separated), each on one line."""
    paragraphs = (" ".join(chunk.split()) for chunk in re.split(r"\n\s*\n", text))
    return [p for p in paragraphs if p]


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, in order; a paragraph break always ends one."""
    sentences: list[str] = []
    for paragraph in split_paragraphs(text):
        sentences += _split_paragraph(paragraph)
    return sentences


def _split_paragraph(paragraph: str) -> list[str]:
    closes = _quotation_closes(paragraph)
    sentences: list[str] = []
    start = 0
    for match in _CANDIDATE.finditer(paragraph):
        end = match.end()
        if _inside_quotation(closes, start, end) or not _ends_sentence(paragraph, match):
            continue
        sentence = paragraph[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = end
    tail = paragraph[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _quotation_closes(paragraph: str) -> list[tuple[int, int]]:
    """(opening, closing) offsets of quotations and brackets that close in the paragraph.

    Straight double quotes open after a space or at the start and close elsewhere;
    only outermost pairs matter, since nothing inside one is split.
    """
    spans: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for found in _QUOTES_AND_BRACKETS.finditer(paragraph):
        at, char = found.start(), found.group()
        if char == '"':
            opening = at == 0 or paragraph[at - 1].isspace() or paragraph[at - 1] in "([«“"
            if opening:
                stack.append(('"', at))
                continue
            char_closes = '"'
        elif char in _OPENERS:
            stack.append((_OPENERS[char], at))
            continue
        else:
            char_closes = char
        if stack and stack[-1][0] == char_closes:
            _, opened = stack.pop()
            if not stack and at - opened <= _LONGEST_QUOTATION:
                spans.append((opened, at))
    return spans


def _inside_quotation(closes: list[tuple[int, int]], start: int, end: int) -> bool:
    """The candidate end at `end` falls strictly inside a quotation of this sentence."""
    # The last quotation opened before `end`: spans are outermost, so none overlap.
    at = bisect.bisect_left(closes, (end, -1)) - 1
    if at < 0:
        return False
    opened, closed = closes[at]
    return opened >= start and end <= closed


def _ends_sentence(paragraph: str, match: re.Match[str]) -> bool:
    found = _NEXT_WORD.match(paragraph, match.end())
    if found is None:
        return True
    opening, word = found.groups()
    first = word[:1]
    if first.isalpha() and not first.isupper() and not opening:
        return False  # "e.g. the", "2 окт. 2021 г. в Москве", "wait… what"
    if match.group().rstrip("\"'”’»)]") != ".":
        return True
    before = _WORD_BEFORE.search(paragraph, max(0, match.start() - _LOOK_BACK), match.start() + 1)
    if before is None:
        return True
    written = before.group(1).replace(" ", "")
    token = written.lower()
    if token in _NEVER_FINAL:
        return False
    if token in _BEFORE_A_NUMBER and first.isdigit():
        return False
    if token in ("г", "гг"):
        # After a year it is "год", which may end a sentence; else "город" ("г. Москва").
        window = max(0, before.start() - _LOOK_BACK)
        return _NUMBER_BEFORE.search(paragraph, window, before.end()) is not None
    if _is_initial(written):
        return word.lower() in _SENTENCE_OPENERS
    return True


def _is_initial(token: str) -> bool:
    """One capital ("S", "С") or dotted capitals ("U.S", "С.В"): an initial or acronym."""
    letters = token.split(".")
    return all(len(part) == 1 and part.isupper() for part in letters if part) and any(letters)

"""Extractive summary of a long statement: score every sentence, pick the best that fit.

The method is centroid ranking (Radev et al., 2004) with a position prior and
maximal marginal relevance (Carbonell & Goldstein, 1998):

1. Every sentence is judged by the rules of `text.procedural`; those that are
   courtesies, procedure, labels' remains or bare questions are skipped, with
   their reason, and so is the rest of a courtesy opening or closing paragraph.
2. The statement's centroid weighs each content term by how often the statement
   uses it (log-scaled) and how concentrated it is (its inverse sentence
   frequency), so the words the statement is about weigh most; a term used in
   one sentence only weighs nothing, since the statement is not about it.
3. A sentence's centrality is the weight of its distinct terms over the square
   root of their number (a cosine with the centroid, up to a constant). Central
   sentences (above the median) early in the statement get a bonus, since
   speakers state their subject first; a sentence that opens by pointing back
   ("This transition…") loses a little, since it reads badly alone.
4. Sentences are taken best first, each losing score for what it shares with those
   already taken (MMR), while they fit the character budget; the summary gives
   them in their original order.

Everything is a pure function of the text: the same text always gives the same
summary, and `rank` says why each sentence was or was not chosen.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, replace

from text import procedural
from text.sentences import split_paragraphs, split_sentences
from text.terms import Stems, words

SKIP_COURTESY_OPENING = "courtesy opening"
SKIP_COURTESY_CLOSING = "courtesy closing"
SKIP_SHORT = "too short to say anything"
SKIP_LONG = "longer than the budget"
SKIP_NO_CONTENT = "no content words"
_NOT_SPOKEN = frozenset({procedural.TRANSLATION, procedural.DATELINE})

# Words that point back to an earlier sentence when they open one.
_DANGLING = re.compile(
    r"(?:this|that|these|those|it|they|such|he|she|its|their|there|then|also|but|и|но|это|"
    r"этот|эта|эти|он|она|они|оно|такой|такая|такие|там|тогда|при этом)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Tuning:
    """The method's few constants (chosen on QMSum's train split only)."""

    min_words: int = 6  # shorter sentences rarely say anything on their own
    length_exponent: float = 0.5  # 0.5 is a cosine; higher favours shorter sentences
    position_bonus: float = 2.0  # the first usable sentence's extra share of score
    position_scale: float = 0.05  # the bonus halves over this share of the statement
    redundancy: float = 0.5  # MMR: how much overlap with chosen sentences costs
    pool: int = 60  # only the best this many are considered for selection
    min_uses: int = 2  # a stem used in fewer sentences is not what the statement is about
    dangling: float = 0.8  # score kept by a sentence opening with "This", "It", "Это"…
    central_share: float = 0.5  # only sentences above this quantile of centrality get a bonus


@dataclass(frozen=True, slots=True)
class Candidate:
    """One sentence of the statement, as the summariser saw it."""

    index: int  # order in the statement
    paragraph: int
    speaker: str | None  # from the last "Name: …" label at or before its paragraph
    text: str
    skipped: str | None  # why it may not be used; None when it may
    centrality: float = 0.0
    score: float = 0.0  # centrality with the position bonus
    chosen: bool = False


def rank(text: str, limit: int, tuning: Tuning | None = None) -> list[Candidate]:
    """Every sentence of `text` with its score, reason for being skipped, and whether
    it is in the summary of at most `limit` characters (sentences joined by spaces)."""
    tuning = tuning or Tuning()
    candidates = _judge(text, tuning)
    stems = Stems()
    stem_sets = [
        frozenset(stems.of(words(c.text))) if c.skipped is None else frozenset() for c in candidates
    ]
    weights = _centroid(stem_sets, tuning.min_uses)
    # Insertion order is the statement's order: position counts among the sentences
    # that may be used, since where the courtesies end is where the statement starts.
    centralities = {
        c.index: _centrality(c.text, stem_sets[c.index], weights, tuning)
        for c in candidates
        if stem_sets[c.index]
    }
    place = {index: seen for seen, index in enumerate(centralities)}
    last = max(len(centralities) - 1, 1)
    # Being early is a bonus only for a sentence about the subject: speakers state it
    # first, but small talk comes first too.
    ordered = sorted(centralities.values())
    central = ordered[int(tuning.central_share * (len(ordered) - 1))] if ordered else 0.0
    scored: list[Candidate] = []
    for candidate in candidates:
        centrality = centralities.get(candidate.index)
        if centrality is None:
            no_content = candidate.skipped is None
            scored.append(replace(candidate, skipped=SKIP_NO_CONTENT) if no_content else candidate)
            continue
        bonus = tuning.position_bonus * 0.5 ** (
            place[candidate.index] / last / tuning.position_scale
        )
        score = centrality * (1 + bonus) if centrality >= central else centrality
        skipped = SKIP_LONG if len(candidate.text) > limit else None
        scored.append(replace(candidate, centrality=centrality, score=score, skipped=skipped))
    chosen = _select(scored, stem_sets, limit, tuning)
    return [replace(c, chosen=True) if c.index in chosen else c for c in scored]


def _centrality(
    text: str, terms: frozenset[str], weights: dict[str, float], tuning: Tuning
) -> float:
    centrality: float = sum(weights[t] for t in terms) / len(terms) ** tuning.length_exponent
    if _DANGLING.match(text):
        # Out of its context "This transition…" leaves the reader asking which.
        centrality *= tuning.dangling
    return centrality


def _judge(text: str, tuning: Tuning) -> list[Candidate]:
    """Split into sentences, each with its speaker and the reason to skip it, if any."""
    turns = [procedural.split_label(p) for p in split_paragraphs(text)]
    sentences = [split_sentences(said) for _, said in turns]
    reasons = [[procedural.skip_reason(s) for s in group] for group in sentences]
    # The statement's first and last paragraphs, not counting a translation note or
    # a dateline standing alone above it.
    spoken = [n for n, group in enumerate(reasons) if not set(group) <= _NOT_SPOKEN]
    for number in {spoken[0], spoken[-1]} if spoken else set():
        group = reasons[number]
        if group[0] in procedural.CEREMONY:
            # A paragraph that opens or closes the statement with ceremony is ceremony
            # through ("Thank you for inviting me. I am no stranger to…"), but for a
            # line of the agenda, which says what the meeting is about.
            whole = SKIP_COURTESY_OPENING if number == spoken[0] else SKIP_COURTESY_CLOSING
            reasons[number] = [
                r or (None if procedural.is_agenda(s) else whole)
                for r, s in zip(group, sentences[number], strict=True)
            ]
    candidates: list[Candidate] = []
    speaker: str | None = None
    for number, (label, _) in enumerate(turns):
        # A paragraph without a label goes on with the last speaker.
        speaker = label or speaker
        for sentence, reason in zip(sentences[number], reasons[number], strict=True):
            if reason is None and len(sentence.split()) < tuning.min_words:
                reason = SKIP_SHORT
            candidates.append(Candidate(len(candidates), number, speaker, sentence, reason))
    return candidates


def _centroid(stem_sets: list[frozenset[str]], min_uses: int) -> dict[str, float]:
    """Each stem's weight: log-scaled use across the statement times its inverse
    sentence frequency (a stem in every sentence says nothing about any one)."""
    used = [s for s in stem_sets if s]
    frequency: Counter[str] = Counter()
    for terms in used:
        frequency.update(terms)
    total = len(used) or 1
    return {
        term: (1 + math.log(count)) * math.log(1 + total / count) if count >= min_uses else 0.0
        for term, count in frequency.items()
    }


def _select(
    scored: list[Candidate], stem_sets: list[frozenset[str]], limit: int, tuning: Tuning
) -> set[int]:
    """Indexes of the sentences chosen by MMR within `limit` characters."""
    usable = [c for c in scored if c.skipped is None and c.score > 0]
    usable.sort(key=lambda c: (-c.score, c.index))
    pool = usable[: tuning.pool]
    if not pool:
        return set()
    top = pool[0].score
    chosen: list[Candidate] = []
    room = limit
    while pool:
        best: Candidate | None = None
        best_value = -math.inf
        for candidate in pool:
            if len(candidate.text) + (1 if chosen else 0) > room:
                continue
            overlap = max(
                (_overlap(stem_sets[candidate.index], stem_sets[c.index]) for c in chosen),
                default=0.0,
            )
            value = candidate.score / top - tuning.redundancy * overlap
            if value > best_value:
                best, best_value = candidate, value
        if best is None:
            break
        room -= len(best.text) + (1 if chosen else 0)
        chosen.append(best)
        pool.remove(best)
    return {c.index for c in chosen}


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))

"""Search on PostgreSQL: our own tokens in tsvectors, a typed query rendered as a
tsquery, and what ts_headline should mark.

A statement is indexed as SQLite indexes it (storage/words.py): the same tokens
(split and folded as FTS5's unicode61 does) and the same stems, written straight
into tsvector literals, so PostgreSQL's own parser, dictionaries and locale never
decide what a word is, and a query finds on PostgreSQL exactly what it finds on
SQLite. Title, lead and text are one tsvector with weights A, B and C (for
ranking), their positions one apart more than their words, so that a phrase never
runs from one into the next, as an FTS5 phrase never spans two columns.

A `Query` (storage/query.py) becomes a tsquery built from its own tokens, each a
quoted lexeme, so nothing a user types is ever tsquery syntax: words by stem in
`search_stems`, "phrases" (`<->`) and prefixes (`:*`) in `search_words`,
exclusions as `!`.

Limits PostgreSQL sets, which SQLite does not: a position is at most 16,383 (words
beyond it are still found, but a phrase only within the first 16,383 words of a
statement), a lexeme keeps at most 256 positions, and a tsvector at most 1 MB: a
huge statement's later words past that budget are left out of its index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storage.query import Query, Term, TermKind
from storage.words import fold_yo, spellings, stems, words

__all__ = ["Tsvectors", "highlight_query", "index_texts", "tsquery"]

MAX_POSITION = 16383
MAX_POSITIONS_PER_LEXEME = 256
MAX_LEXEME_BYTES = 2046
# Well below PostgreSQL's 1 MB for a tsvector: estimated as it is stored.
TSVECTOR_BUDGET = 900_000
WEIGHTS = ("A", "B", "C")  # title, lead, text


@dataclass(frozen=True, slots=True)
class Tsvectors:
    """A statement's two tsvector literals."""

    words: str
    stems: str


def _literal(token: str) -> str:
    # The tsvector and tsquery input syntax: a quoted lexeme, ' doubled and \ escaped.
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsvector(fields: Sequence[Sequence[str]]) -> str:
    positions: dict[str, list[str]] = {}
    size = 0
    at = 0
    for weight, tokens in zip(WEIGHTS, fields, strict=True):
        for token in tokens:
            at += 1
            found = positions.get(token)
            if found is None:
                cost = len(token.encode()) + 8
                if size + cost > TSVECTOR_BUDGET or len(token.encode()) > MAX_LEXEME_BYTES:
                    continue
                size += cost
                found = positions[token] = []
            if len(found) < MAX_POSITIONS_PER_LEXEME and size + 2 <= TSVECTOR_BUDGET:
                size += 2
                found.append(f"{min(at, MAX_POSITION)}{weight}")
        # The gap that keeps a phrase inside one field.
        at += 1
    return " ".join(
        f"{_literal(token)}:{','.join(places)}" if places else _literal(token)
        for token, places in positions.items()
    )


def index_texts(title: str, summary: str, content: str, stem_texts: Sequence[str]) -> Tsvectors:
    """The tsvectors of a statement from its texts and their stem texts (as stored in
    `*_stems`, one stem per token, in order)."""
    fields = [words(title), words(summary), words(content)]
    stem_fields = [text.split() for text in stem_texts]
    return Tsvectors(words=_tsvector(fields), stems=_tsvector(stem_fields))


# ------------------------------------------------------------------------- queries


def _sequence(tokens: Sequence[str], *, prefix: bool = False) -> str:
    parts = [_literal(t) for t in tokens]
    if prefix:
        parts[-1] += ":*"
    body = " <-> ".join(parts)
    return f"({body})" if len(parts) > 1 else body


def _forms(tokens: Sequence[str], *, prefix: bool) -> str:
    """Forms as written, each way they may be spelt with е or ё (storage/words.py):
    the same spellings SQLite's search looks up, one phrase of alternatives each."""
    options = [_sequence(spelt, prefix=prefix) for spelt in spellings(tokens)]
    return options[0] if len(options) == 1 else "(" + " | ".join(options) + ")"


def _render(term: Term) -> str:
    if term.kind is TermKind.WORD:
        return _sequence(term.stems)
    return _forms(term.tokens, prefix=term.kind is TermKind.PREFIX)


def _all(included: Iterable[Term], excluded: Iterable[Term]) -> str | None:
    parts = [_render(t) for t in included] + [f"!{_render(t)}" for t in excluded]
    return " & ".join(parts) if parts else None


@dataclass(frozen=True, slots=True)
class TsPlan:
    """The conditions on a statement: its stems match `stems`, its words `words`
    (None: no condition on that column). Both hold exclusions as `!`."""

    stems: str | None
    words: str | None
    rank_column: str  # where the terms looked for are: search_stems or search_words
    rank_query: str  # those terms alone, for ts_rank

    def ranking(self) -> tuple[str, str]:
        return self.rank_column, self.rank_query

    def where(self, alias: str = "i") -> tuple[str, dict[str, str]]:
        """SQL conditions and their parameters; "true" when there are none."""
        conditions: list[str] = []
        params: dict[str, str] = {}
        if self.stems is not None:
            conditions.append(f"{alias}.search_stems @@ :q_stems::tsquery")
            params["q_stems"] = self.stems
        if self.words is not None:
            conditions.append(f"{alias}.search_words @@ :q_words::tsquery")
            params["q_words"] = self.words
        return (" AND ".join(conditions) or "true"), params


def tsquery(query: Query) -> TsPlan:
    """Where `query`'s statements are: word terms by stem, the rest by their forms.

    A query of exclusions only (a filter) is a negation, which matches every
    statement that has an index; SQLite's plan likewise takes every statement."""
    by_stem_in = [t for t in query.include if t.kind is TermKind.WORD]
    by_stem_out = [t for t in query.exclude if t.kind is TermKind.WORD]
    by_form_in = [t for t in query.include if t.kind is not TermKind.WORD]
    by_form_out = [t for t in query.exclude if t.kind is not TermKind.WORD]
    if by_stem_in:
        rank = ("search_stems", _all(by_stem_in, ()) or "")
    else:
        rank = ("search_words", _all(by_form_in, ()) or "")
    return TsPlan(
        stems=_all(by_stem_in, by_stem_out),
        words=_all(by_form_in, by_form_out),
        rank_column=rank[0],
        rank_query=rank[1],
    )


# ------------------------------------------------------------------- highlighting

_SEPARATORS_ONLY: dict[int, str] | None = None


def surface_words(text: str) -> list[str]:
    """The words of `text` as written, one for each token `words(text)` gives."""
    global _SEPARATORS_ONLY
    if _SEPARATORS_ONLY is None:
        from storage.words import _TABLE

        _SEPARATORS_ONLY = {cp: " " for cp, to in _TABLE.items() if to == " "}
    runs = text.translate(_SEPARATORS_ONLY).split()
    # A run of diacritics alone folds to nothing, and FTS5 indexes no token for it.
    return [run for run in runs if words(run)]


def matched_forms(query: Query, text: str) -> set[tuple[str, ...]]:
    """The word sequences, as `text` writes them, that the query's terms find in it:
    every form of each word, each phrase, each word a prefix starts."""
    tokens = words(text)
    surface = surface_words(text)
    if len(surface) != len(tokens):  # never, by construction; then mark nothing
        return set()
    stemmed = stems(tokens)
    found: set[tuple[str, ...]] = set()
    folded = [fold_yo(t) for t in tokens]
    for term in query.include:
        n = len(term.tokens) if term.kind is not TermKind.WORD else len(term.stems)
        wanted = term.stems if term.kind is TermKind.WORD else tuple(map(fold_yo, term.tokens))
        seen = stemmed if term.kind is TermKind.WORD else folded
        for i in range(len(tokens) - n + 1):
            window = seen[i : i + n]
            if term.kind is TermKind.PREFIX:
                hit = tuple(window[:-1]) == wanted[:-1] and window[-1].startswith(wanted[-1])
            else:
                hit = tuple(window) == wanted
            if hit:
                found.add(tuple(surface[i : i + n]))
    return found


def _spellings(word: str) -> str:
    # ts_headline lower-cases the document's words by the database's locale: in "C"
    # only ASCII letters. Offered every way it may come out, one of them matches.
    options = dict.fromkeys([word.lower(), word, _ascii_lower(word)])
    parts = [_literal(o) for o in options]
    return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"


def _ascii_lower(word: str) -> str:
    return "".join(ch.lower() if ch.isascii() else ch for ch in word)


def highlight_query(forms: Iterable[tuple[str, ...]]) -> str | None:
    """A tsquery for ts_headline (the `simple` configuration) marking these forms."""
    parts = sorted(
        " <-> ".join(_spellings(w) for w in form) if len(form) > 1 else _spellings(form[0])
        for form in forms
    )
    if not parts:
        return None
    return " | ".join(f"({p})" if "<->" in p else p for p in parts)

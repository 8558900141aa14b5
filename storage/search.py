"""A parsed query (storage/query.py) rendered for the two FTS5 tables.

`items_fts` indexes the words as written (folded by `unicode61 remove_diacritics
2`); `items_fts_stems` indexes the shadow text of their stems (storage/words.py).
Words are looked up by stem in the second; "phrases" and prefix* by their exact
forms in the first (in each spelling with е or ё: storage/words.py). Every term is
emitted as an FTS5 string built from the query's own tokens, so nothing a user types
is ever FTS5 syntax: operators, column filters, brackets and stray quotes cannot
change the meaning of a query or make it fail.

A query whose terms all sit in one table is one MATCH there (exclusions as NOT); one
with terms in both is found in the stem table and filtered by the other; one of
exclusions only (a filter) is every statement minus what they find.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.query import MAX_QUERY_CHARS, Query, Term, TermKind, parse_query
from storage.words import spellings, stems, words

__all__ = [
    "EXACT_TABLE",
    "MAX_QUERY_CHARS",
    "STEMS_TABLE",
    "MatchPlan",
    "build_match_query",
    "highlight_expression",
    "plan_match",
]

EXACT_TABLE = "items_fts"
STEMS_TABLE = "items_fts_stems"


@dataclass(frozen=True, slots=True)
class MatchPlan:
    """Where a query's statements are found: `table MATCH match` (None: every
    statement), then each of `filters` as `rowid IN` or `rowid NOT IN` the rowids
    of `table MATCH expression`."""

    table: str | None
    match: str | None
    filters: tuple[tuple[str, str, str], ...]  # ("IN" or "NOT IN", table, expression)

    def select_ids(self) -> tuple[str, list[str]]:
        """SQL selecting the rowid of every matching statement, and its parameters."""
        if self.table is not None and self.match is not None:
            sql = f"SELECT rowid FROM {self.table} WHERE {self.table} MATCH ?"
            params = [self.match]
        else:
            sql = "SELECT id AS rowid FROM items WHERE 1"
            params = []
        sql += self.conditions()
        params += self.filter_params()
        return sql, params

    def conditions(self) -> str:
        """The filters as SQL conditions on `rowid`, each starting with " AND"."""
        return "".join(
            f" AND rowid {op} (SELECT rowid FROM {table} WHERE {table} MATCH ?)"
            for op, table, _ in self.filters
        )

    def filter_params(self) -> list[str]:
        return [expression for _, _, expression in self.filters]


def _string(tokens: Iterable[str]) -> str:
    # Tokens hold no quotes (a separator to FTS5), but doubling costs nothing.
    return '"' + " ".join(tokens).replace('"', '""') + '"'


def _render(term: Term) -> str:
    if term.kind is TermKind.WORD:
        return _string(term.stems)
    # Forms as written, each way they may be spelt with е or ё.
    star = "*" if term.kind is TermKind.PREFIX else ""
    options = [_string(spelt) + star for spelt in spellings(term.tokens)]
    return options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")"


def _all(terms: list[Term], excluded: list[Term]) -> str:
    # AND written out: FTS5 reads "a" "b" as both, but not "a" ("b" OR "c").
    expression = "(" + " AND ".join(_render(t) for t in terms) + ")"
    return expression + "".join(f" NOT {_render(t)}" for t in excluded)


def _any(terms: list[Term]) -> str:
    return " OR ".join(_render(t) for t in terms)


def plan_match(query: Query) -> MatchPlan:
    """How to find the statements `query` matches."""

    def by_stem(terms: tuple[Term, ...]) -> list[Term]:
        return [t for t in terms if t.kind is TermKind.WORD]

    def by_form(terms: tuple[Term, ...]) -> list[Term]:
        return [t for t in terms if t.kind is not TermKind.WORD]

    stem_in, stem_out = by_stem(query.include), by_stem(query.exclude)
    form_in, form_out = by_form(query.include), by_form(query.exclude)
    filters: list[tuple[str, str, str]] = []
    if stem_in:
        if form_in:
            filters.append(("IN", EXACT_TABLE, _all(form_in, form_out)))
        elif form_out:
            filters.append(("NOT IN", EXACT_TABLE, _any(form_out)))
        return MatchPlan(STEMS_TABLE, _all(stem_in, stem_out), tuple(filters))
    if stem_out:
        filters.append(("NOT IN", STEMS_TABLE, _any(stem_out)))
    if form_in:
        return MatchPlan(EXACT_TABLE, _all(form_in, form_out), tuple(filters))
    if form_out:
        filters.append(("NOT IN", EXACT_TABLE, _any(form_out)))
    return MatchPlan(None, None, tuple(filters))


def highlight_expression(query: Query, texts: Iterable[str]) -> str | None:
    """A MATCH expression for `items_fts` that marks, in snippets of `texts` (the
    statements shown), the words the query found as they are written there: each
    phrase and prefix, and every form of each word that occurs. None: nothing."""
    found: set[str] = {_render(t) for t in query.include if t.kind is not TermKind.WORD}
    wanted = [t.stems for t in query.include if t.kind is TermKind.WORD]
    single = {s[0] for s in wanted if len(s) == 1}
    longer = [s for s in wanted if len(s) > 1]
    for text in texts:
        tokens = words(text)
        stemmed = stems(tokens)
        for i, stem in enumerate(stemmed):
            if stem in single:
                found.add(_string([tokens[i]]))
            for sequence in longer:
                if stem == sequence[0] and tuple(stemmed[i : i + len(sequence)]) == sequence:
                    found.add(_string(tokens[i : i + len(sequence)]))
    return " OR ".join(sorted(found)) if found else None


def build_match_query(query: str) -> str:
    """The FTS5 MATCH expression for `items_fts` that finds the words of a /search
    query as written, not by stem: what search did before it knew word forms (the
    baseline the search_languages benchmark measures stemming against). Raises
    `InvalidSearchQueryError` like `parse_query`."""
    parsed = parse_query(query)

    def exact(term: Term) -> str:
        text = _string([term.text])
        return text + "*" if term.kind is TermKind.PREFIX else text

    expression = " ".join(exact(t) for t in parsed.include)
    return expression + "".join(f" NOT {exact(t)}" for t in parsed.exclude)

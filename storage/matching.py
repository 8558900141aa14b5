"""Which saved queries (alerts, per-subscription filters) a new statement matches,
answered in memory, with exactly the meaning the same query has in /search.

A statement is read once into a `Document`: the tokens of its title, lead and
text as FTS5 indexes them, and their stems (storage/words.py), so a word term
matches what its stem would find in `items_fts_stems`, and a phrase or a prefix
what it would find in `items_fts` (with ё read as е, as the search looks a phrase
up in each spelling). Phrases never span two fields, as FTS5 phrases never span
two columns.

`QueryIndex` holds many queries under opaque integer keys. Each query that looks
for something is filed under one of its required words, the one likely rarest
(longest, not a stop word); a statement looks up only the words it has, and only
those queries, plus the ones made of exclusions alone (always candidates), are
evaluated. Queries are added and removed one at a time, without rebuilding.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence

from storage.query import Query, Term, TermKind
from storage.words import fold_yo, stems, words

__all__ = ["Document", "QueryIndex", "matches"]

# Words too common to file a query under when it has a better one: a statement
# would hand every query filed here to evaluation. (Stems: "was" stays "was".)
_COMMON = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to "
    "was were will with и в во на с со по не что о об к из за для от до это как а но".split()
)

_Key = tuple[str, tuple[str, ...]]  # what a term asks of a document


def _key(term: Term) -> _Key:
    if term.kind is TermKind.WORD:
        return ("s", term.stems)
    return ("e" if term.kind is TermKind.PHRASE else "p", _folded(term))


def _folded(term: Term) -> tuple[str, ...]:
    """A phrase's or prefix's tokens with ё read as е, as a Document holds its words."""
    return tuple(fold_yo(t) for t in term.tokens)


class Document:
    """One statement, tokenized once for every query it is matched against."""

    __slots__ = ("_answers", "_positions", "_sorted", "exact", "fields", "stem_fields", "stemmed")

    def __init__(self, title: str, summary: str = "", content: str = "") -> None:
        # The words with ё read as е (what a phrase or prefix is compared with; the
        # stems are the same either way).
        self.fields: tuple[list[str], ...] = tuple(
            words(fold_yo(text)) for text in (title, summary, content)
        )
        self.stem_fields: tuple[list[str], ...] = tuple(stems(f) for f in self.fields)
        self.exact: frozenset[str] = frozenset().union(*self.fields)
        self.stemmed: frozenset[str] = frozenset().union(*self.stem_fields)
        self._sorted: list[str] | None = None
        self._positions: dict[bool, dict[str, list[tuple[int, int]]]] = {}
        # Many queries share terms; each is worked out once per statement.
        self._answers: dict[_Key, bool] = {}

    def has(self, term: Term) -> bool:
        """Whether the statement has `term` (its exclusion flag aside)."""
        key = _key(term)
        found = self._answers.get(key)
        if found is None:
            found = self._answers[key] = self._has(*key)
        return found

    def _has(self, kind: str, tokens: tuple[str, ...]) -> bool:
        if kind == "s":
            if len(tokens) == 1:
                return tokens[0] in self.stemmed
            return self._sequence(tokens, stemmed=True, prefix=False)
        if kind == "e":
            if len(tokens) == 1:
                return tokens[0] in self.exact
            return self._sequence(tokens, stemmed=False, prefix=False)
        if len(tokens) == 1:
            return self._starts(tokens[0])
        return self._sequence(tokens, stemmed=False, prefix=True)

    def _starts(self, prefix: str) -> bool:
        if self._sorted is None:
            self._sorted = sorted(self.exact)
        at = bisect.bisect_left(self._sorted, prefix)
        return at < len(self._sorted) and self._sorted[at].startswith(prefix)

    def _sequence(self, tokens: tuple[str, ...], *, stemmed: bool, prefix: bool) -> bool:
        """Consecutive tokens within one field; with `prefix`, the last one only
        has to start the field's token."""
        fields = self.stem_fields if stemmed else self.fields
        positions = self._positions.get(stemmed)
        if positions is None:
            positions = self._positions[stemmed] = {}
            for f, field in enumerate(fields):
                for i, token in enumerate(field):
                    positions.setdefault(token, []).append((f, i))
        n = len(tokens)
        for f, i in positions.get(tokens[0], ()):
            field = fields[f]
            if i + n > len(field):
                continue
            if all(field[i + k] == tokens[k] for k in range(1, n - 1 if prefix else n)):
                if not prefix or field[i + n - 1].startswith(tokens[-1]):
                    return True
        return False


def matches(query: Query, document: Document) -> bool:
    """Whether `document` has every included term and none of the excluded ones
    (with no included term: none of the excluded ones)."""
    return all(document.has(t) for t in query.include) and not any(
        document.has(t) for t in query.exclude
    )


def _anchor(query: Query) -> tuple[str, str] | None:
    """The one required word a statement must have for `query` to match it, chosen
    to be rare: ("s", stem), ("e", exact token) or ("p", prefix). None: the query
    has exclusions only."""
    best: tuple[int, tuple[str, str]] | None = None
    for term in query.include:
        options: list[tuple[int, tuple[str, str]]] = []
        if term.kind is TermKind.WORD:
            options = [(_rarity(s), ("s", s)) for s in term.stems]
        else:
            tokens = _folded(term)
            exact = tokens[:-1] if term.kind is TermKind.PREFIX else tokens
            options = [(_rarity(t), ("e", t)) for t in exact]
            if term.kind is TermKind.PREFIX:
                # Any word starting so-and-so: less telling than a whole word.
                options.append((_rarity(tokens[-1]) - 3, ("p", tokens[-1])))
        for option in options:
            if best is None or option[0] > best[0]:
                best = option
    return None if best is None else best[1]


def _rarity(token: str) -> int:
    return len(token) - (100 if token in _COMMON else 0)


class QueryIndex:
    """Saved queries under integer keys, matched against one statement at a time."""

    def __init__(self, queries: Iterable[tuple[int, Query]] = ()) -> None:
        self._queries: dict[int, Query] = {}
        self._anchors: dict[int, tuple[str, str] | None] = {}
        self._by: dict[str, dict[str, set[int]]] = {"s": {}, "e": {}, "p": {}}
        self._prefix_lengths: Counter[int] = Counter()
        self._always: set[int] = set()  # exclusions only: candidates for every statement
        for key, query in queries:
            self.add(key, query)

    def __len__(self) -> int:
        return len(self._queries)

    def __contains__(self, key: object) -> bool:
        return key in self._queries

    def add(self, key: int, query: Query) -> None:
        """File `query` under `key`, replacing what `key` held."""
        self.remove(key)
        anchor = _anchor(query)
        self._queries[key] = query
        self._anchors[key] = anchor
        if anchor is None:
            self._always.add(key)
            return
        kind, token = anchor
        self._by[kind].setdefault(token, set()).add(key)
        if kind == "p":
            self._prefix_lengths[len(token)] += 1

    def remove(self, key: int) -> None:
        """Forget `key` (nothing happens if it is not there)."""
        if key not in self._queries:
            return
        del self._queries[key]
        anchor = self._anchors.pop(key)
        if anchor is None:
            self._always.discard(key)
            return
        kind, token = anchor
        bucket = self._by[kind][token]
        bucket.discard(key)
        if not bucket:
            del self._by[kind][token]
        if kind == "p":
            self._prefix_lengths[len(token)] -= 1
            if not self._prefix_lengths[len(token)]:
                del self._prefix_lengths[len(token)]

    def match(self, title: str, summary: str = "", content: str = "") -> list[int]:
        """The keys of the queries the statement matches, in ascending order."""
        return self.match_document(Document(title, summary, content))

    def match_document(self, document: Document) -> list[int]:
        found = [key for key in self._candidates(document) if matches(self._queries[key], document)]
        found.sort()
        return found

    def _candidates(self, document: Document) -> set[int]:
        candidates = set(self._always)
        by_stem, by_token, by_prefix = self._by["s"], self._by["e"], self._by["p"]
        for stem in document.stemmed & by_stem.keys():
            candidates |= by_stem[stem]
        for token in document.exact & by_token.keys():
            candidates |= by_token[token]
        if by_prefix:
            lengths: Sequence[int] = list(self._prefix_lengths)
            for token in document.exact:
                for n in lengths:
                    if len(token) >= n:
                        bucket = by_prefix.get(token[:n])
                        if bucket is not None:
                            candidates |= bucket
        return candidates

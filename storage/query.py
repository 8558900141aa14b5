"""The query language of /search, filters and alerts, parsed into a typed form.

A query is a list of terms, all of which must match:

- a word (`sanctions`) matches any form of it: its stem, as storage/words.py
  stems it, in the title, the lead or the text;
- a "quoted phrase" matches those exact word forms, one after the other;
- a prefix (`sanct*`) matches any word, as written, that starts with it (at
  least two letters);
- `-word`, `-"phrase"` and `-prefix*` exclude the statements that have them.

Everything else is taken literally: operators (`NOT`, `OR`, `NEAR`), column
filters, brackets and stray quotes are only characters, and characters FTS5
does not index (punctuation, emoji) only separate words, exactly as they do in
statements. `c++` is the word `c`; `don't` is the word pair `don t`.

Nothing here knows SQL: storage/search.py renders a `Query` for FTS5 and
storage/matching.py evaluates it on a statement in memory, with the same meaning.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

from storage.errors import InvalidSearchQueryError
from storage.words import stems, words

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_SAVED_QUERY_CHARS",
    "MAX_TERMS",
    "Query",
    "Term",
    "TermKind",
    "parse_query",
    "parse_saved_query",
]

# /search accepts what it always has; saved queries are evaluated on every new
# statement and shown in lists, so they are kept shorter.
MAX_QUERY_CHARS = 300
MAX_SAVED_QUERY_CHARS = 200
MAX_TERMS = 20
MIN_PREFIX_LETTERS = 2  # the message below says "two"

# A quoted phrase (an unmatched quote has been dropped by then), else a run of
# anything but white space. A leading "-" excludes.
_TERM = re.compile(r'(-?)"([^"]*)"|(\S+)')


class TermKind(enum.Enum):
    WORD = "word"  # any form of the word(s): matched by stems
    PHRASE = "phrase"  # these exact word forms, consecutive
    PREFIX = "prefix"  # exact word forms, the last one only its beginning


@dataclass(frozen=True, slots=True)
class Term:
    kind: TermKind
    text: str  # as typed, without quotes, stars or the minus
    tokens: tuple[str, ...]  # folded as the index folds them; never empty
    stems: tuple[str, ...]  # the tokens' stems (used for WORD terms)
    excluded: bool = False

    def __str__(self) -> str:
        body = {
            TermKind.WORD: self.text,
            TermKind.PHRASE: f'"{self.text}"',
            TermKind.PREFIX: f"{self.text}*",
        }[self.kind]
        return f"-{body}" if self.excluded else body


@dataclass(frozen=True, slots=True)
class Query:
    """What to look for: every `include` term and none of the `exclude` terms.

    With no `include` term it means "everything but" (valid for saved queries)."""

    include: tuple[Term, ...]
    exclude: tuple[Term, ...]

    @property
    def terms(self) -> tuple[Term, ...]:
        return self.include + self.exclude

    def __str__(self) -> str:
        """The query written back in its own syntax, tidied."""
        return " ".join(str(t) for t in self.terms)

    @property
    def canonical(self) -> str:
        """What the query means, written out: two queries that always match the same
        statements (case, word forms, order, repeats aside) have the same canonical
        form, so a saved search typed again another way is known for a duplicate."""
        keys = set()
        for term in self.terms:
            words = term.stems if term.kind is TermKind.WORD else term.tokens
            keys.add(f"{'-' if term.excluded else '+'}{term.kind.value}:{' '.join(words)}")
        return " ".join(sorted(keys))


def _clean(text: str) -> str:
    # Control and format characters (zero-width spaces, bidi marks) only separate words.
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )


def _parse(text: str, *, max_chars: int, what: str) -> Query:
    if len(text) > max_chars:
        raise InvalidSearchQueryError(
            f"that {what} is too long ({len(text)} characters); use at most {max_chars}"
        )
    text = _clean(text).strip()
    if text.count('"') % 2:
        # An unmatched quote is taken literally, which for search means: ignored.
        last = text.rfind('"')
        text = text[:last] + " " + text[last + 1 :]
    include: list[Term] = []
    exclude: list[Term] = []
    for found in _TERM.finditer(text):
        minus, phrase, word = found.group(1), found.group(2), found.group(3)
        if phrase is not None:
            term = _term(TermKind.PHRASE, " ".join(phrase.split()), excluded=bool(minus))
        else:
            assert word is not None
            excluded = word.startswith("-") and len(word) > 1
            core = word[1:] if excluded else word
            prefix = core.endswith("*")
            core = core.rstrip("*").replace('"', " ").strip()
            term = _term(TermKind.PREFIX if prefix else TermKind.WORD, core, excluded=excluded)
            if term is not None and prefix and len(term.tokens[-1]) < MIN_PREFIX_LETTERS:
                raise InvalidSearchQueryError(
                    f"«{core}*» would match nearly everything; "
                    "put at least two letters before the *"
                )
        if term is not None:
            (exclude if term.excluded else include).append(term)
    if not include and not exclude:
        raise InvalidSearchQueryError(
            "there is nothing to search for in that; type one or more words, "
            'a "quoted phrase" or a prefix like sanction*'
        )
    if len(include) + len(exclude) > MAX_TERMS:
        raise InvalidSearchQueryError(f"that {what} has too many words; use at most {MAX_TERMS}")
    return Query(tuple(include), tuple(exclude))


def _term(kind: TermKind, text: str, *, excluded: bool) -> Term | None:
    tokens = tuple(words(text))
    if not tokens:
        # Only characters the index does not keep (punctuation, emoji): nothing to find.
        return None
    return Term(kind, text, tokens, tuple(stems(tokens)), excluded)


def parse_query(text: str) -> Query:
    """Parse a /search query, which needs at least one term to look for.

    Raises `InvalidSearchQueryError`, with a message fit to show the user, for a
    query with nothing to search for, too long, with too many terms, with a
    prefix of fewer than two letters, or of exclusions only."""
    query = _parse(text, max_chars=MAX_QUERY_CHARS, what="search")
    if not query.include:
        raise InvalidSearchQueryError(
            "a search needs a word to look for besides the ones to leave out (-word)"
        )
    return query


def parse_saved_query(text: str) -> Query:
    """Parse the query of a filter or an alert: like `parse_query`, but at most
    `MAX_SAVED_QUERY_CHARS` characters, and exclusions alone are valid: `-consular`
    matches every statement that does not mention consular."""
    return _parse(text, max_chars=MAX_SAVED_QUERY_CHARS, what="query")

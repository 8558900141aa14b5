"""Turning what a user typed into a safe FTS5 query.

Users get plain words, "quoted phrases" and `prefix*`; everything else is taken
literally. Every term is emitted as an FTS5 string, so operators (`NOT`, `OR`,
`NEAR`), column filters, brackets and stray quotes can never change the query's
meaning or make it fail.
"""

from __future__ import annotations

import re
import unicodedata

from storage.errors import InvalidSearchQueryError

MAX_QUERY_CHARS = 300
MAX_TERMS = 16

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


def _clean(text: str) -> str:
    # Control and format characters (zero-width spaces, bidi marks) only separate words.
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def build_match_query(query: str) -> str:
    """Return an FTS5 MATCH expression for `query`, or raise InvalidSearchQueryError."""
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidSearchQueryError(
            f"that search is too long ({len(query)} characters); use at most {MAX_QUERY_CHARS}"
        )
    text = _clean(query).strip()
    if text.count('"') % 2:
        # An unmatched quote is taken literally, which for search means: ignored.
        last = text.rfind('"')
        text = text[:last] + " " + text[last + 1 :]
    terms: list[str] = []
    for match in _TOKEN.finditer(text):
        phrase, word = match.group(1), match.group(2)
        if phrase is not None:
            words = phrase.split()
            if any(_has_word(w) for w in words):
                terms.append(_fts_string(" ".join(words)))
            continue
        assert word is not None
        prefix = word.endswith("*")
        core = word.rstrip("*").replace('"', " ")
        if not _has_word(core):
            continue
        if prefix and len(core.strip()) < 2:
            raise InvalidSearchQueryError(
                f"«{core.strip()}*» would match nearly everything; "
                "put at least two letters before the *"
            )
        terms.append(_fts_string(core) + ("*" if prefix else ""))
    if not terms:
        raise InvalidSearchQueryError(
            "there is nothing to search for in that; type one or more words, "
            'a "quoted phrase" or a prefix like sanction*'
        )
    if len(terms) > MAX_TERMS:
        raise InvalidSearchQueryError(f"that search has too many words; use at most {MAX_TERMS}")
    return " ".join(terms)

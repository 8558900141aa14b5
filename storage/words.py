"""Words as the search index sees them: split and folded exactly as SQLite's FTS5
tokenizer `unicode61 remove_diacritics 2` does, and reduced to their stems.

The index (storage/schema.py, migration 7) keeps two views of every statement:
the words as written, which FTS5 tokenizes itself, and a shadow text of their
stems, which this module writes and FTS5 merely splits on the spaces. The saved-
query matcher (storage/matching.py) reads statements through this module alone,
so the splitting and folding here must be FTS5's to the letter: the table in
storage/_unicode61.py was read from SQLite itself, and a test checks it still is.

Stemming is by script, not by the statement's language: a word with Cyrillic
letters gets the Russian Snowball stemmer, a word with Latin letters the English
one, anything else (numbers, other scripts) stays as it is. A stem then depends
on the word alone, so a query word and the same word in any statement always get
the same stem, whatever language the feed says it is in, and an English name in a
Russian statement (or a Russian word quoted in an English one) is still found.
Russian `ё` is written `е` before stemming, so the two match each other. The
index keeps the words as written with their `ё`, so a phrase or a prefix (matched
by its forms, not its stems) is looked up in each way it may be spelt with `е` or
`ё` (`spellings`), and the saved-query matcher compares them with `ё` read as `е`
(`fold_yo`): "ещё раз" and "еще раз" find each other.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterable, Sequence

import Stemmer  # PyStemmer: Snowball's C stemmers

from storage import _unicode61

__all__ = ["fold_yo", "spellings", "stem", "stem_text", "stems", "words"]


def _table() -> dict[int, str]:
    """One translation that folds as FTS5 does and turns every separator into a
    space: splitting on spaces then gives FTS5's tokens, because a diacritic never
    separates (it is dropped wherever it stands), folding never makes a separator,
    and every character Python counts as white space is a separator to FTS5 too."""
    table: dict[int, str] = {cp: " " for cp in range(0xD800, 0xE000)}  # never stored
    table[0] = " "
    for part in _unicode61.SEPARATORS.split():
        first, _, last = part.partition("-")
        for cp in range(int(first, 16), int(last or first, 16) + 1):
            table[cp] = " "
    for point in _unicode61.DIACRITICS.split():
        table[int(point, 16)] = ""
    for pair in _unicode61.FOLDS.split():
        source, _, target = pair.partition(":")
        table[int(source, 16)] = chr(int(target, 16))
    return table


_TABLE = _table()
_CYRILLIC = re.compile("[\u0400-\u052f]")
_LATIN = re.compile("[a-z]")
_YO = str.maketrans("ё", "е")
_YO_TEXT = str.maketrans("ёЁ", "еЕ")
# The most spellings a phrase or prefix is looked up in: 2 ** (its е and ё), within
# this; beyond it, as typed and with every ё read as е.
MAX_SPELLINGS = 64

_SLICE = 65_536
# Stems of words seen lately: a statement repeats its words and the next statement
# mostly repeats the last one's, so most words are stemmed once.
_CACHE_LIMIT = 100_000
_cache: dict[str, str] = {}
# PyStemmer's stemmers must not be shared between threads.
_local = threading.local()


def words(text: str) -> list[str]:
    """The tokens FTS5 indexes for `text`, in order: lower case, accents removed."""
    if len(text) <= _SLICE:
        return text.translate(_TABLE).split()
    # A text of megabytes goes a slice at a time, cut at spaces (a separator), so
    # no one call holds the interpreter long: run in a thread, it lets the event
    # loop in between.
    out: list[str] = []
    start = 0
    while start < len(text):
        end = text.find(" ", start + _SLICE)
        end = len(text) if end < 0 else end
        out += text[start:end].translate(_TABLE).split()
        start = end
    return out


def _stemmer(language: str) -> Stemmer.Stemmer:
    found = getattr(_local, language, None)
    if found is None:
        found = Stemmer.Stemmer(language)
        setattr(_local, language, found)
    return found


def _stem_uncached(word: str) -> str:
    if _CYRILLIC.search(word):
        result = str(_stemmer("russian").stemWord(word.translate(_YO)))
    elif _LATIN.search(word):
        result = str(_stemmer("english").stemWord(word))
        if word.endswith("ly") and result == word[:-2]:
            # An adverb made with -ly means something else than its stem: generally
            # is not general, nearly not near, likely not like. It keeps its own.
            return word
    else:
        return word
    # A stem is indexed through FTS5 again, so it must be one folded token; the
    # Snowball stemmers only shorten and respell letters, but a word must never
    # vanish from the index if one day they do otherwise.
    if result.translate(_TABLE) != result or len(result.split()) != 1:
        return word
    return result


def stem(word: str) -> str:
    """The stem of one token (as `words` returns it)."""
    found = _cache.get(word)
    if found is None:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        found = _cache[word] = _stem_uncached(word)
    return found


def stems(tokens: Iterable[str]) -> list[str]:
    """The stem of each token, in order."""
    get = _cache.get
    out: list[str] = []
    for token in tokens:
        found = get(token)
        out.append(stem(token) if found is None else found)
    return out


def fold_yo(text: str) -> str:
    """`text` with every ё (either case) read as е."""
    return text.translate(_YO_TEXT)


def _token_spellings(token: str) -> list[str]:
    folded = fold_yo(token)
    places = [i for i, ch in enumerate(folded) if ch == "е"]
    if not places:
        return [token]
    if 2 ** len(places) > MAX_SPELLINGS:
        return list(dict.fromkeys([token, folded]))
    out = []
    for mask in range(2 ** len(places)):
        letters = list(folded)
        for bit, at in enumerate(places):
            if mask >> bit & 1:
                letters[at] = "ё"
        out.append("".join(letters))
    return out


def spellings(tokens: Sequence[str]) -> list[tuple[str, ...]]:
    """Every way the token sequence may be written with е or ё where it has either,
    as typed first: ("еще", "раз") -> ("еще", "раз"), ("ещё", "раз"), ("ёще", "раз"),
    ("ёщё", "раз"). At most MAX_SPELLINGS; a longer list is cut to the tokens as
    typed and with every ё read as е."""
    typed = tuple(tokens)
    options = [_token_spellings(t) for t in typed]
    count = 1
    for choice in options:
        count *= len(choice)
    if count > MAX_SPELLINGS:
        return list(dict.fromkeys([typed, tuple(fold_yo(t) for t in typed)]))
    out = [typed, *itertools.product(*options)]
    return list(dict.fromkeys(out))


def stem_text(text: str) -> str:
    """The shadow text the stem index holds for `text`: its stems, space-separated,
    one for each token and in the same order, so phrases of stems keep their places."""
    return " ".join(stems(words(text)))

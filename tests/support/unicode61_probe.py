"""Reads how SQLite's FTS5 tokenizer `unicode61 remove_diacritics 2` treats every
code point, by asking SQLite itself, and writes storage/_unicode61.py from it.

`python -m tests.support.unicode61_probe > storage/_unicode61.py` regenerates the table;
tests/test_words.py checks that the table in storage/ still says what the SQLite
this runs on does.

Each code point c is indexed as the text "qcq cq" and the tokens FTS5 made of it
are read back through fts5vocab: a separator gives "q", "q", "q"; a token
character gives "q" + fold(c) + "q" and fold(c) + "q"; a diacritic, which may
continue a token but never starts one, gives "q" + fold(c) + "q" and "q".
"""

from __future__ import annotations

import sqlite3
import sys
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Probe:
    separators: frozenset[int]
    diacritics: frozenset[int]  # never start a token; folded away inside one
    folds: dict[int, str]  # code point -> what FTS5 indexes instead (when not itself)


def _code_points() -> list[int]:
    # NUL cannot sit in the probe's text; surrogates cannot be UTF-8.
    return [cp for cp in range(1, 0x110000) if not 0xD800 <= cp < 0xE000]


def probe() -> Probe:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(
            "CREATE VIRTUAL TABLE p USING fts5 (x, tokenize = 'unicode61 remove_diacritics 2')"
        )
        conn.execute("CREATE VIRTUAL TABLE pv USING fts5vocab (p, 'instance')")
        conn.executemany(
            "INSERT INTO p (rowid, x) VALUES (?, ?)",
            ((cp, f"q{chr(cp)}q {chr(cp)}q") for cp in _code_points()),
        )
        tokens: dict[int, list[str]] = {}
        for doc, term in conn.execute("SELECT doc, term FROM pv ORDER BY doc, offset"):
            tokens.setdefault(int(doc), []).append(str(term))
    finally:
        conn.close()
    separators: set[int] = set()
    diacritics: set[int] = set()
    folds: dict[int, str] = {}
    for cp in _code_points():
        found = tokens[cp]
        if found == ["q", "q", "q"]:
            separators.add(cp)
            continue
        if len(found) != 2 or not (found[0].startswith("q") and found[0].endswith("q")):
            raise AssertionError(f"U+{cp:04X} gave {found}")
        fold = found[0][1:-1]
        if found[1] == "q" and fold:
            # Would start no token yet be kept inside one: not seen in any SQLite so
            # far, and storage/words.py has no way to say it.
            raise AssertionError(f"U+{cp:04X} gave {found}")
        if found[1] == "q":
            diacritics.add(cp)
        elif found[1] != fold + "q":
            raise AssertionError(f"U+{cp:04X} gave {found}")
        if fold != chr(cp):
            folds[cp] = fold
    return Probe(frozenset(separators), frozenset(diacritics), folds)


def _ranges(points: frozenset[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for cp in sorted(points):
        if out and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def render(found: Probe) -> str:
    seps = " ".join(f"{a:X}-{b:X}" if a != b else f"{a:X}" for a, b in _ranges(found.separators))
    dias = " ".join(f"{cp:X}" for cp in sorted(found.diacritics))
    folds = " ".join(
        f"{cp:X}:{ord(f):X}" for cp, f in sorted(found.folds.items()) if cp not in found.diacritics
    )
    lines = [
        '"""How SQLite\'s FTS5 tokenizer `unicode61 remove_diacritics 2` treats each',
        "code point, as read from SQLite itself by tests/support/unicode61_probe.py (generated:",
        "do not edit; tests/test_words.py checks it against the SQLite in use).",
        "",
        "SEPARATORS end a token (surrogates, which SQLite never sees, are added by",
        "storage/words.py); DIACRITICS are dropped wherever they stand; FOLDS maps",
        "a character to the one FTS5 indexes in its place (hex code points). Every",
        'other character is a token character indexed as it is."""',
        "",
        "# fmt: off",
        "SEPARATORS = (",
        *_wrapped(seps),
        ")",
        "DIACRITICS = (",
        *_wrapped(dias),
        ")",
        "FOLDS = (",
        *_wrapped(folds),
        ")",
        "# fmt: on",
        "",
    ]
    return "\n".join(lines)


def _wrapped(text: str, width: int = 90) -> list[str]:
    lines: list[str] = []
    words = text.split(" ")
    current = ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(f'    "{current} "')
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(f'    "{current}"')
    return lines


if __name__ == "__main__":
    sys.stdout.write(render(probe()))

"""Words as the index sees them: split and folded exactly as SQLite's FTS5 does
(checked against SQLite itself, code point by code point and on generated text),
and stemmed by script, English and Russian, with ё as е."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import _unicode61
from storage.words import MAX_SPELLINGS, fold_yo, spellings, stem, stem_text, stems, words
from tests.support.unicode61_probe import probe, render


def test_the_shipped_table_is_what_this_sqlite_does() -> None:
    # Regenerate with: python -m tests.support.unicode61_probe > storage/_unicode61.py
    table = render(probe())
    for name in ("SEPARATORS", "DIACRITICS", "FOLDS"):
        shipped = getattr(_unicode61, name)
        namespace: dict[str, str] = {}
        exec(table.split("# fmt: off", 1)[1].split("# fmt: on", 1)[0], namespace)
        assert namespace[name] == shipped, name


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE t USING fts5 (x, tokenize = 'unicode61 remove_diacritics 2')"
    )
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab (t, 'instance')")
    yield conn
    conn.close()


def fts_tokens(conn: sqlite3.Connection, text: str) -> list[str]:
    conn.execute("DELETE FROM t")
    conn.execute("INSERT INTO t (rowid, x) VALUES (1, ?)", [text])
    return [str(r[0]) for r in conn.execute("SELECT term FROM v ORDER BY offset")]


TRICKY = [
    "Sanctions, sanctioned; SANCTION!",
    "Санкции, санкций — санкциями «санкцию»",
    "Ёлка и елка, ЁЖ",
    "Café Zürich déjà-vu Genève Ångström Łódź",
    "don't O'Neil’s rock’n’roll",
    "covid-19 well-known 2021-12-03 3.14 1,000",
    "c++ C# .NET e-mail @user #tag",
    "q\u0301q \u0301x e\u0301",
    "vi\u200bsa \u202evisa\u202c \ufeffword",
    "ǅemal ﬁnance ① ½ ² ٣ 𝐀 ｱ Ａ",
    "بيان السفارة עברית 中文 日本語",
    "tab\there\nnew line\x00nul",
    "🎉 emoji 🙂 text",
    "İstanbul ß ø æ œ",
]


@pytest.mark.parametrize("text", TRICKY)
def test_words_are_the_tokens_fts5_makes(fts: sqlite3.Connection, text: str) -> None:
    assert words(text) == fts_tokens(fts, text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(blacklist_categories=["Cs"]), max_size=40))
def test_any_text_splits_as_fts5_splits_it(fts: sqlite3.Connection, text: str) -> None:
    assert words(text) == fts_tokens(fts, text)


def test_a_huge_text_is_split_the_same_way_in_slices() -> None:
    text = "Заявление МИД, sanctions! " * 20_000 + "end"
    assert words(text) == words("Заявление МИД, sanctions! ") * 20_000 + ["end"]


@pytest.mark.parametrize(
    ("forms", "language"),
    [
        (["sanctions", "sanction", "sanctioned", "sanctioning"], "en"),
        (["negotiations", "negotiated", "negotiating"], "en"),
        (["санкции", "санкций", "санкциями", "санкцию", "санкция"], "ru"),
        (["заявление", "заявления", "заявлением", "заявлений"], "ru"),
        (["ёлка", "елка", "ёлку", "елкой"], "ru"),
    ],
)
def test_the_forms_of_a_word_share_a_stem(forms: list[str], language: str) -> None:
    assert len({stem(w) for w in forms}) == 1, {w: stem(w) for w in forms}


def test_each_word_is_stemmed_by_its_script() -> None:
    # A Russian statement quoting English names, and the other way round.
    assert stems(["sanctions", "санкции", "2021", "中文", "ǆemal"]) == [
        "sanction",
        "санкц",
        "2021",
        "中文",
        "ǆemal",
    ]
    assert stem("ещё") == stem("еще")


def test_the_stem_text_has_one_stem_per_token_in_order(fts: sqlite3.Connection) -> None:
    for text in TRICKY:
        shadow = stem_text(text)
        assert len(shadow.split(" ")) == len(words(text)) or shadow == ""
        # FTS5 reads the shadow text back as exactly these stems.
        assert fts_tokens(fts, shadow) == stems(words(text))


def test_spellings_with_ye_and_yo() -> None:
    assert spellings(("еще", "раз")) == [
        ("еще", "раз"),
        ("ёще", "раз"),
        ("ещё", "раз"),
        ("ёщё", "раз"),
    ]
    # As typed first, whichever way it was typed; nothing to vary: itself alone.
    assert spellings(("ёлка",))[0] == ("ёлка",) and ("елка",) in spellings(("ёлка",))
    assert spellings(("visa", "rules")) == [("visa", "rules")]
    assert fold_yo("Ёлка ещё") == "Елка еще"
    # A phrase with too many е to spell every way: as typed and with ё as е.
    long = ("переселенческое", "переселение", "ещё")
    assert spellings(long) == [long, ("переселенческое", "переселение", "еще")]
    assert len(spellings(("переселён",))) == 16 <= MAX_SPELLINGS

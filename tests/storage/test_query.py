"""The query language: what parses to what, what is refused and why, limits, and
hostile input that stays literal text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.errors import InvalidSearchQueryError
from storage.query import (
    MAX_QUERY_CHARS,
    MAX_SAVED_QUERY_CHARS,
    MAX_TERMS,
    Query,
    TermKind,
    parse_query,
    parse_saved_query,
)
from storage.search import build_match_query, plan_match

W, P, X = TermKind.WORD, TermKind.PHRASE, TermKind.PREFIX


def shape(query: Query) -> list[tuple[str, TermKind, tuple[str, ...]]]:
    return [("-" if t.excluded else "+", t.kind, t.tokens) for t in query.terms]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("visa", [("+", W, ("visa",))]),
        ("Visa RULES", [("+", W, ("visa",)), ("+", W, ("rules",))]),
        ('"visa rules"', [("+", P, ("visa", "rules"))]),
        ("sanct*", [("+", X, ("sanct",))]),
        ("sanct***", [("+", X, ("sanct",))]),
        ("-consular visa", [("+", W, ("visa",)), ("-", W, ("consular",))]),
        ('visa -"new rules"', [("+", W, ("visa",)), ("-", P, ("new", "rules"))]),
        ("visa -sanct*", [("+", W, ("visa",)), ("-", X, ("sanct",))]),
        ("covid-19", [("+", W, ("covid", "19"))]),
        ("don't", [("+", W, ("don", "t"))]),
        ("c++", [("+", W, ("c",))]),
        ("CAFÉ", [("+", W, ("cafe",))]),
        ("Санкции", [("+", W, ("санкции",))]),
        ("ёлка", [("+", W, ("ёлка",))]),
        # Operators, column filters and brackets are words or nothing, never syntax.
        ("NOT", [("+", W, ("not",))]),
        ("visa OR sanctions", [("+", W, ("visa",)), ("+", W, ("or",)), ("+", W, ("sanctions",))]),
        ("NEAR(a b)", [("+", W, ("near", "a")), ("+", W, ("b",))]),
        ("title:x", [("+", W, ("title", "x"))]),
        (
            "{title summary}: visa",
            [("+", W, ("title",)), ("+", W, ("summary",)), ("+", W, ("visa",))],
        ),
        ("^visa", [("+", W, ("visa",))]),
        ('say "hi', [("+", W, ("say",)), ("+", W, ("hi",))]),
        ('a"b', [("+", W, ("a",)), ("+", W, ("b",))]),
        (
            "'; DROP TABLE items; --",
            [("+", W, ("drop",)), ("+", W, ("table",)), ("+", W, ("items",))],
        ),
        ("vi\u200bsa", [("+", W, ("vi",)), ("+", W, ("sa",))]),
        ("\u202evisa\u202c", [("+", W, ("visa",))]),
        ("visa 🎉", [("+", W, ("visa",))]),
        ("*visa", [("+", W, ("visa",))]),
        ("--visa", [("-", W, ("visa",))]),
    ],
)
def test_what_a_query_means(
    text: str, expected: list[tuple[str, TermKind, tuple[str, ...]]]
) -> None:
    assert shape(parse_saved_query(text)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "nothing to search"),
        ("   ", "nothing to search"),
        ("-", "nothing to search"),
        ("*", "nothing to search"),
        ('""', "nothing to search"),
        ("🎉 ()", "nothing to search"),
        ("\u200b\u200c\u200d\ufeff", "nothing to search"),
        ("s*", "two letters"),
        ("é*", "two letters"),
        ("c+*", "two letters"),
        ("visa -x*", "two letters"),
        ("a" * (MAX_SAVED_QUERY_CHARS + 1), f"at most {MAX_SAVED_QUERY_CHARS}"),
        (" ".join(["w"] * (MAX_TERMS + 1)), f"at most {MAX_TERMS}"),
        (" ".join(["-w"] * (MAX_TERMS + 1)), f"at most {MAX_TERMS}"),
    ],
)
def test_what_a_saved_query_refuses_and_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidSearchQueryError, match=reason) as caught:
        parse_saved_query(text)
    message = str(caught.value)
    assert 10 < len(message) < 200 and message.isprintable()


def test_exclusions_alone_are_a_filter_but_not_a_search() -> None:
    query = parse_saved_query('-consular -"visa rules"')
    assert query.include == () and len(query.exclude) == 2
    with pytest.raises(InvalidSearchQueryError, match="word to look for"):
        parse_query("-consular")


def test_search_keeps_its_own_limits() -> None:
    # What /search accepted before still parses; saved queries are shorter.
    long = " ".join(["visa"] * 16) + " " + "x" * (MAX_QUERY_CHARS - 16 * 5)
    assert len(long) == MAX_QUERY_CHARS
    assert len(parse_query(long).include) == 17
    with pytest.raises(InvalidSearchQueryError, match=f"at most {MAX_SAVED_QUERY_CHARS}"):
        parse_saved_query(long)
    with pytest.raises(InvalidSearchQueryError, match=f"at most {MAX_QUERY_CHARS}"):
        parse_query(long + "x")


def test_a_query_reads_back_in_its_own_syntax() -> None:
    assert str(parse_saved_query('  Visa   "new  rules" -sanct** -консульский ')) == (
        'Visa "new rules" -sanct* -консульский'
    )


def test_every_term_reaches_fts5_as_a_quoted_string_of_its_tokens() -> None:
    plan = plan_match(parse_query('sanctions "Visa rules" sanct* -consular -"new rules" -vis*'))
    assert plan.table == "items_fts_stems"
    assert plan.match == '("sanction") NOT "consular"'
    assert plan.filters == (
        ("IN", "items_fts", '("visa rules" AND "sanct"*) NOT "new rules" NOT "vis"*'),
    )
    # A phrase or prefix with е or ё: each way it may be spelt.
    spelt = plan_match(parse_query('"Еще раз" -ёлк*'))
    assert spelt.match == (
        '(("еще раз" OR "ёще раз" OR "ещё раз" OR "ёщё раз")) NOT ("ёлк"* OR "елк"*)'
    )
    only_forms = plan_match(parse_query('"visa rules" -consular'))
    assert (only_forms.table, only_forms.match) == ("items_fts", '("visa rules")')
    assert only_forms.filters == (("NOT IN", "items_fts_stems", '"consular"'),)
    everything_but = plan_match(parse_saved_query("-consular -vis*"))
    assert everything_but.table is None
    assert everything_but.filters == (
        ("NOT IN", "items_fts_stems", '"consular"'),
        ("NOT IN", "items_fts", '"vis"*'),
    )
    # Words as written, for the exact-form baseline.
    assert build_match_query("visa -consular") == '"visa" NOT "consular"'


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=250))
def test_any_text_parses_or_gets_a_readable_refusal(text: str) -> None:
    try:
        query = parse_saved_query(text)
    except InvalidSearchQueryError as exc:
        assert 10 < len(str(exc)) < 200
    else:
        assert 0 < len(query.terms) <= MAX_TERMS
        for term in query.terms:
            assert term.tokens and all(term.tokens)
            assert all('"' not in t and " " not in t for t in (*term.tokens, *term.stems))


def test_the_canonical_form_finds_the_same_search_typed_otherwise() -> None:
    same = [
        "sanctions -consular",
        "SANCTION   -Consular",
        "-consular sanctioned",
        "sanctions sanctions -consular",
    ]
    assert len({parse_saved_query(q).canonical for q in same}) == 1
    different = ["sanctions", '"sanctions" -consular', "sanct* -consular", "sanctions -visa"]
    forms = {parse_saved_query(q).canonical for q in different}
    assert len(forms) == len(different)
    assert parse_saved_query("sanctions -consular").canonical not in forms

"""The saved-query matcher means what /search means: for many queries (hand-written
and generated, English and Russian, accents, apostrophes, hyphens, digits) the
statements FTS5 finds in a database are exactly those the matcher accepts; and
the index answers the same as evaluating every query, as queries come and go."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.errors import InvalidSearchQueryError
from storage.matching import Document, QueryIndex, matches
from storage.models import NewItem
from storage.query import Query, parse_saved_query
from storage.schema import MIGRATIONS
from storage.search import plan_match
from storage.store import Store
from storage.words import stem_text

NOW = datetime(2021, 12, 3, 4, 30, tzinfo=UTC)
RELEVANCE = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "relevance"

EXTRA = [
    ("Café talks in Zürich", "Déjà vu at the CAFE", "Genève and Geneve alike."),
    ("Don't panic: O'Neil's statement", "rock’n’roll isn't a crime", "It's 2021-12-03."),
    ("COVID-19 measures", "Covid 19 rules, well-known", "The 19th covid-19 wave; c++ and C#."),
    ("Ёлка и ещё одна елка", "Ещё раз о ёлках", "елки, ёлки, ЁЛКИ"),
    ("Sanctions sanctioned", "sanction SANCTIONING", "Санкции санкций санкциями санкцию."),
    ("vi\u200bsa ru\u200cles", "\u202evisa rules\u202c", "visa\ufeffrules q\u0301q"),
    ("The rule of law", "Visa rules changed", "New visa rules apply. Rules are rules."),
    ("News in brief", "", ""),
]


def corpus() -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = list(EXTRA)
    for language in ("en", "ru"):
        data = json.loads((RELEVANCE / f"{language}.json").read_text("utf-8"))
        found += [(s["title"], s["summary"], s["content"]) for s in data["statements"]]
    return found


STATEMENTS = corpus()
VOCABULARY = sorted(
    {w.strip(".,:;!?«»—()'\"") for t in STATEMENTS for f in t for w in f.split()} - {""}
)


@pytest.fixture(scope="module")
def corpus_store(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[asyncio.AbstractEventLoop, Store]]:
    loop = asyncio.new_event_loop()
    store = loop.run_until_complete(
        Store.open(tmp_path_factory.mktemp("match") / "match.sqlite3", clock=lambda: NOW)
    )

    async def fill() -> None:
        feed = await store.add_feed("https://mfa.example/rss")
        await store.record_poll(
            feed.id,
            [NewItem(f"s{n}", None, None, *s, NOW) for n, s in enumerate(STATEMENTS)],
            feed_title="Ministry",
            etag=None,
            last_modified=None,
            content_hash=None,
            next_poll_at=NOW,
            push=False,
        )

    loop.run_until_complete(fill())
    try:
        yield loop, store
    finally:
        loop.run_until_complete(store.close())
        loop.close()


def by_fts(loop: asyncio.AbstractEventLoop, store: Store, query: Query) -> set[int]:
    sql, params = plan_match(query).select_ids()
    rows = loop.run_until_complete(store._fetchall(sql, params))
    # Items are stored in the corpus's order, ids from 1.
    return {int(r[0]) - 1 for r in rows}


DOCUMENTS = [Document(*s) for s in STATEMENTS]


def by_matcher(query: Query) -> set[int]:
    return {n for n, doc in enumerate(DOCUMENTS) if matches(query, doc)}


HAND_WRITTEN = [
    "sanctions",
    "Sanctioned",
    "санкции",
    "санкциями -санкцию",
    "елка",
    "ёлки",
    '"ещё раз"',
    '"еще раз"',
    '"ёлка и еще"',
    "ёлк*",
    "елк* -ёлках",
    "ещё",
    "cafe",
    '"cafe talks"',
    "geneve -zurich",
    "don't",
    '"o neil"',
    "isn't",
    "covid-19",
    '"covid 19"',
    "19th",
    "c++",
    "c#",
    "2021-12-03",
    "visa rules",
    '"visa rules"',
    '"rules visa"',
    '"rule of law"',
    "rule -visa",
    "vis* -consular",
    "санкц*",
    '-"visa rules"',
    "-sanctions",
    "-санкции -visa",
    '"new visa" -"rules are"',
    "negotiat*",
    '"covid 1"*',
    "ru\u200bles",
    "q\u0301q",
    "brief",
    "the",
]


@pytest.mark.parametrize("text", HAND_WRITTEN)
def test_hand_written_queries_match_as_fts5_finds(
    corpus_store: tuple[asyncio.AbstractEventLoop, Store], text: str
) -> None:
    loop, store = corpus_store
    query = parse_saved_query(text)
    assert by_matcher(query) == by_fts(loop, store, query)


def _word(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(VOCABULARY))
    change = draw(st.sampled_from(["", "upper", "cut", "s"]))
    if change == "upper":
        return word.upper()
    if change == "cut" and len(word) > 3:
        return word[: draw(st.integers(2, len(word) - 1))]
    if change == "s":
        return word + "s"
    return word


@st.composite
def queries(draw: st.DrawFn) -> str:
    terms: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["word", "word", "phrase", "prefix", "odd"]))
        if kind == "word":
            term = _word(draw)
        elif kind == "phrase":
            term = '"' + " ".join(_word(draw) for _ in range(draw(st.integers(1, 3)))) + '"'
        elif kind == "prefix":
            term = _word(draw)[: draw(st.integers(2, 6))] + "*"
        else:
            term = draw(st.sampled_from(["c++", "don't", "covid-19", "ёлки", "É", "19", "'s"]))
        if draw(st.integers(0, 3)) == 0:
            term = "-" + term
        terms.append(term)
    return " ".join(terms)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=queries())
def test_generated_queries_match_as_fts5_finds(
    corpus_store: tuple[asyncio.AbstractEventLoop, Store], text: str
) -> None:
    loop, store = corpus_store
    try:
        query = parse_saved_query(text)
    except InvalidSearchQueryError:
        return
    assert by_matcher(query) == by_fts(loop, store, query)


# Statements generated too: text from pieces that split, fold and stem in unusual
# ways, in a database with the latest schema, stemmed as record_poll stems.
PIECES = [
    *["Sanctions", "sanctioned", "SANCTION", "rule", "rules", "visa", "Visa", "the"],
    *["санкции", "санкций", "Ёлка", "елки", "ещё", "еще", "заявление", "МИД"],
    *["café", "CAFE", "Zürich", "zurich", "ǅ", "ﬁ", "İ", "ß"],
    *["don't", "’", "'", "-", "c++", "covid-19", "19", "2021", "½", "①"],
    *[" ", " ", " ", ", ", ". ", "\n", "\u200b", "\u0301", "🎉", "«", "»", '"', "*"],
]
TEXT = st.lists(st.sampled_from(PIECES), max_size=25).map("".join)


@st.composite
def generated_queries(draw: st.DrawFn) -> str:
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        body = draw(st.lists(st.sampled_from(PIECES[:32]), min_size=1, max_size=2).map(" ".join))
        form = draw(st.sampled_from(["{}", '"{}"', "{}*", "-{}", '-"{}"']))
        terms.append(form.format(body))
    return " ".join(terms)


@pytest.fixture(scope="module")
def schema_db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    for script in MIGRATIONS:
        conn.executescript(script)
    conn.execute("INSERT INTO feeds (id, url, created_at) VALUES (1, 'https://x.example', 0)")
    yield conn
    conn.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    statements=st.lists(st.tuples(TEXT, TEXT, TEXT), min_size=1, max_size=6),
    text=generated_queries(),
)
def test_generated_statements_match_as_fts5_finds(
    schema_db: sqlite3.Connection, statements: list[tuple[str, str, str]], text: str
) -> None:
    try:
        query = parse_saved_query(text)
    except InvalidSearchQueryError:
        return
    conn = schema_db
    conn.execute("DELETE FROM items")
    conn.executemany(
        "INSERT INTO items (id, feed_id, identity, title, summary, content, published_at,"
        " first_seen_at, updated_at, title_stems, summary_stems, content_stems)"
        " VALUES (?, 1, ?, ?, ?, ?, 0, 0, 0, ?, ?, ?)",
        [
            (n, f"i{n}", *s, *(stem_text(part) for part in s))
            for n, s in enumerate(statements, start=1)
        ],
    )
    sql, params = plan_match(query).select_ids()
    found = {int(r[0]) for r in conn.execute(sql, params)}
    expected = {n for n, s in enumerate(statements, start=1) if matches(query, Document(*s))}
    assert found == expected


# ------------------------------------------------------------------------ the index


def test_the_index_answers_as_evaluating_every_query() -> None:
    texts = [*HAND_WRITTEN, "visa", "rules", '"visa rules" -new', "санкц* -елка", "-the"]
    saved = [(key, parse_saved_query(t)) for key, t in enumerate(texts)]
    index = QueryIndex(saved)
    assert len(index) == len(texts)
    for n, statement in enumerate(STATEMENTS):
        doc = DOCUMENTS[n]
        every = sorted(key for key, query in saved if matches(query, doc))
        assert index.match(*statement) == every


def test_queries_come_and_go_without_a_rebuild() -> None:
    index = QueryIndex()
    index.add(1, parse_saved_query("sanctions"))
    index.add(2, parse_saved_query("-sanctions"))
    index.add(3, parse_saved_query("sanct*"))
    statement = ("New sanctions", "", "")
    assert index.match(*statement) == [1, 3]
    assert index.match("Visa rules") == [2]
    index.remove(1)
    index.remove(1)  # twice is harmless
    assert 1 not in index and index.match(*statement) == [3]
    index.add(3, parse_saved_query("visa"))  # a key's query replaced
    assert index.match(*statement) == []
    assert index.match("Visa rules") == [2, 3]
    index.remove(2)
    index.remove(3)
    assert len(index) == 0 and index.match(*statement) == []


def test_a_statement_is_matched_by_its_word_forms_in_either_language() -> None:
    index = QueryIndex(
        [
            (10, parse_saved_query("санкции")),
            (11, parse_saved_query("sanctions -visa")),
            (12, parse_saved_query('"visa rules"')),
            (13, parse_saved_query("елка")),
        ]
    )
    assert index.match("О санкциях", "Под санкциями три банка") == [10]
    assert index.match("Sanctioned banks", "", "New visa rules") == [12]
    assert index.match("Sanctioned banks") == [11]
    assert index.match("Новогодняя ёлка") == [13]

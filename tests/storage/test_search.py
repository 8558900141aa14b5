"""Full-text search through the store: ranking with the title first, highlighted
snippets, words, "phrases" and prefix*, accents folded, pages that neither repeat
nor skip, and no input that fails with anything but a readable domain error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.api import StoreAPI as Store
from storage.api import open_store as open_any
from storage.errors import InvalidSearchQueryError
from storage.models import NewItem
from storage.search import MAX_QUERY_CHARS, build_match_query
from tests.support.stores import Opener
from text.statements import MARK_END, MARK_START

NOW = datetime(2021, 12, 3, 4, 30, tzinfo=UTC)

STATEMENTS = [
    # key, title, summary, content
    ("title", "Sanctions against the regime", "A statement.", "The ministry said so."),
    ("body", "Comment of the spokesperson", "On sanctions.", "Sanctions are unlawful."),
    ("phrase", "Visa rules changed", "Consular news.", "New visa rules apply today."),
    ("reversed", "Rules for a visa", "Consular news.", "A visa under new rules."),
    ("accent", "Statement on the Café Pushkin", "Zürich talks.", "Déjà vu in Genève."),
    ("cpp", "C++ and NOT operators", "Words like not and near.", "Title: x (brackets)."),
    ("rtl", "بيان السفارة", "עברית", "Emoji 🎉 statement"),
]


def entry(key: str, title: str, summary: str, content: str, n: int) -> NewItem:
    return NewItem(
        identity=key,
        guid=None,
        link=f"https://mfa.example/{key}",
        title=title,
        summary=summary,
        content=content,
        published_at=NOW - timedelta(hours=n),
    )


async def fill(store: Store, entries: list[NewItem]) -> None:
    feed = await store.add_feed(f"https://mfa.example/rss/{len(entries)}")
    await store.record_poll(
        feed.id,
        entries,
        feed_title="Ministry",
        etag=None,
        last_modified=None,
        content_hash=None,
        next_poll_at=NOW,
        push=False,
    )


@pytest.fixture
async def store(open_store: Opener) -> AsyncIterator[Store]:
    opened = await open_store("search", clock=lambda: NOW)
    await fill(opened, [entry(*s, n) for n, s in enumerate(STATEMENTS)])
    yield opened


async def keys(store: Store, query: str, **kw: int) -> list[str]:
    return [hit.item.identity for hit in await store.search(query, **kw)]


async def test_a_word_in_the_title_ranks_above_the_same_word_in_the_text(store: Store) -> None:
    # "body" says sanctions twice, "title" once, but in its title.
    assert await keys(store, "sanctions") == ["title", "body"]


async def test_snippets_mark_the_matched_words(store: Store) -> None:
    hits = await store.search("unlawful", marks=(MARK_START, MARK_END))
    assert len(hits) == 1
    assert f"{MARK_START}unlawful{MARK_END}" in hits[0].snippet
    assert hits[0].item.feed_title == "Ministry"
    hits = await store.search("visa rules", marks=(MARK_START, MARK_END))
    assert all(MARK_START in h.snippet and MARK_END in h.snippet for h in hits)


async def test_words_phrases_and_prefixes(store: Store) -> None:
    assert sorted(await keys(store, "visa rules")) == ["phrase", "reversed"]
    assert await keys(store, '"visa rules"') == ["phrase"]
    assert await keys(store, '"rules changed" consular') == ["phrase"]
    assert await keys(store, "sanct*") == ["title", "body"]
    assert await keys(store, "spokes*") == ["body"]
    # All words must match.
    assert await keys(store, "visa sanctions") == []
    # Case does not matter.
    assert await keys(store, "UNLAWFUL") == ["body"]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("cafe", "accent"),
        ("CAFÉ", "accent"),
        ("zurich", "accent"),
        ("deja", "accent"),
        ("geneve", "accent"),
        ("السفارة", "rtl"),
        ("עברית", "rtl"),
    ],
)
async def test_accents_fold_and_any_script_is_found(store: Store, query: str, found: str) -> None:
    assert await keys(store, query) == [found]


async def test_operators_and_syntax_are_taken_as_words(store: Store) -> None:
    # Each is searched for literally, not obeyed.
    assert await keys(store, "NOT") == ["cpp"]
    assert await keys(store, "near") == ["cpp"]
    assert await keys(store, "c++") == ["cpp"]
    assert await keys(store, "title:x") == ["cpp"]
    assert await keys(store, "(brackets)") == ["cpp"]
    assert await keys(store, "visa OR sanctions") == []
    assert await keys(store, "sanctions NOT regime") == []


HOSTILE = [
    "c++",
    "NOT",
    "AND",
    "OR",
    '"',
    '"""',
    '"visa',
    "visa\"'",
    "(",
    ")",
    "()",
    "*",
    "**",
    "visa**",
    "*visa",
    "-",
    "-visa",
    ":",
    "title:",
    ":visa",
    "NEAR(a b)",
    "NEAR(visa rules, 2)",
    "title:x",
    "{title summary}: visa",
    "^",
    "^visa",
    "+",
    "a" * 10_000,
    "visa " * 2_000,
    "بيان السفارة",
    "\u202evisa\u202c",
    "vi\u200bsa",
    "\u200b\u200c\u200d\ufeff",
    "🎉",
    "🎉 statement",
    "'; DROP TABLE items; --",
    "1 OR 1=1",
    "visa' UNION SELECT * FROM chats --",
    "\x00",
    "\x02visa\x03",
    "",
    "   ",
    "\n\t",
    "ﷺ",
    "e\u0301",
    "\u0301",
]


@pytest.mark.parametrize("query", HOSTILE, ids=[repr(q)[:30] for q in HOSTILE])
async def test_hostile_input_finds_things_or_gets_a_readable_refusal(
    store: Store, query: str
) -> None:
    try:
        hits = await store.search(query)
    except InvalidSearchQueryError as exc:
        message = str(exc)
        assert 10 < len(message) < 200
        assert message.isprintable()
    else:
        assert isinstance(hits, list)
    # Nothing was changed by it.
    assert await store.count_items() == len(STATEMENTS)


async def test_a_huge_query_is_refused_with_the_limit_named(store: Store) -> None:
    with pytest.raises(InvalidSearchQueryError, match=f"at most {MAX_QUERY_CHARS}"):
        await store.search("a" * 10_000)


async def test_a_query_with_nothing_to_search_says_what_to_type(store: Store) -> None:
    for query in ["", "*", '""', "🎉", "-", "\u200b"]:
        with pytest.raises(InvalidSearchQueryError, match="quoted phrase"):
            await store.search(query)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_store(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[asyncio.AbstractEventLoop, Store]]:
    loop = asyncio.new_event_loop()
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_server").new_database()
    store = loop.run_until_complete(open_any(path=path, url=url, clock=lambda: NOW))
    loop.run_until_complete(fill(store, [entry(*s, n) for n, s in enumerate(STATEMENTS)]))
    try:
        yield loop, store
    finally:
        loop.run_until_complete(store.close())
        loop.close()


_queries = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.sampled_from(
            [
                '"',
                "(",
                ")",
                "*",
                "-",
                ":",
                "^",
                "+",
                "NOT",
                "OR",
                "AND",
                "NEAR",
                "visa",
                "rules",
                "sanct",
                "{",
                "}",
                ",",
                " ",
                "\u200b",
                "é",
                "🎉",
                "'",
                "\\",
                "\x00",
            ]
        ),
        max_size=20,
    ).map("".join),
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=_queries)
def test_no_query_raises_anything_but_a_domain_error(
    fuzz_store: tuple[asyncio.AbstractEventLoop, Store], query: str
) -> None:
    loop, store = fuzz_store
    try:
        loop.run_until_complete(store.search(query))
    except InvalidSearchQueryError:
        pass


async def test_pages_neither_repeat_nor_skip(open_store: Opener) -> None:
    store = await open_store("pages", clock=lambda: NOW)
    try:
        # Identical texts rank equally and many share a date: only the tie-break orders them.
        await fill(
            store,
            [
                entry(f"s{n}", "Weekly statement", "Same lead.", "Same text.", n // 4)
                for n in range(23)
            ],
        )
        everything = await keys(store, "statement", limit=100)
        assert len(everything) == 23 == len(set(everything))
        pages = [await keys(store, "statement", limit=5, offset=o) for o in range(0, 25, 5)]
        assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
        assert [k for page in pages for k in page] == everything
        assert await keys(store, "statement", limit=5, offset=100) == []
        # Newest first among equals.
        dates = [h.item.published_at for h in await store.search("statement", limit=100)]
        assert dates == sorted(dates, reverse=True)
    finally:
        await store.close()


def test_the_match_expression_quotes_every_term() -> None:
    assert build_match_query("visa") == '"visa"'
    assert build_match_query('"visa rules"  sanct*') == '"visa rules" "sanct"*'
    assert build_match_query('say "hi') == '"say" "hi"'
    assert build_match_query("NEAR(a b)") == '"NEAR(a" "b)"'
    assert build_match_query('a"b') == '"a" "b"'


async def test_a_very_common_word_is_ranked_among_the_most_recent_matches(
    open_store: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage._items as items_module

    monkeypatch.setattr(items_module, "SEARCH_WINDOW", 3)
    db = await open_store("window", clock=lambda: NOW)
    try:
        # Stored oldest first: "old" has the word in its title (the best match
        # overall), but it is not among the 3 most recent matches.
        older = [entry("old", "Embassy embassy embassy", "x", "x", 10)]
        newer = [
            entry(f"new{i}", f"Statement {i}", "The embassy said.", "x", 5 - i) for i in range(4)
        ]
        await fill(db, older)
        await fill(db, newer)
        found = [h.item.identity for h in await db.search("embassy", limit=10)]
        assert found and "old" not in found
        assert set(found) == {"new1", "new2", "new3"}
        # A rarer word is ranked over everything that has it.
        assert [h.item.identity for h in await db.search("Statement 0", limit=10)] == ["new0"]
    finally:
        await db.close()


@pytest.mark.parametrize("query", ["s*", "*", "x* y", "sanctions é*"])
def test_a_one_letter_prefix_is_refused_with_the_reason(query: str) -> None:
    try:
        build_match_query(query)
    except InvalidSearchQueryError as exc:
        assert "two letters" in str(exc) or "nothing to search" in str(exc)
    else:
        raise AssertionError(f"{query!r} was accepted")

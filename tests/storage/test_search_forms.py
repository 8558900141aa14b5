"""Search by word forms through the store: a word finds its other forms in English and
Russian, ё and е match (in phrases and prefixes too), "phrases" stay exact, snippets
mark the words as the statement writes them, -terms exclude, edited statements are
found by their new words only; and on the relevance set, stemming finds more of what
is relevant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.bench_search_languages import evaluate, store_set
from storage.api import StoreAPI as Store
from storage.errors import InvalidSearchQueryError
from storage.models import NewItem
from storage.words import stem
from tests.support.stores import Opener, is_postgres

NOW = datetime(2021, 12, 3, 4, 30, tzinfo=UTC)

STATEMENTS = [
    ("sanction", "New sanction announced", "A statement.", "Nothing else."),
    ("sanctioned", "Banks sanctioned", "Three banks.", "On Monday."),
    ("plural", "Комментарий", "О санкциях", "Введение санкций против банков."),
    ("instrumental", "Угрозы", "Угрожать санкциями бесполезно.", "Так было всегда."),
    ("accusative", "Продление", "Санкцию продлили.", "Ещё на полгода."),
    ("yo", "Ёлка в посольстве", "Для детей.", "Праздник."),
    ("ye", "Новогодняя елка", "Для соотечественников.", "28 декабря."),
    ("visa", "Visa rules changed", "Consular news.", "New visa rules apply."),
    ("rules", "Rules for a visa", "Consular news.", "A visa under new rule."),
]


async def fill(store: Store, statements: list[tuple[str, str, str, str]]) -> int:
    feed = await store.add_feed(f"https://mfa.example/rss/{len(statements)}")
    await store.record_poll(
        feed.id,
        [
            NewItem(key, None, None, title, summary, content, NOW - timedelta(hours=n))
            for n, (key, title, summary, content) in enumerate(statements)
        ],
        feed_title="Ministry",
        etag=None,
        last_modified=None,
        content_hash=None,
        next_poll_at=NOW,
        push=False,
    )
    return feed.id


@pytest.fixture
async def store(open_store: Opener) -> AsyncIterator[Store]:
    opened = await open_store("forms", clock=lambda: NOW)
    await fill(opened, STATEMENTS)
    yield opened


async def keys(store: Store, query: str) -> set[str]:
    return {hit.item.identity for hit in await store.search(query, limit=50)}


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("sanctions", {"sanction", "sanctioned"}),
        ("SANCTIONING", {"sanction", "sanctioned"}),
        ("санкции", {"plural", "instrumental", "accusative"}),
        ("санкциями", {"plural", "instrumental", "accusative"}),
        ("елка", {"yo", "ye"}),
        ("ёлка", {"yo", "ye"}),
        ("ЁЛКИ", {"yo", "ye"}),
        ("еще", {"accusative"}),
        ("rule", {"visa", "rules"}),
    ],
)
async def test_a_word_finds_its_other_forms(store: Store, query: str, found: set[str]) -> None:
    assert await keys(store, query) == found
    assert await store.search_count(query) == len(found)


async def test_phrases_and_prefixes_match_the_forms_as_written(store: Store) -> None:
    assert await keys(store, '"visa rules"') == {"visa"}
    assert await keys(store, '"visa rule"') == set()
    assert await keys(store, '"new rule"') == {"rules"}
    assert await keys(store, "санкц*") == {"plural", "instrumental", "accusative"}
    assert await keys(store, "sanctioned*") == {"sanctioned"}
    # A phrase and a word together: both must match.
    assert await keys(store, '"visa rules" rule') == {"visa"}


async def test_phrases_and_prefixes_read_yo_and_ye_alike(store: Store) -> None:
    # "Ещё на полгода." is found however the query spells it, and still exactly.
    assert await keys(store, '"еще на полгода"') == {"accusative"}
    assert await keys(store, '"ЕЩЁ на полгода"') == {"accusative"}
    assert await keys(store, '"еще на полгод"') == set()
    assert await keys(store, "елк*") == {"yo", "ye"}
    assert await keys(store, "ёлк*") == {"yo", "ye"}
    assert await keys(store, '"новогодняя ёлка"') == {"ye"}
    assert await keys(store, 'санкции -"еще на полгода"') == {"plural", "instrumental"}
    (hit,) = await store.search('"еще на"', marks=("[", "]"))
    assert "[Ещё на]" in hit.snippet


async def test_exclusions_leave_statements_out(store: Store) -> None:
    assert await keys(store, "rule -changed") == {"rules"}
    assert await keys(store, 'rules -"new visa rules"') == {"rules"}
    assert await keys(store, "visa -consul*") == set()
    assert await keys(store, "санкции -продлили") == {"plural", "instrumental"}
    assert await keys(store, '"visa rules" -changed') == set()
    assert await store.search_count("санкции -санкцию") == 0
    with pytest.raises(InvalidSearchQueryError, match="word to look for"):
        await store.search("-visa")


async def test_snippets_mark_the_words_as_the_statement_writes_them(store: Store) -> None:
    marks = ("[", "]")
    (hit,) = await store.search("sanctions banks", marks=marks)
    assert hit.item.identity == "sanctioned"
    assert "[sanctioned]" in hit.snippet.lower()
    (hit,) = await store.search("санкция продлили", marks=marks)
    assert "[Санкцию] [продлили]" in hit.snippet
    hits = await store.search("елка", marks=marks)
    assert {h.snippet for h in hits} == {"[Ёлка] в посольстве", "Новогодняя [елка]"}
    (hit,) = await store.search('"visa rules"', marks=marks)
    assert "[Visa rules]" in hit.snippet


async def test_an_edited_statement_is_found_by_its_new_words_only(open_store: Opener) -> None:
    store = await open_store("edit", clock=lambda: NOW)
    try:
        original = [("edited", "Sanctions lifted", "Banks.", "Text.")]
        feed_id = await fill(store, original)
        assert await keys(store, "lifting") == {"edited"}
        edited = NewItem("edited", None, None, "Negotiations resumed", "Banks.", "Text.", NOW)
        await store.record_poll(
            feed_id,
            [edited],
            feed_title=None,
            etag=None,
            last_modified=None,
            content_hash=None,
            next_poll_at=NOW,
            push=False,
        )
        assert await keys(store, "lifting") == set()
        assert await keys(store, "negotiated") == {"edited"}
        assert await keys(store, "banks") == {"edited"}
        assert await store.integrity_check() == "ok"
        if not is_postgres(store):
            for table in ("items_fts", "items_fts_stems"):
                await store._conn.execute(  # type: ignore[attr-defined]
                    f"INSERT INTO {table} ({table}) VALUES ('integrity-check')"
                )
    finally:
        await store.close()


# Stemming is the same on both backends (tests/storage/test_search_backends.py):
# measured once, on SQLite, whose FTS5 gives the words-as-written baseline.
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_stemming_finds_more_of_what_is_relevant(open_store: Opener, language: str) -> None:
    store = await open_store(language, clock=lambda: NOW)
    try:
        await store_set(store, language)
        stemmed, exact = await evaluate(store, language)
    finally:
        await store.close()
    assert stemmed.recall > exact.recall


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("language", ["en", "ru"])
async def test_stemming_keeps_precision(open_store: Opener, language: str) -> None:
    store = await open_store(language, clock=lambda: NOW)
    try:
        await store_set(store, language)
        stemmed, exact = await evaluate(store, language)
    finally:
        await store.close()
    assert stemmed.precision >= exact.precision


def test_an_adverb_keeps_its_own_stem() -> None:
    """Porter2 would give "generally" the stem of "general"; /search general must not
    find "Generally accepted norms"."""
    assert stem("generally") != stem("general")
    assert stem("nearly") != stem("near")
    # Other words ending in -ly still meet their forms.
    assert stem("families") == stem("family")
    assert stem("assemblies") == stem("assembly")
    assert stem("officially") == stem("official")

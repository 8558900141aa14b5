"""The same answers on both backends: every query of the search tests and of the
relevance set finds the same statements on PostgreSQL as on SQLite (the order may
differ: bm25 there, ts_rank here), and counts them alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from benchmarks.bench_search_languages import load, store_set
from storage.api import StoreAPI, open_store
from storage.errors import InvalidSearchQueryError
from storage.models import NewItem
from tests.storage import test_search, test_search_forms
from tests.support.postgres import PostgresServer

NOW = datetime(2021, 12, 3, 4, 30, tzinfo=UTC)

QUERIES = [
    *(q for q in test_search.HOSTILE if len(q) < 300),
    "sanctions",
    "visa rules",
    '"visa rules"',
    '"rules changed" consular',
    "sanct*",
    "spokes*",
    "cafe",
    "CAFÉ",
    "zurich déjà",
    "санкции",
    "санкциями -продлили",
    "ёлка",
    "еще",
    '"new rule"',
    "санкц*",
    'rules -"new visa rules"',
    "visa -consul*",
    '"visa rules" rule',
    "statement",
    "c++",
    "don't",
    "new visa*",
    '"new vis*"',
]


async def _filled(path: Path, url: str | None) -> StoreAPI:
    store = await open_store(path=path, url=url, clock=lambda: NOW)
    for language in ("en", "ru"):
        await store_set(store, language)
    for n, statements in enumerate([test_search.STATEMENTS, test_search_forms.STATEMENTS]):
        feed = await store.add_feed(f"https://mfa.example/set/{n}")
        await store.record_poll(
            feed.id,
            [
                NewItem(f"{n}-{key}", None, None, title, summary, content, NOW - timedelta(hours=i))
                for i, (key, title, summary, content) in enumerate(statements)
            ],
            feed_title="Ministry",
            etag=None,
            last_modified=None,
            content_hash=None,
            next_poll_at=NOW,
            push=False,
        )
    return store


async def _answers(store: StoreAPI, query: str) -> tuple[str, object, int]:
    try:
        hits = await store.search(query, limit=1000)
    except InvalidSearchQueryError as exc:
        return "refused", str(exc), 0
    return "found", sorted(h.item.identity for h in hits), await store.search_count(query)


async def test_every_query_finds_the_same_statements_on_both_backends(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    sqlite = await _filled(tmp_path / "same.sqlite3", None)
    postgres = await _filled(tmp_path / "unused", postgres_server.new_database())
    try:
        queries = QUERIES + [
            str(q["query"])
            for language in ("en", "ru")
            for q in load(language)["queries"]  # type: ignore[union-attr]
        ]
        differences = []
        for query in queries:
            on_sqlite = await _answers(sqlite, query)
            on_postgres = await _answers(postgres, query)
            if on_sqlite != on_postgres:
                differences.append((query, on_sqlite, on_postgres))
        assert differences == []
        found = [q for q in queries if (await _answers(sqlite, q))[1]]
        assert len(found) > 40  # the comparison is not of empty answers
    finally:
        await sqlite.close()
        await postgres.close()


@pytest.mark.parametrize("query", ["sanctions", "санкции", '"visa rules"'])
async def test_the_title_ranks_first_on_both_backends(
    tmp_path: Path, postgres_server: PostgresServer, query: str
) -> None:
    """Ranking differs in its figures, not in what matters: a match in the title
    ranks above the same match in the text."""
    stores = [
        await _filled(tmp_path / "rank.sqlite3", None),
        await _filled(tmp_path / "unused", postgres_server.new_database()),
    ]
    try:
        firsts = []
        for store in stores:
            hits = await store.search(query, limit=50)
            firsts.append(hits[0].item.identity)
            top = hits[0].item
            assert any(w in top.title.lower() for w in ("sanction", "санкц", "visa"))
        assert firsts[0] == firsts[1]
    finally:
        for store in stores:
            await store.close()

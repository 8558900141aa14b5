"""search_p95: /search over 200,000 stored statements (QUICK: 20,000), query to
rendered reply, p50 and p95, beside a LIKE scan baseline.

Statements are realistic: titles, leads and bodies are runs of consecutive words of
the seed page (so its phrases occur), each body naming one of 20,000 generated
proper nouns (so rare words exist); they are written straight into the items table
with the schema's own FTS triggers, and Store.open then stems them in batches (as
it does for a database from before word forms). Each query does what the /search handler does:
Store.search_count (capped), Store.search for one page (+1 to know about "More"),
Store.find_chat and bot.render.render_search_results. The queries mix common words,
rare words, two-word searches, "phrases" and prefix* (each repeated; the figure
covers every run). Target: p95 <= 20 ms. Baseline: the same common words, rare
words and phrases as a LIKE '%...%' scan over title, summary and content, newest
first, one page. Fails if a query that must match finds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.common import (
    Figure,
    TextMaker,
    bulk_sql,
    check,
    emit,
    load_average,
    log,
    main_guard,
    percentile,
)
from benchmarks.postgres import bench_database
from bot import reading
from storage.api import StoreAPI
from storage.store import Store
from text.statements import MARK_END, MARK_START, render_search_results

REPEATS = 10
TZ = ZoneInfo("Europe/London")


def _queries(rare: list[str]) -> dict[str, list[str]]:
    return {
        "common word": ["Russia", "British", "minister", "security", "international", "the"],
        "rare word": rare,
        "two words": ["British authorities", "foreign policy", "Salisbury incident", "UN council"],
        "phrase": ['"foreign minister"', '"no credible information"', '"United Kingdom"'],
        "prefix": ["negotiat*", "diplom*", "secur*", "inter*"],
    }


def _build(db: Path, n: int, text: TextMaker) -> list[str]:
    """Store `n` statements; returns six of the rare words they use."""
    now = datetime.now(UTC)
    feeds = 50
    rows = []
    rare: list[str] = []
    for i in range(n):
        lead = text.lead()
        body = text.body(lead)
        if i % (n // 6) == 0 and len(rare) < 6:
            rare.append(body.split(" said.")[0].rsplit(" ", 1)[-1])
        published = (now - timedelta(minutes=37 * (n - i))).timestamp()
        rows.append(
            (
                i % feeds + 1,
                f"id-{i}",
                f"https://mid.example.org/statements/{i}",
                text.title(),
                lead,
                body,
                published,
                published,
                published,
            )
        )
    bulk_sql(
        db,
        [
            (
                "INSERT INTO feeds (id, url, title, created_at) VALUES (?, ?, ?, ?)",
                [
                    (f, f"https://mid.example.org/{f}.xml", f"Ministry {f}", now.timestamp())
                    for f in range(1, feeds + 1)
                ],
            ),
            (
                "INSERT INTO items (feed_id, identity, link, title, summary, content,"
                " published_at, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            ),
        ],
    )
    return rare


async def _search(store: StoreAPI, query: str) -> tuple[str, int]:
    """What the /search handler does, up to the reply text."""
    cap = reading.SEARCH_COUNT_CAP
    total = await store.search_count(query, cap=cap)
    hits = await store.search(
        query, limit=reading.SEARCH_PAGE + 1, offset=0, marks=(MARK_START, MARK_END)
    )
    chat = await store.find_chat(2002)
    tz = ZoneInfo(chat.timezone) if chat and chat.timezone else TZ
    shown = total if total < cap else None
    return render_search_results(
        query, hits[: reading.SEARCH_PAGE], tz, offset=0, total=shown
    ), len(hits)


async def _like(store: StoreAPI, query: str) -> int:
    """The naive way: a LIKE scan over every statement, newest first."""
    needle = "%" + query.strip('"').replace("*", "") + "%"
    if not isinstance(store, Store):  # PostgreSQL: ILIKE is SQLite's LIKE
        found = await store._fetchall(  # type: ignore[attr-defined]
            "SELECT i.*, f.title AS feed_title FROM items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE i.title ILIKE :q OR i.summary ILIKE :q OR i.content ILIKE :q"
            " ORDER BY i.published_at DESC LIMIT :limit",
            {"q": needle, "limit": reading.SEARCH_PAGE + 1},
        )
        return len(found)
    rows = await store._fetchall(  # the baseline needs raw SQL
        "SELECT i.*, f.title AS feed_title FROM items i JOIN feeds f ON f.id = i.feed_id"
        " WHERE i.title LIKE :q OR i.summary LIKE :q OR i.content LIKE :q"
        " ORDER BY i.published_at DESC LIMIT :limit",
        {"q": needle, "limit": reading.SEARCH_PAGE + 1},
    )
    return len(rows)


async def measure(quick: bool, backend: str = "sqlite") -> Figure:
    n = 20_000 if quick else 200_000
    text = TextMaker(seed=11)
    with (
        tempfile.TemporaryDirectory() as tmp,
        bench_database() if (backend == "postgres") else contextlib.nullcontext("") as url,
    ):
        db = Path(tmp) / "bench.sqlite3"
        store: StoreAPI = await Store.open(db)
        await store.close()
        start = time.perf_counter()
        rare = _build(db, n, text)
        log(f"stored {n} statements in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        if url:
            # The same statements, copied as `communique migrate-db` copies them
            # (which indexes them on the way).
            from storage.postgres.store import PgStore
            from storage.transfer import copy_to_postgres

            copied = await copy_to_postgres(db, url)
            check(all(c.ok for c in copied), "the copy to PostgreSQL lost rows")
            store = await PgStore.open(url)
            await store._read.execute("ANALYZE")  # type: ignore[attr-defined]
            log(f"copied and indexed them in PostgreSQL in {time.perf_counter() - start:.1f} s")
        else:
            # Written without stems, as by a release before word forms: Store.open
            # stems them all, as it does when such a database is upgraded.
            store = await Store.open(db)
            log(f"stemmed them on opening in {time.perf_counter() - start:.1f} s")
        try:
            check(await store.count_items() == n, "not every statement was stored")
            await store.upsert_chat(2002, "private", "Bench")
            queries = _queries(rare)
            for kind, items in queries.items():
                for q in items:
                    _, found = await _search(store, q)
                    check(found > 0, f"{kind} query {q!r} found nothing")
            samples: dict[str, list[float]] = {k: [] for k in queries}
            for _ in range(REPEATS):
                for kind, items in queries.items():
                    for q in items:
                        t0 = time.perf_counter()
                        await _search(store, q)
                        samples[kind].append((time.perf_counter() - t0) * 1000)
            like: list[float] = []
            for kind in ("common word", "rare word", "phrase"):
                for q in queries[kind][:3]:
                    t0 = time.perf_counter()
                    found = await _like(store, q)
                    like.append((time.perf_counter() - t0) * 1000)
                    check(found > 0, f"the LIKE baseline found nothing for {q!r}")
        finally:
            await store.close()
    every = [x for xs in samples.values() for x in xs]
    p50, p95 = percentile(every, 50), percentile(every, 95)
    like_p95 = percentile(like, 95)
    per_kind = {
        k: {"p50_ms": round(percentile(v, 50), 2), "p95_ms": round(percentile(v, 95), 2)}
        for k, v in samples.items()
    }
    slowest = max(
        (
            (q, statistics.median(samples[k][i :: len(items)]))
            for k, items in queries.items()
            for i, q in enumerate(items)
        ),
        key=lambda pair: pair[1],
    )
    log(f"p50 {p50:.2f} ms, p95 {p95:.2f} ms; LIKE p50 {percentile(like, 50):.0f} ms")
    return Figure(
        "search_p95" if backend == "sqlite" else f"search_p95_{backend}",
        round(p95, 2),
        "ms (p95)",
        "p95 <= 20 ms",
        p95 <= 20.0,
        baseline=round(like_p95, 2),
        ratio=round(p95 / like_p95, 4),
        details={
            "statements": n,
            "p50_ms": round(p50, 2),
            "queries_timed": len(every),
            "per_kind": per_kind,
            "slowest_query": {"query": slowest[0], "median_ms": round(slowest[1], 2)},
            "like_p50_ms": round(percentile(like, 50), 2),
            "baseline": "LIKE scan p95 over 9 of the queries",
            "load_average_1m": load_average()[0],
            "backend": backend,
        },
    )


def run(quick: bool, backend: str = "sqlite") -> None:
    emit(asyncio.run(measure(quick, backend)))


if __name__ == "__main__":
    sys.exit(main_guard(run, __doc__))

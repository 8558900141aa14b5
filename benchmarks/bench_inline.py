"""inline_p95: inline queries (`@bot QUERY`) over 200,000 stored statements (QUICK:
20,000), from the update to the bot's answerInlineQuery, p50 and p95.

The real Application (handlers, store) answers updates that the in-process Bot API
emulator makes, as in console mode, so the figure is the bot's own time: the update
parsed, the handler run, the statements searched and rendered as messages to share,
the answer serialised and handed to the Bot API. The statements are bench_search's.
Queries: bench_search's mix, the empty query (the latest) and second pages. Target:
p95 <= 30 ms. Baseline: /search's own query to rendered reply for the same queries,
in the same run (an inline answer renders four times as many statements).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

from telegram import Update

from benchmarks.bench_search import _build, _queries, _search
from benchmarks.common import (
    Figure,
    TextMaker,
    check,
    emit,
    load_average,
    log,
    main_guard,
    percentile,
)
from bot.app import Overrides, build_application, start_application, stop_application
from bot.config import load_settings
from bot.services import services_of
from emulator import BotApiEmulator, EmulatorRequest
from storage.store import Store

TOKEN = "1000000001:inline-benchmark-has-no-real-token-xx"
USER = 2002
REPEATS = 8


async def measure(quick: bool) -> Figure:
    n = 20_000 if quick else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        store = await Store.open(db)
        await store.close()
        rare = _build(db, n, TextMaker(seed=11))
        store = await Store.open(db)  # stems what _build wrote
        await store.close()
        settings = dataclasses.replace(
            load_settings({"DATABASE_PATH": str(db), "LOG_LEVEL": "WARNING"}, env_file=None),
            token=TOKEN,
        )
        emulator = BotApiEmulator(TOKEN, username="CommuniqueBot")
        emulator.add_user(USER, "Bench")
        app = build_application(
            settings,
            Overrides(
                request=EmulatorRequest(emulator),
                get_updates_request=EmulatorRequest(emulator),
                start_jobs=False,
            ),
        )
        await start_application(app)
        try:
            svc_store = services_of(app).store
            queries = [q for qs in _queries(rare).values() for q in qs] + [""]
            pages = ["", "20"]

            async def answer(query: str, offset: str) -> float:
                raw = emulator.send_inline_query(USER, query, offset=offset)
                query_id = raw["inline_query"]["id"]
                started = time.perf_counter()
                await app.process_update(Update.de_json(raw, app.bot))
                elapsed = (time.perf_counter() - started) * 1000
                check(query_id in emulator.inline_answers, f"no answer to {query!r}")
                return elapsed

            for query in queries:  # warm caches, and each must find something
                await answer(query, "")
                found = emulator.inline_answers[list(emulator.inline_answers)[-1]]["results"]
                check(bool(found), f"inline query {query!r} offered nothing")
            samples: list[float] = []
            search: list[float] = []
            for _ in range(REPEATS):
                for query in queries:
                    for offset in pages:
                        samples.append(await answer(query, offset))
                    if query:
                        t0 = time.perf_counter()
                        await _search(svc_store, query)
                        search.append((time.perf_counter() - t0) * 1000)
        finally:
            await stop_application(app)
            emulator.close()
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    search_p95 = percentile(search, 95)
    log(f"inline p50 {p50:.2f} ms, p95 {p95:.2f} ms; /search p95 {search_p95:.2f} ms")
    return Figure(
        "inline_p95",
        round(p95, 2),
        "ms (p95)",
        "p95 <= 30 ms",
        p95 <= 30.0,
        baseline=round(search_p95, 2),
        ratio=round(p95 / search_p95, 3),
        details={
            "statements": n,
            "p50_ms": round(p50, 2),
            "answers_timed": len(samples),
            "baseline": "/search query to rendered reply, same queries",
            "load_average_1m": load_average()[0],
        },
    )


def run(quick: bool) -> None:
    emit(asyncio.run(measure(quick)))


if __name__ == "__main__":
    sys.exit(main_guard(run, __doc__))

"""send_overhead: messages/s through the bot's delivery path with pacing off, beside a
bare python-telegram-bot send_message loop against the same fake in the same run.

Delivery path: the real Deliverer (rate=None, chat pacing off, one send in flight as
with the default DELIVERY_CONCURRENCY=1) reading the outbox of the real Store and
sending through a PTB bot built by ApplicationBuilder, one statement to N chats
(3,000; QUICK: 600): outbox read, claim, render, send, mark sent. Baseline: the same
bot object sends the same message (the rendered HTML and, when the statement has
more text, its Full text button) to the same N chats in a plain loop, one send at a
time, nothing else. The fake Bot API runs in its own process without rate
limits. Rounds alternate baseline and delivery (3 each; QUICK: 2); each figure is
its best round. The bot process's CPU time per message on each side is reported too.
Target: >= 300 msg/s and >= 0.8 x the baseline. Fails if a message is missing or
failed. `--backend postgres`: the same on PostgreSQL (benchmarks/postgres.py), each
claim on the leader's lock session as in a running bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder

from benchmarks.common import TOKEN, FakeBotApi, Figure, check, emit, load_average, log, main_guard
from benchmarks.postgres import bench_database
from benchmarks.rig import prepare, prepare_postgres, push_statement
from jobs.delivery import Deliverer
from jobs.statement_buttons import full_text_markup, has_full_text
from storage.api import StoreAPI
from storage.store import Store
from text.statements import render_item

WORKERS = 1  # DELIVERY_CONCURRENCY's default, used by both sides


async def measure(quick: bool, backend: str = "sqlite") -> Figure:
    n = 600 if quick else 3000
    rounds = 2 if quick else 3
    chat_ids = list(range(20_000_001, 20_000_001 + n))
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeBotApi() as fake,
        bench_database() if (backend == "postgres") else contextlib.nullcontext("") as url,
    ):
        store: StoreAPI
        if url:
            store, feed_id = await prepare_postgres(url, chat_ids)
        else:
            db = Path(tmp) / "bench.sqlite3"
            feed_id = await prepare(db, chat_ids)
            store = await Store.open(db)
        fake.add_users(chat_ids)
        app = ApplicationBuilder().token(TOKEN).base_url(fake.base_url).build()
        bot = app.bot
        await bot.initialize()
        deliverer = Deliverer(store, bot, rate=None, chat_pacing=False, workers=WORKERS)
        deliverer.start()
        # The message the bot sends: the statement's text and its Full text button.
        item = (await store.latest_items(1))[0]
        text = render_item(item, ZoneInfo("Europe/London"))
        markup = full_text_markup(item.id) if has_full_text(item) else None
        bare_rates: list[float] = []
        path_rates: list[float] = []
        bare_cpu: list[float] = []  # this process's CPU ms per message: load-independent
        path_cpu: list[float] = []
        try:
            await deliverer.wait_idle(30)
            for r in range(rounds):
                # Baseline: WORKERS concurrent senders over the same chats.
                before = fake.sent()
                queue = list(chat_ids)

                async def sender(queue: list[int]) -> None:
                    while queue:
                        chat_id = queue.pop()
                        await bot.send_message(
                            chat_id,
                            text,
                            parse_mode=ParseMode.HTML,
                            link_preview_options=LinkPreviewOptions(is_disabled=True),
                            reply_markup=markup,
                        )

                start, cpu = time.perf_counter(), time.process_time()
                await asyncio.gather(*(sender(queue) for _ in range(WORKERS)))
                elapsed = time.perf_counter() - start
                check(fake.sent() - before == n, "the bare loop's sends did not all arrive")
                bare_rates.append(n / elapsed)
                bare_cpu.append((time.process_time() - cpu) / n * 1000)

                # The delivery path: a new statement queued for every chat.
                before = fake.sent()
                sent_before = deliverer.counters.sent
                start, cpu = time.perf_counter(), time.process_time()
                await push_statement(store, feed_id, f"overhead-{r}", n)
                await deliverer.wait_idle(300)
                elapsed = time.perf_counter() - start
                sent = deliverer.counters.sent - sent_before
                check(sent == n, f"the Deliverer sent {sent} of {n}")
                check(fake.sent() - before == n, "the Deliverer's sends did not all arrive")
                check(deliverer.counters.failed == 0, "some deliveries failed")
                path_rates.append(n / elapsed)
                path_cpu.append((time.process_time() - cpu) / n * 1000)
                log(
                    f"round {r + 1}: bare {bare_rates[-1]:.0f}/s,"
                    f" delivery path {path_rates[-1]:.0f}/s"
                )
        finally:
            await deliverer.stop()
            await store.close()
            await bot.shutdown()
    bare, path = max(bare_rates), max(path_rates)
    ratio = path / bare
    return Figure(
        "send_overhead" if backend == "sqlite" else f"send_overhead_{backend}",
        round(path, 1),
        "msg/s",
        ">= 300 msg/s and >= 0.8 x bare PTB loop",
        path >= 300 and ratio >= 0.8,
        baseline=round(bare, 1),
        ratio=round(ratio, 3),
        details={
            "messages_per_round": n,
            "rounds": rounds,
            "concurrency": WORKERS,
            "bare_rounds": [round(x, 1) for x in bare_rates],
            "delivery_rounds": [round(x, 1) for x in path_rates],
            "bare_cpu_ms_per_msg": round(min(bare_cpu), 3),
            "delivery_cpu_ms_per_msg": round(min(path_cpu), 3),
            "load_average_1m": load_average()[0],
            "backend": backend,
        },
    )


def run(quick: bool, backend: str = "sqlite") -> None:
    emit(asyncio.run(measure(quick, backend)))


if __name__ == "__main__":
    sys.exit(main_guard(run, __doc__))

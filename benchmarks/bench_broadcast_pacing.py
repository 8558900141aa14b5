"""broadcast_pacing: one statement to 3,000 chats (QUICK: 600) at BROADCAST_RATE=30.

The real Application (build_application + start_application, so the real Store,
Deliverer and PTB bot with the settings' pacing) talks HTTP to the fake Bot API in
another process started with --rate-limits (Telegram's limits: 30 messages/s
overall, 1/s per private chat; any excess is answered 429 and counted). The figure
is the sustained rate, (N - 1) / (last send - first send) from the outbox's
finished_at times, divided by 30 (target >= 0.97), with the fake's count of 429s
(target 0). The end-to-end rate (N / time from queueing to the last send) is
reported beside it. Fails if any message is missing, failed, or sent twice.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import TOKEN, FakeBotApi, Figure, check, emit, load_average, log, main_guard
from benchmarks.rig import outbox_finish_times, prepare, push_statement
from bot.app import Overrides, build_application, start_application, stop_application
from bot.config import load_settings
from bot.services import services_of

RATE = 30.0


async def measure(quick: bool) -> Figure:
    n = 600 if quick else 3000
    chat_ids = list(range(10_000_001, 10_000_001 + n))
    with tempfile.TemporaryDirectory() as tmp, FakeBotApi(rate_limits=True) as fake:
        db = Path(tmp) / "bench.sqlite3"
        feed_id = await prepare(db, chat_ids)
        fake.add_users(chat_ids)
        settings = load_settings(
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": fake.base_url,
                "DATABASE_PATH": str(db),
                "BROADCAST_RATE": str(RATE),
                "LOG_LEVEL": "WARNING",
            },
            env_file=None,
        )
        app = build_application(settings, Overrides(start_jobs=False))
        await start_application(app)
        try:
            svc = services_of(app)
            await svc.deliverer.wait_idle(30)
            before = fake.counts()
            load_before = load_average()
            log(f"broadcasting one statement to {n} chats at {RATE:.0f}/s")
            queued_at = time.time()
            await push_statement(svc.store, feed_id, "pacing-1", n)
            await svc.deliverer.wait_idle(n / RATE * 2 + 60)
            done_at = time.time()
            counters = svc.deliverer.counters
        finally:
            await stop_application(app)
        after = fake.counts()
        sends = after["calls"].get("sendMessage", 0) - before["calls"].get("sendMessage", 0)
        count_429 = after["count_429"] - before["count_429"]
        times = outbox_finish_times(db, "pacing-1")
    check(len(times) == n, f"{len(times)} of {n} outbox rows are marked sent")
    check(counters.failed == 0, f"{counters.failed} messages failed")
    check(
        sends == n + count_429,
        f"the fake saw {sends} sendMessage calls for {n} messages and {count_429} 429s",
    )
    received = sum(1 for c in chat_ids if after["messages"].get(str(c), 0) == 1)
    check(received == n, f"only {received} of {n} chats received exactly one message")
    sustained = (n - 1) / (times[-1] - times[0])
    end_to_end = n / (done_at - queued_at)
    value = sustained / RATE
    log(
        f"sustained {sustained:.2f}/s, end to end {end_to_end:.2f}/s, 429s {count_429},"
        f" load {load_before[0]:.2f}"
    )
    return Figure(
        "broadcast_pacing",
        round(value, 4),
        "fraction of 30 msg/s",
        ">= 0.97 and 0 429s",
        value >= 0.97 and count_429 == 0,
        details={
            "messages": n,
            "sustained_rate": round(sustained, 2),
            "end_to_end_rate": round(end_to_end, 2),
            "count_429": count_429,
            "rate_limited_by_bot": counters.rate_limited,
            "load_average_1m": load_before[0],
        },
    )


def run(quick: bool) -> None:
    emit(asyncio.run(measure(quick)))


if __name__ == "__main__":
    sys.exit(main_guard(run, __doc__))

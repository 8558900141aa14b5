"""poll_unchanged: one poll cycle (Poller.poll_due) over 1,000 feeds that all answer 304.

The feeds are served by ``python -m tests.support.feed_server`` in its own process, all on
127.0.0.1 (so the per-host limit of 2 concurrent fetches applies to every one of
them, as it would to 1,000 feeds on one real site). The real Store and Poller with
the bot's own HTTP client (ALLOW_PRIVATE_FEEDS=true for loopback) first poll every
feed once (200: backlog stored, validators saved), then the measured cycles poll
them again: every request is conditional and every answer is 304. Figure: the
median of 3 cycles (QUICK: 200 feeds, 2 cycles, scaled to 1,000) in seconds; target
<= 5 s. Baseline: the same conditional GETs with a bare httpx client at the same
concurrency (2 at a time to the one host). Beside it (details), the same cycle with
the feeds spread over 10 loopback addresses (127.0.0.2-11, benchmarks.feed_hosts),
which shows what the per-host limit costs. Fails unless every feed of every cycle
is counted not-modified.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.common import (
    FeedServerProcess,
    Figure,
    Helper,
    check,
    emit,
    load_average,
    log,
    main_guard,
)
from benchmarks.feed_hosts import address
from bot import USER_AGENT
from jobs.fetch import make_client
from jobs.poll import MAX_PER_HOST, Poller
from storage.store import Store

FULL = 1000
HOSTS = 10


async def _cycles(
    urls: list[str], cycles: int, cpu: list[float] | None = None
) -> tuple[list[float], list[float]]:
    """Poll cycle times, then bare-httpx cycle times, over `urls` (all answer 304)."""
    feeds = len(urls)
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.sqlite3")
        client = make_client(user_agent=USER_AGENT, allow_private=True)
        try:
            for url in urls:
                await store.add_feed(url)
            poller = Poller(
                store,
                client,
                poll_interval=300,
                allow_private=True,
                clock=lambda: datetime.now(UTC),
            )
            first = await poller.poll_due(force=True)
            check(
                first.changed == feeds,
                f"first poll: {first.changed} of {feeds} feeds fetched ({first.failed} failed)",
            )
            stored = await store.count_items()
            check(stored == feeds * 10, f"first poll stored {stored} statements")
            times: list[float] = []
            for _ in range(cycles):
                start, cpu_start = time.perf_counter(), time.process_time()
                report = await poller.poll_due(force=True)
                times.append(time.perf_counter() - start)
                if cpu is not None:
                    cpu.append((time.process_time() - cpu_start) / feeds * 1000)
                check(
                    report.not_modified == feeds,
                    f"{report.not_modified} of {feeds} feeds answered 304"
                    f" ({report.changed} changed, {report.failed} failed)",
                )
            # Baseline: bare conditional GETs, as many at a time as the Poller allows.
            validators = {f.url: (f.etag, f.last_modified) for f in await store.list_feeds()}
        finally:
            await client.aclose()
            await store.close()
        base_times: list[float] = []
        async with httpx.AsyncClient() as bare:
            for _ in range(cycles):
                start = time.perf_counter()
                codes = await _bare_cycle(bare, validators)
                base_times.append(time.perf_counter() - start)
                check(codes == [304] * feeds, "the bare baseline did not get 304 everywhere")
    return times, base_times


async def measure(quick: bool) -> Figure:
    feeds = 200 if quick else FULL
    cycles = 2 if quick else 3
    with FeedServerProcess(feeds) as server:
        cpu: list[float] = []
        times, base_times = await _cycles([server.url(i) for i in range(feeds)], cycles, cpu)
    # The same feeds spread over HOSTS loopback addresses: what the per-host limit costs.
    with Helper("benchmarks.feed_hosts", "--feeds", str(feeds), "--hosts", str(HOSTS)) as spread:
        urls = [f"http://{address(i, HOSTS)}:{spread.port}/feeds/{i}.xml" for i in range(feeds)]
        spread_times, _ = await _cycles(urls, cycles)
    scale = FULL / feeds
    value = statistics.median(times) * scale
    baseline = statistics.median(base_times) * scale
    log(f"poll cycle {value:.2f} s, bare httpx {baseline:.2f} s (per {FULL} feeds)")
    return Figure(
        "poll_unchanged",
        round(value, 3),
        "s per cycle of 1,000 feeds",
        "<= 5 s",
        value <= 5.0,
        baseline=round(baseline, 3),
        ratio=round(value / baseline, 3),
        details={
            "feeds_measured": feeds,
            "scaled_to": FULL,
            "cycles": [round(t, 3) for t in times],
            "hosts": 1,
            f"same feeds on {HOSTS} loopback hosts_s": round(
                statistics.median(spread_times) * scale, 3
            ),
            "per_host_limit": MAX_PER_HOST,
            "bot_cpu_ms_per_feed": round(min(cpu), 3),
            "baseline": "bare httpx conditional GETs, same per-host concurrency",
            "load_average_1m": load_average()[0],
        },
    )


async def _bare_cycle(
    client: httpx.AsyncClient, validators: dict[str, tuple[str | None, str | None]]
) -> list[int]:
    slots = asyncio.Semaphore(MAX_PER_HOST)

    async def get(url: str, etag: str | None, modified: str | None) -> int:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        async with slots:
            return (await client.get(url, headers=headers)).status_code

    return list(await asyncio.gather(*(get(u, e, m) for u, (e, m) in validators.items())))


def run(quick: bool) -> None:
    emit(asyncio.run(measure(quick)))


if __name__ == "__main__":
    sys.exit(main_guard(run, __doc__))

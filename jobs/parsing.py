"""Where feeds are parsed, so the event loop never waits on feedparser: a worker
thread for ordinary bodies, a worker process for big ones.

A thread is not enough for a big body: feedparser runs long C calls (str.translate
over an element's whole text) holding the GIL, and a multi-megabyte title would
stall the loop for hundreds of milliseconds. The process is started on the first
big body only, and reused.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from jobs.parse import ParsedFeed, parse_feed

log = logging.getLogger(__name__)

BIG_BODY = 512 * 1024


class FeedParser:
    def __init__(self, *, big_body: int = BIG_BODY) -> None:
        self._big_body = big_body
        self._pool: ProcessPoolExecutor | None = None
        # One thread: parsing is pure Python holding the GIL, so more threads would
        # only take turns (and fight the event loop and SQLite's thread for it).
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-parser")

    async def parse(
        self,
        content: bytes,
        *,
        url: str,
        headers: Mapping[str, str],
        known: Mapping[int, int] | None = None,
    ) -> ParsedFeed:
        """parse_feed off the event loop; raises what it raises (NotAFeedError)."""
        call = functools.partial(
            parse_feed, content, url=url, headers=dict(headers), known=dict(known or {})
        )
        loop = asyncio.get_running_loop()
        if len(content) < self._big_body:
            return await loop.run_in_executor(self._thread, call)
        try:
            return await loop.run_in_executor(self._process_pool(), call)
        except BrokenProcessPool:
            # The worker died (killed, out of memory): start afresh next time, and
            # parse this one in a thread rather than lose it.
            log.warning("the feed parser process died; parsing %s in a thread", url)
            self._pool = None
            return await loop.run_in_executor(self._thread, call)

    def _process_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the bot has threads (SQLite, the job queue) that a
            # forked child would inherit in an unknown state.
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

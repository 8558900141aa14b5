"""Where fetched bodies are parsed, so the event loop never waits on a parser: a
worker thread for ordinary bodies, a worker process for big ones.

A thread is not enough for a big body: feedparser runs long C calls (str.translate
over an element's whole text) holding the GIL, and a multi-megabyte title would
stall the loop for hundreds of milliseconds; hostile shapes of a few hundred
kilobytes (50,000 nested elements, 20,000 attributes) take feedparser seconds and
hand the GIL back late. Ordinary feeds (tens of kilobytes) stay on the thread,
where they cost no copying. The process is started on the first big body only,
and reused. Web pages (a page source's list, a statement's own page, a page that
/addfeed looks into) are read the same way, with the same timeout and kill.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from jobs.article import Article, NoArticleError, extract_article
from jobs.discovery import PageInspection, inspect_page
from jobs.page_list import PageList, PageListError, Selectors, read_list
from jobs.parse import NotAFeedError, ParsedFeed, parse_feed

log = logging.getLogger(__name__)

BIG_BODY = 128 * 1024
# A body the worker process has not parsed in this time is given up on: the process
# is killed and the poll fails (backing off like any failure). Some shapes make
# feedparser quadratic: 20,000 attributes on one element take it over ten seconds,
# a 10 MB body of them would take hours, and every other big feed would wait.
PARSE_TIMEOUT = 30.0

T = TypeVar("T")
# What the caller gets when a body is given up on: the error its parse raises.
Failure = Callable[[str], Exception]


def _ready() -> bool:
    """Run in a new worker first: the process is up and the parsers imported."""
    return True


class ParserClosedError(RuntimeError):
    """The parser was closed (the bot is stopping) while this body was parsed."""


class FeedParser:
    """Parses feeds and reads web pages off the event loop (see the module)."""

    def __init__(self, *, big_body: int = BIG_BODY, timeout: float = PARSE_TIMEOUT) -> None:
        self._big_body = big_body
        self._timeout = timeout
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        self._one_at_a_time = asyncio.Lock()
        self._warm: ProcessPoolExecutor | None = None  # the pool whose worker is up
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
        """parse_feed off the event loop; raises what it raises (NotAFeedError), and
        NotAFeedError for a big body that takes longer than the timeout.
        ParserClosedError: the parser was closed first."""
        call = functools.partial(
            parse_feed, content, url=url, headers=dict(headers), known=dict(known or {})
        )
        return await self._run(call, size=len(content), url=url, what="feed", failure=NotAFeedError)

    async def read_list(
        self,
        content: bytes,
        *,
        url: str,
        headers: Mapping[str, str],
        selectors: Selectors | None,
        zone: str | None,
    ) -> PageList:
        """jobs.page_list.read_list off the event loop; PageListError (NotAListError)
        as it raises them, and for a big page that takes longer than the timeout."""
        call = functools.partial(
            read_list, content, url=url, headers=dict(headers), selectors=selectors, zone=zone
        )
        return await self._run(call, size=len(content), url=url, what="page", failure=PageListError)

    async def inspect_page(
        self, content: bytes, *, url: str, headers: Mapping[str, str], zone: str | None
    ) -> PageInspection:
        """jobs.discovery.inspect_page off the event loop (PageListError on timeout)."""
        call = functools.partial(inspect_page, content, url=url, headers=dict(headers), zone=zone)
        return await self._run(call, size=len(content), url=url, what="page", failure=PageListError)

    async def read_article(
        self, content: bytes, *, url: str, headers: Mapping[str, str], zone: str | None
    ) -> Article:
        """jobs.article.extract_article off the event loop; NoArticleError as it
        raises it, and for a big page that takes longer than the timeout."""
        call = functools.partial(
            extract_article, content, url=url, headers=dict(headers), zone=zone
        )
        return await self._run(
            call, size=len(content), url=url, what="page", failure=NoArticleError
        )

    async def _run(
        self, call: Callable[[], T], *, size: int, url: str, what: str, failure: Failure
    ) -> T:
        try:
            if size < self._big_body:
                return await self._in_thread(call)
            return await self._in_process(call, url, what=what, failure=failure)
        except asyncio.CancelledError:
            # close() cancels the parses still queued in its workers; the callers
            # were not cancelled themselves and get the reason instead.
            task = asyncio.current_task()
            if self._closed and (task is None or not task.cancelling()):
                raise ParserClosedError("the bot is stopping") from None
            raise

    async def _in_thread(self, call: Callable[[], T]) -> T:
        if self._closed:
            raise ParserClosedError("the bot is stopping")
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    async def _in_process(
        self, call: Callable[[], T], url: str, *, what: str, failure: Failure
    ) -> T:
        loop = asyncio.get_running_loop()
        # One body at a time, queued here rather than in the executor: the timeout
        # then counts this body's own parse, never the wait behind another one.
        async with self._one_at_a_time:
            for _attempt in (1, 2):
                if self._closed:
                    raise ParserClosedError("the bot is stopping")
                pool = self._process_pool()
                try:
                    if pool is not self._warm:
                        # Starting the process and importing the parsers there is not
                        # this body's parse time.
                        await loop.run_in_executor(pool, _ready)
                        self._warm = pool
                    return await asyncio.wait_for(loop.run_in_executor(pool, call), self._timeout)
                except TimeoutError:
                    log.warning(
                        "gave up parsing %s after %g s; restarting the parser", url, self._timeout
                    )
                    self._discard(pool, kill=True)
                    raise failure(
                        f"the {what} took longer than {self._timeout:g} s to parse; it is too"
                        " big or too deeply structured"
                    ) from None
                except BrokenProcessPool:
                    if self._closed:
                        raise ParserClosedError("the bot is stopping") from None
                    # The worker died (killed, out of memory): once may be chance, so
                    # a fresh one tries again. Twice, the body is to blame: parsing it
                    # here instead could take the bot down with it.
                    self._discard(pool, kill=False)
                    log.warning("the parser process died parsing %s", url)
        raise failure(f"the parser process died twice on this {what}; it is too big")

    def _process_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the bot has threads (SQLite, the job queue) that a
            # forked child would inherit in an unknown state.
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor, *, kill: bool) -> None:
        """Forget `pool` (the next big body starts a fresh one); `kill` its worker,
        which a running parse would otherwise keep busy."""
        if self._pool is pool:
            self._pool = None
        if kill:
            # The executor has no public way to stop a running task.
            processes: dict[int, multiprocessing.process.BaseProcess] = (
                getattr(pool, "_processes", None) or {}
            )
            for process in list(processes.values()):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop both workers; a parse still running in the process is killed, so
        that it cannot hold up the bot's exit."""
        self._closed = True
        self._thread.shutdown(wait=False, cancel_futures=True)
        if self._pool is not None:
            self._discard(self._pool, kill=True)

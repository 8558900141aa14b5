"""Big bodies are parsed in a worker process, ordinary ones in a thread; both give
the same result, and a feed error comes back as the same NotAFeedError. Web pages
(a list, a statement's page) go the same way, with the same timeout and kill."""

from __future__ import annotations

import asyncio
import multiprocessing.process
import time
from pathlib import Path

import pytest

from jobs.article import NoArticleError
from jobs.page_list import NotAListError, PageListError, Selectors, list_from_selectors
from jobs.parse import NotAFeedError, parse_feed
from jobs.parse_worker import FeedParser, ParserClosedError
from tests.support.feeds import html_list, statement_page, statements_of_the_seed
from tests.support.page_site import body_of

FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    b"<item><guid>a</guid><title>One</title><description>Lead.</description></item>"
    b"</channel></rss>"
)


def assert_ended(worker: multiprocessing.process.BaseProcess) -> None:
    """The worker process is gone (or a zombie: killed, not yet reaped).

    Not `is_alive()`: the executor's own thread may reap the process at the same
    moment, and `is_alive()` then answers True for a process that no longer exists.
    """
    assert worker.pid is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        worker.join(timeout=0.1)
        stat = Path(f"/proc/{worker.pid}/stat")
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return
        if state in ("Z", "X"):
            return
    raise AssertionError(f"the worker {worker.pid} still runs the hostile parse")


async def test_a_big_body_is_parsed_in_a_process_with_the_same_result() -> None:
    parser = FeedParser(big_body=10)  # everything counts as big here
    try:
        headers = {"content-type": "application/rss+xml"}
        in_process = await parser.parse(FEED, url="https://x.example/", headers=headers)
        assert parser._pool is not None, "the worker process was not used"
        assert in_process == parse_feed(FEED, url="https://x.example/", headers=headers)
        with pytest.raises(NotAFeedError, match="not a feed"):
            await parser.parse(
                b"<html><body>hi</body></html>", url="https://x.example/", headers={}
            )
    finally:
        parser.close()


async def test_an_ordinary_body_stays_in_a_thread() -> None:
    parser = FeedParser()
    parsed = await parser.parse(FEED, url="https://x.example/", headers={})
    assert [e.title for e in parsed.entries] == ["One"]
    assert parser._pool is None


def many_attributes(count: int) -> bytes:
    """One item with `count` attributes: feedparser's time grows with their square."""
    attributes = b" ".join(b"a%d='v'" % n for n in range(count))
    return (
        b'<rss version="2.0"><channel><item ' + attributes + b"><title>t</title>"
        b"<guid>m</guid></item></channel></rss>"
    )


async def test_a_parse_that_runs_too_long_is_given_up_and_the_worker_replaced() -> None:
    # 20,000 attributes keep feedparser busy for over ten seconds; a 10 MB body of
    # them would take hours and hold up every other big feed.
    parser = FeedParser(big_body=10, timeout=0.5)
    try:
        hostile = parser.parse(many_attributes(20_000), url="https://x.example/", headers={})
        with pytest.raises(NotAFeedError, match=r"took longer than 0.5 s to parse"):
            await hostile
        assert parser._pool is None, "the stuck worker is still the parser's"
        # The next big body gets a fresh worker and the same answer as ever.
        parsed = await parser.parse(FEED, url="https://x.example/", headers={})
        assert [e.title for e in parsed.entries] == ["One"]
        assert parser._pool is not None
    finally:
        parser.close()


async def test_the_stuck_worker_process_is_killed() -> None:
    parser = FeedParser(big_body=10, timeout=0.5)
    try:
        await parser.parse(FEED, url="https://x.example/", headers={})  # starts the worker
        assert parser._pool is not None
        workers = list(parser._pool._processes.values())
        assert workers
        with pytest.raises(NotAFeedError):
            await parser.parse(many_attributes(20_000), url="https://x.example/", headers={})
        for worker in workers:
            assert_ended(worker)
    finally:
        parser.close()


async def test_closing_kills_a_parse_in_progress() -> None:
    """A bot told to stop must not wait for a hostile parse to end."""
    parser = FeedParser(big_body=10)
    await parser.parse(FEED, url="https://x.example/", headers={})  # starts the worker
    assert parser._pool is not None
    workers = list(parser._pool._processes.values())
    hostile = asyncio.ensure_future(
        parser.parse(many_attributes(20_000), url="https://x.example/", headers={})
    )
    await asyncio.sleep(0)  # submitted
    parser.close()
    for worker in workers:
        assert_ended(worker)
    with pytest.raises(ParserClosedError):
        await hostile


# --- web pages (issue 16): the same thread, process, timeout and kill -------------------


async def test_a_big_page_is_read_in_the_process_with_the_same_result() -> None:
    page = html_list(statements_of_the_seed(8))
    url = "https://embassy.example/news"
    parser = FeedParser(big_body=10)
    try:
        listing = await parser.read_list(
            page, url=url, headers={}, selectors=Selectors("div.news-item"), zone="Europe/London"
        )
        assert parser._pool is not None, "the worker process was not used"
        assert listing == list_from_selectors(
            page, url=url, headers={}, selectors=Selectors("div.news-item"), zone="Europe/London"
        )
        body = statement_page("A statement", body_of(statements_of_the_seed(1)[0]))
        article = await parser.read_article(body, url=url, headers={}, zone=None)
        assert article.text.startswith("Full text of statement 1")
        with pytest.raises(NotAListError, match="the page is a login form"):
            await parser.read_list(
                b"<html><body><form><input type=password></form></body></html>",
                url=url,
                headers={},
                selectors=None,
                zone=None,
            )
    finally:
        parser.close()


async def test_a_page_that_takes_too_long_is_given_up_and_its_worker_killed() -> None:
    parser = FeedParser(big_body=10)
    try:
        await parser.parse(FEED, url="https://x.example/", headers={})  # starts the worker
        assert parser._pool is not None
        workers = list(parser._pool._processes.values())
        parser._timeout = 0.001  # a page of hundreds of statements takes far longer
        page = html_list(statements_of_the_seed(400))
        with pytest.raises(PageListError, match=r"the page took longer than 0.001 s to parse"):
            await parser.read_list(
                page, url="https://x.example/", headers={}, selectors=None, zone=None
            )
        for worker in workers:
            assert_ended(worker)
        with pytest.raises(NoArticleError, match="took longer"):
            await parser.read_article(page, url="https://x.example/", headers={}, zone=None)
    finally:
        parser.close()

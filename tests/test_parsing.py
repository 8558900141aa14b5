"""Big bodies are parsed in a worker process, ordinary ones in a thread; both give
the same result, and a feed error comes back as the same NotAFeedError."""

from __future__ import annotations

import pytest

from jobs.parse import NotAFeedError, parse_feed
from jobs.parsing import FeedParser

FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    b"<item><guid>a</guid><title>One</title><description>Lead.</description></item>"
    b"</channel></rss>"
)


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

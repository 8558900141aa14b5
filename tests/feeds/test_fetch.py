"""jobs.fetch against the local feed server: politeness, limits, failures."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

import bot
from bot import USER_AGENT
from jobs.cache_policy import parse_cache_seconds, parse_retry_after
from jobs.fetch import FetchResult, fetch_feed, make_client
from jobs.fetch_errors import FeedGoneError, FetchError, TooLargeError
from jobs.hosts import HostLimiter
from tests.support.feed_server import FeedServer
from tests.support.feeds import sample_feed

NOW = datetime(2021, 12, 3, 7, 30, tzinfo=UTC)
DATE = "Fri, 03 Dec 2021 07:30:00 GMT"
FEED = sample_feed(1)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(user_agent=USER_AGENT, allow_private=True) as c:
        yield c


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    previous_hash: str | None = None,
    **kwargs: float,
) -> FetchResult:
    return await fetch_feed(
        client,
        url,
        etag=etag,
        last_modified=last_modified,
        previous_hash=previous_hash,
        allow_private=True,
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def test_user_agent_names_the_bot_and_its_version() -> None:
    assert USER_AGENT == (f"Communique/{bot.__version__} (Telegram statement bot)")


async def test_sends_user_agent_and_accepts_compression(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set("/feed", FEED)
    result = await fetch(client, feed_server.url("/feed"))
    assert result.status == 200
    assert result.content == FEED
    (request,) = feed_server.requests
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.headers["Accept-Encoding"] == "gzip, deflate"
    assert "If-None-Match" not in request.headers
    assert "If-Modified-Since" not in request.headers


async def test_validators_are_echoed_byte_for_byte(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    etag = 'W/"abc; x"'
    # Not an RFC 7231 date: it must come back untouched, never re-formatted.
    last_modified = "friday,  3-Dec-2021 07:30:00 +0000 (local)"
    feed_server.set("/feed", FEED, etag=etag, last_modified=last_modified)

    first = await fetch(client, feed_server.url("/feed"))
    assert (first.etag, first.last_modified) == (etag, last_modified)
    assert not first.not_modified

    second = await fetch(
        client,
        feed_server.url("/feed"),
        etag=first.etag,
        last_modified=first.last_modified,
        previous_hash=first.content_hash,
    )
    sent = feed_server.requests[-1].headers
    assert sent["If-None-Match"] == etag
    assert sent["If-Modified-Since"] == last_modified
    assert second.status == 304
    assert second.not_modified
    assert second.content is None
    assert (second.etag, second.last_modified) == (etag, last_modified)
    assert second.content_hash == first.content_hash


async def test_last_modified_alone_gives_304(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set("/feed", FEED, last_modified=DATE)
    result = await fetch(client, feed_server.url("/feed"), last_modified=DATE)
    assert result.status == 304 and result.not_modified and result.content is None
    assert "If-None-Match" not in feed_server.requests[-1].headers


async def test_no_date_is_invented_without_a_stored_validator(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set("/feed", FEED, etag='"v1"')
    await fetch(client, feed_server.url("/feed"), etag='"v1"')
    assert "If-Modified-Since" not in feed_server.requests[-1].headers


async def test_same_body_is_not_modified_but_new_validators_are_returned(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set("/feed", FEED, etag='"v1"')
    first = await fetch(client, feed_server.url("/feed"))
    feed_server.set("/feed", FEED, etag='"v2"', last_modified=DATE)

    second = await fetch(
        client, feed_server.url("/feed"), etag='"v1"', previous_hash=first.content_hash
    )
    assert second.status == 200
    assert second.not_modified
    assert second.content == FEED
    assert second.etag == '"v2"'
    assert second.last_modified == DATE

    feed_server.set("/feed", FEED + b"\n", etag='"v3"')
    third = await fetch(
        client, feed_server.url("/feed"), etag='"v2"', previous_hash=first.content_hash
    )
    assert not third.not_modified
    assert third.content_hash != first.content_hash


async def test_cache_control_max_age(feed_server: FeedServer, client: httpx.AsyncClient) -> None:
    feed_server.set("/feed", FEED, headers={"Cache-Control": "public, max-age=900"})
    result = await fetch(client, feed_server.url("/feed"))
    assert result.cache_seconds == 900.0
    assert result.headers["cache-control"] == "public, max-age=900"


async def test_expires_is_relative_to_the_servers_date(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set(
        "/feed", FEED, headers={"Date": DATE, "Expires": "Fri, 03 Dec 2021 08:30:00 GMT"}
    )
    result = await fetch(client, feed_server.url("/feed"))
    assert result.cache_seconds == 3600.0


def test_parse_cache_seconds() -> None:
    later = "Fri, 03 Dec 2021 07:40:00 GMT"
    assert parse_cache_seconds({"cache-control": "max-age=60", "expires": later}, now=NOW) == 60
    assert parse_cache_seconds({"cache-control": 'max-age="30"'}, now=NOW) == 30
    assert parse_cache_seconds({"cache-control": "s-maxage=5, no-cache"}, now=NOW) is None
    assert parse_cache_seconds({"expires": later}, now=NOW) == 600
    assert parse_cache_seconds({"expires": "Thu, 02 Dec 2021 07:30:00 GMT"}, now=NOW) == 0
    assert parse_cache_seconds({"expires": "0"}, now=NOW) is None
    assert parse_cache_seconds({}, now=NOW) is None


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", now=NOW) == 120
    assert parse_retry_after("Fri, 03 Dec 2021 07:32:00 GMT", now=NOW) == 120
    assert parse_retry_after("Fri, 03 Dec 2021 07:00:00 GMT", now=NOW) == 0
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after(None, now=NOW) is None


async def test_429_with_retry_after_seconds(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set_status("/feed", 429, headers={"Retry-After": "120"})
    with pytest.raises(FetchError) as caught:
        await fetch(client, feed_server.url("/feed"))
    assert caught.value.status == 429
    assert caught.value.retry_after == 120.0
    assert caught.value.message == "HTTP 429 Too Many Requests"


async def test_503_with_retry_after_date(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set_status(
        "/feed", 503, headers={"Date": DATE, "Retry-After": "Fri, 03 Dec 2021 08:00:00 GMT"}
    )
    with pytest.raises(FetchError) as caught:
        await fetch(client, feed_server.url("/feed"))
    assert caught.value.status == 503
    assert caught.value.retry_after == 1800.0


async def test_410_is_feed_gone(feed_server: FeedServer, client: httpx.AsyncClient) -> None:
    feed_server.set_status("/feed", 410)
    with pytest.raises(FeedGoneError) as caught:
        await fetch(client, feed_server.url("/feed"))
    assert caught.value.status == 410


async def test_404_message(feed_server: FeedServer, client: httpx.AsyncClient) -> None:
    with pytest.raises(FetchError) as caught:
        await fetch(client, feed_server.url("/missing"))
    assert caught.value.message == "HTTP 404 Not Found"
    assert caught.value.status == 404
    assert caught.value.retry_after is None


async def test_permanent_redirect_chain_gives_new_url(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set_redirect("/a", feed_server.url("/b"), status=301)
    feed_server.set_redirect("/b", "/c", status=308)  # relative Location
    feed_server.set("/c", FEED)
    result = await fetch(client, feed_server.url("/a"))
    assert result.content == FEED
    assert result.url == feed_server.url("/c")
    assert result.permanent_url == feed_server.url("/c")
    assert [r.path for r in feed_server.requests] == ["/a", "/b", "/c"]


async def test_temporary_redirect_keeps_the_url(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set_redirect("/a", "/b", status=301)
    feed_server.set_redirect("/b", "/c", status=302)
    feed_server.set("/c", FEED)
    result = await fetch(client, feed_server.url("/a"))
    assert result.url == feed_server.url("/c")
    assert result.permanent_url is None


async def test_redirect_loop(feed_server: FeedServer, client: httpx.AsyncClient) -> None:
    feed_server.set_redirect("/a", "/b")
    feed_server.set_redirect("/b", "/a")
    with pytest.raises(FetchError, match="redirect loop"):
        await fetch(client, feed_server.url("/a"))
    assert len(feed_server.requests) == 2


async def test_too_many_redirects(feed_server: FeedServer, client: httpx.AsyncClient) -> None:
    for i in range(10):
        feed_server.set_redirect(f"/r{i}", f"/r{i + 1}", status=302)
    with pytest.raises(FetchError, match="too many redirects"):
        await fetch(client, feed_server.url("/r0"), max_redirects=3)
    assert len(feed_server.requests) == 4


async def test_gzip_and_deflate_bodies_are_decoded(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    raw_deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    bodies = {
        "gzip": gzip.compress(FEED),
        "deflate": zlib.compress(FEED),
        "raw-deflate": raw_deflate.compress(FEED) + raw_deflate.flush(),
        "two-members": gzip.compress(FEED[:100]) + gzip.compress(FEED[100:]),
    }
    for name, body in bodies.items():
        encoding = "gzip" if "gzip" in name or name == "two-members" else "deflate"
        feed_server.set(f"/{name}", body, headers={"Content-Encoding": encoding})
        result = await fetch(client, feed_server.url(f"/{name}"))
        assert result.content == FEED, name


async def test_corrupt_gzip_is_a_readable_error(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set("/feed", b"not gzip at all", headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="compressed body is corrupt"):
        await fetch(client, feed_server.url("/feed"))


async def test_gzip_bomb_stops_at_the_limit_cheaply(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set_gzip_bomb("/bomb")  # 1 GiB of zeros once inflated
    tracemalloc.start()
    try:
        with pytest.raises(TooLargeError):
            await fetch(client, feed_server.url("/bomb"), max_bytes=256 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Bounded by the limit plus one inflate piece, not by the bomb's size.
    assert peak < 4 * 1024 * 1024


async def test_declared_length_over_the_limit_is_refused(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set("/big", b"x" * 5000)
    with pytest.raises(TooLargeError):
        await fetch(client, feed_server.url("/big"), max_bytes=4096)


async def test_body_exactly_at_the_limit_is_accepted(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set("/exact", b"x" * 4096)
    result = await fetch(client, feed_server.url("/exact"), max_bytes=4096)
    assert result.content == b"x" * 4096


async def test_server_that_never_finishes_hits_the_total_timeout(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set_never_finishes("/stall")
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out after 0\.5 s"):
        await fetch(client, feed_server.url("/stall"), total_timeout=0.5)
    assert time.monotonic() - started < 5


async def test_slow_body_within_the_deadline_is_read(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.set_slow("/slow", FEED[:64], chunk_size=16, delay=0.01)
    result = await fetch(client, feed_server.url("/slow"))
    assert result.content == FEED[:64]


async def test_connection_refused_is_readable(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now (the socket is closed).
    with pytest.raises(FetchError, match=r"cannot connect to 127\.0\.0\.1"):
        await fetch(client, f"http://127.0.0.1:{port}/feed")


@pytest.mark.parametrize("allow_private", [True, False])
@pytest.mark.parametrize(
    "url", ["ftp://example.org/feed", "file:///etc/passwd", "gopher://127.0.0.1/", "feed.xml"]
)
async def test_only_http_and_https(url: str, allow_private: bool) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request may be sent: {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as mock:
        with pytest.raises(FetchError):
            await fetch_feed(
                mock,
                url,
                etag=None,
                last_modified=None,
                previous_hash=None,
                allow_private=allow_private,
            )


async def test_host_limiter_allows_two_per_host() -> None:
    limiter = HostLimiter(max_per_host=2)
    entered: asyncio.Queue[str] = asyncio.Queue()
    release = asyncio.Event()

    async def job(url: str) -> None:
        async with limiter.limit(url):
            await entered.put(url)
            await release.wait()

    same = [asyncio.create_task(job(f"https://Feeds.example/{i}")) for i in range(5)]
    other = asyncio.create_task(job("https://other.example/x"))
    got = [await asyncio.wait_for(entered.get(), 1) for _ in range(3)]
    assert sorted("other" in u for u in got) == [False, False, True]
    for _ in range(10):  # give the waiting jobs every chance to (wrongly) enter
        await asyncio.sleep(0)
    assert entered.empty()
    assert limiter.in_use("http://feeds.example/") == 5
    release.set()
    await asyncio.wait_for(asyncio.gather(*same, other), 1)
    assert entered.qsize() == 3
    assert limiter.in_use("http://feeds.example/") == 0
    assert not limiter._slots  # no per-host entries left behind

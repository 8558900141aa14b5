"""The poll loop, for real: the Poller with a real Store on a temporary database,
a real HTTP client against the local feed server and a FakeClock. Politeness
(validators, server-requested delays, backoff, spread, per-host limits),
redirects, 410, admin alerts, and what counts as news. The last tests run the
whole bot (the rig) and check what an admin sees in Telegram."""

from __future__ import annotations

import collections
import itertools
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from aiohttp import web

from jobs.poll import MAX_PER_HOST
from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry, rss
from tests.support.polling import DAY, INTERVAL, poll_env
from tests.support.rig import ADMIN, Rig

D1 = "Wed, 01 Dec 2021 10:00:00 GMT"
D2 = "Thu, 02 Dec 2021 10:00:00 GMT"
D3 = "Fri, 03 Dec 2021 03:00:00 GMT"
OLD = Entry("s1", "Statement on the summit", "The summit was held.", D1)
MID = Entry("s2", "Comment on the inquiry", "The inquiry was announced.", D2)
NEW = Entry("s3", "Sanctions", "The Ministry responded today.", D3)


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


# --- conditional requests -------------------------------------------------------------


async def test_validators_go_back_byte_for_byte_and_a_304_parses_nothing(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # Odd validators: a weak ETag with double spaces and a non-ASCII byte pair (the
    # server sends it as UTF-8), and a date in an unusual form.
    etag = 'W/"v1  ;x=é"'
    last_modified = "Fri,  3 Dec 2021 07:30:00 +0000"
    feed_server.set("/f.xml", rss([OLD]), etag=etag, last_modified=last_modified)
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/f.xml")
        first = await env.poll()
        assert (first.changed, first.new_items) == (1, 1)
        stored = await env.feed(feed)
        # Kept as the bytes on the wire (latin-1 maps each byte to one character).
        assert stored.etag == etag.encode("utf-8").decode("latin-1")
        assert stored.last_modified == last_modified

        # A new statement appears, but the ETag still matches: the server says 304
        # and nothing is parsed, so the new statement is not seen.
        feed_server.set("/f.xml", rss([NEW, OLD]), etag=etag, last_modified=last_modified)
        second = await env.poll_when_due(feed)
        assert (second.not_modified, second.changed, second.new_items) == (1, 0, 0)
        request = feed_server.requests_to("/f.xml")[-1]
        # The server reads the header back as UTF-8: the same bytes came back.
        assert request.headers["If-None-Match"] == etag
        assert request.headers["If-Modified-Since"] == last_modified
        assert await env.store.feed_item_count(feed.id) == 1
        assert (await env.feed(feed)).last_success_at == env.clock.now


async def test_no_validators_are_invented(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set("/f.xml", rss([OLD]))
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/f.xml")
        await env.poll()
        await env.poll_when_due(feed)
        for request in feed_server.requests_to("/f.xml"):
            assert "If-None-Match" not in request.headers
            assert "If-Modified-Since" not in request.headers
        assert "Communique/" in feed_server.requests_to("/f.xml")[0].headers["User-Agent"]


async def test_identical_body_skips_parsing_but_stores_new_validators(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    body = rss([OLD])
    feed_server.set("/f.xml", body, etag='"v1"')
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/f.xml")
        await env.poll()
        # The server changed its ETag (a new deploy) but not the bytes: a 200 with
        # the same body, which counts as unchanged.
        feed_server.set("/f.xml", body, etag='"v2"', last_modified="Sat, 04 Dec 2021 00:00:00 GMT")
        report = await env.poll_when_due(feed)
        assert (report.not_modified, report.changed) == (1, 0)
        stored = await env.feed(feed)
        assert stored.etag == '"v2"'
        assert stored.last_modified == "Sat, 04 Dec 2021 00:00:00 GMT"
        # …and they are what the next request carries.
        await env.poll_when_due(feed)
        assert feed_server.requests_to("/f.xml")[-1].headers["If-None-Match"] == '"v2"'


# --- the server decides how often, within bounds -----------------------------------------


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({}, INTERVAL, 2 * INTERVAL),
        ({"Cache-Control": "public, max-age=3600"}, 3600.0, 3600.0 + INTERVAL),
        ({"Cache-Control": "max-age=30"}, INTERVAL, 2 * INTERVAL),  # never sooner
        ({"Cache-Control": "max-age=99999999"}, DAY - INTERVAL, DAY),  # never beyond a day
        ({"Expires": "EXPIRES_IN_2H"}, 7200.0 - 5, 7200.0 + INTERVAL),
    ],
)
async def test_freshness_headers_push_the_next_poll_later(
    tmp_path: Path,
    feed_server: FeedServer,
    headers: dict[str, str],
    low: float,
    high: float,
) -> None:
    if headers.get("Expires") == "EXPIRES_IN_2H":
        # Read against the response's own Date header, which is real time.
        headers = {"Expires": http_date(datetime.now(UTC) + timedelta(hours=2))}
    feed_server.set("/f.xml", rss([OLD]), etag='"v1"', headers=headers)
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/f.xml")
        await env.poll()
        assert low <= await env.delay_of(feed) <= high
        # The same holds after a 304, which carries the same headers.
        report = await env.poll_when_due(feed)
        assert report.not_modified == 1
        assert low <= await env.delay_of(feed) <= high


async def test_ttl_is_honoured_also_after_a_304(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set("/f.xml", rss([OLD], extra="<ttl>120</ttl>"), etag='"v1"')
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/f.xml")
        await env.poll()
        assert 7200 <= await env.delay_of(feed) <= 7200 + INTERVAL
        report = await env.poll_when_due(feed)
        assert report.not_modified == 1
        assert 7200 <= await env.delay_of(feed) <= 7200 + INTERVAL


async def test_ttl_is_honoured_after_a_restart(tmp_path: Path, feed_server: FeedServer) -> None:
    """The <ttl> is only in the body, which a 304 does not repeat: a bot restarted
    between the two polls still waits as long as the feed asked."""
    feed_server.set("/f.xml", rss([OLD], extra="<ttl>120</ttl>"), etag='"v1"')
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/f.xml")
        await env.poll()
    async with poll_env(tmp_path, feed_server) as env:  # a new Poller on the same file
        assert (await env.feed(feed)).ttl_seconds == 7200
        report = await env.poll_when_due(feed)
        assert report.not_modified == 1
        assert 7200 <= await env.delay_of(feed) <= 7200 + INTERVAL
        # A body without <ttl> clears it: the plain interval applies again.
        feed_server.set("/f.xml", rss([OLD, MID]), etag='"v2"')
        report = await env.poll_when_due(feed)
        assert (await env.feed(feed)).ttl_seconds is None
        assert INTERVAL * 0.8 <= await env.delay_of(feed) <= INTERVAL * 1.2


@pytest.mark.parametrize(
    ("status", "retry_after", "low", "high"),
    [
        (429, "7200", 7200.0, 7200.0),
        (503, "IN_3H", 3 * 3600.0 - 5, 3 * 3600.0),
        (429, "99999999", DAY, DAY),  # capped at a day
        (503, None, INTERVAL, 1.2 * INTERVAL),  # plain backoff, never sooner than the interval
        (429, "5", INTERVAL, 1.2 * INTERVAL),
    ],
)
async def test_429_and_503_with_retry_after_push_the_next_poll_later(
    tmp_path: Path,
    feed_server: FeedServer,
    status: int,
    retry_after: str | None,
    low: float,
    high: float,
) -> None:
    if retry_after == "IN_3H":
        retry_after = http_date(datetime.now(UTC) + timedelta(hours=3))
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    feed_server.set_status("/f.xml", status, headers=headers)
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/f.xml")
        report = await env.poll()
        assert report.failed == 1
        assert low <= await env.delay_of(feed) <= high
        stored = await env.feed(feed)
        assert stored.last_error is not None and stored.last_error.startswith(f"HTTP {status}")
        assert stored.consecutive_failures == 1 and not stored.paused


# --- failures: backoff, alerts, 410 -------------------------------------------------------


async def test_failures_back_off_with_jitter_up_to_a_day_and_never_disable(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.set_status("/a.xml", 500)
    feed_server.set_status("/b.xml", 500)
    async with poll_env(tmp_path, feed_server) as env:
        a = await env.add_feed("/a.xml")
        b = await env.add_feed("/b.xml")
        await env.poll()
        # Two feeds that failed together do not come back in the same second.
        assert await env.delay_of(a) != await env.delay_of(b)
        delays = [await env.delay_of(a)]
        for _ in range(14):
            await env.poll_when_due(a)
            delays.append(await env.delay_of(a))
        for n, delay in enumerate(delays):
            base = min(INTERVAL * 2**n, DAY)
            assert max(INTERVAL, 0.8 * base) <= delay <= min(1.2 * base, DAY), (n, delay)
        assert any(d != min(INTERVAL * 2**n, DAY) for n, d in enumerate(delays))
        assert delays[-1] >= 0.8 * DAY
        stored = await env.feed(a)
        assert stored.consecutive_failures == 15
        assert stored.last_error == "HTTP 500 Internal Server Error"
        assert not stored.paused
        # Still tried: once it is due, it is polled again.
        env.clock.advance(seconds=DAY)
        assert a.id in [f.id for f in await env.store.due_feeds(env.clock.now)]


async def test_admins_told_once_after_three_failures_and_once_on_recovery(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.set("/f.xml", rss([OLD]), etag='"v1"')
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/f.xml")
        await env.poll()
        feed_server.set_status("/f.xml", 500)
        for _ in range(2):
            await env.poll_when_due(feed)
        assert env.alerts == []
        await env.poll_when_due(feed)
        assert env.alerts == [
            ("feed_failing", feed.id, "failed 3 times in a row: HTTP 500 Internal Server Error")
        ]
        for _ in range(3):
            await env.poll_when_due(feed)
        assert len(env.alerts) == 1
        # Back: a 304 (the validators still match) is a recovery too.
        feed_server.set("/f.xml", rss([OLD]), etag='"v1"')
        report = await env.poll_when_due(feed)
        assert report.not_modified == 1
        assert env.alerts[1:] == [("feed_recovered", feed.id, "works again")]
        stored = await env.feed(feed)
        assert (stored.consecutive_failures, stored.failure_alerted) == (0, False)
        await env.poll_when_due(feed)
        assert len(env.alerts) == 2
        # Fewer than three failures and back: nobody is bothered.
        feed_server.set_status("/f.xml", 502)
        await env.poll_when_due(feed)
        feed_server.set("/f.xml", rss([OLD]), etag='"v1"')
        await env.poll_when_due(feed)
        assert len(env.alerts) == 2


async def test_410_pauses_the_feed_and_tells_admins(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.set("/f.xml", rss([OLD]))
    feed_server.set("/other.xml", rss([MID]))
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/f.xml")
        other = await env.add_feed("/other.xml")
        await env.poll()
        feed_server.set_status("/f.xml", 410)
        await env.poll_when_due(feed)
        stored = await env.feed(feed)
        assert stored.paused
        assert stored.last_error == (
            "HTTP 410 Gone: the publisher removed this feed;"
            f" paused (/resumefeed {feed.id} to retry)"
        )
        assert env.alerts == [("feed_gone", feed.id, stored.last_error)]
        env.clock.advance(seconds=2 * DAY)
        assert [f.id for f in await env.store.due_feeds(env.clock.now)] == [other.id]
        requests = len(feed_server.requests_to("/f.xml"))
        report = await env.poll()
        assert report.polled == 1
        assert len(feed_server.requests_to("/f.xml")) == requests


async def test_an_alert_that_fails_does_not_count_as_a_feed_failure(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async def broken_alert(kind: str, feed: object, text: str) -> None:
        raise RuntimeError("the alert channel is down")

    feed_server.set_status("/f.xml", 410)
    async with poll_env(tmp_path, feed_server, alert=broken_alert) as env:
        feed = await env.add_feed("/f.xml")
        report = await env.poll()
        assert report.failed == 1
        stored = await env.feed(feed)
        assert stored.consecutive_failures == 1
        assert stored.last_error is not None and "410" in stored.last_error


# --- redirects ------------------------------------------------------------------------------


async def test_a_permanent_redirect_chain_updates_the_url(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.set_redirect("/old.xml", "/mid.xml", 301)
    feed_server.set_redirect("/mid.xml", feed_server.url("/new.xml"), 308)
    feed_server.set("/new.xml", rss([OLD]), etag='"v1"')
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/old.xml")
        report = await env.poll()
        assert report.changed == 1
        assert (await env.feed(feed)).url == feed_server.url("/new.xml")
        await env.poll_when_due(feed)
        assert len(feed_server.requests_to("/old.xml")) == 1
        assert len(feed_server.requests_to("/new.xml")) == 2
        assert feed_server.requests_to("/new.xml")[-1].headers["If-None-Match"] == '"v1"'


async def test_a_chain_with_a_temporary_hop_keeps_the_url(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.set_redirect("/old.xml", "/mid.xml", 301)
    feed_server.set_redirect("/mid.xml", "/new.xml", 302)
    feed_server.set("/new.xml", rss([OLD]))
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/old.xml")
        assert (await env.poll()).changed == 1
        assert (await env.feed(feed)).url == feed_server.url("/old.xml")


@pytest.mark.parametrize("other_removed", [False, True])
async def test_a_redirect_to_another_feeds_url_keeps_ours(
    tmp_path: Path, feed_server: FeedServer, other_removed: bool
) -> None:
    feed_server.set_redirect("/old.xml", "/new.xml", 301)
    feed_server.set("/new.xml", rss([OLD]))
    async with poll_env(tmp_path, feed_server) as env:
        other = await env.add_feed("/new.xml")
        if other_removed:
            await env.store.remove_feed(other.id)
        feed = await env.add_feed("/old.xml")
        report = await env.poll()
        assert report.failed == 0
        stored = await env.feed(feed)
        assert stored.url == feed_server.url("/old.xml")
        assert stored.consecutive_failures == 0 and stored.last_error is None
        assert await env.store.feed_item_count(feed.id) == 1


# --- spread over the interval, on a steady phase ---------------------------------------------


async def test_feeds_are_spread_over_the_interval_and_keep_their_phase(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    count, tick = 60, 10.0
    for i in range(count):
        feed_server.set(f"/f{i}.xml", rss([Entry(f"g{i}", f"T{i}", "x", D1)]), etag=f'"e{i}"')
    async with poll_env(tmp_path, feed_server) as env:
        feeds = [await env.add_feed(f"/f{i}.xml") for i in range(count)]
        start = env.clock.now
        assert (await env.poll()).polled == count  # all new: all at once
        polled_at: dict[int, list[datetime]] = collections.defaultdict(list)
        scheduled: dict[int, list[datetime]] = collections.defaultdict(list)
        for f in feeds:
            polled_at[f.id].append(start)
            next_at = (await env.feed(f)).next_poll_at
            assert next_at is not None
            scheduled[f.id].append(next_at)
        # From then on, the poll job ticks every 10 s for four intervals, as in the bot.
        per_tick: list[int] = []
        for _ in range(int(4 * INTERVAL / tick)):
            env.clock.advance(seconds=tick)
            report = await env.poll()
            per_tick.append(report.polled)
            assert report.failed == 0
            for f in await env.store.list_feeds():
                assert f.next_poll_at is not None
                if f.next_poll_at != scheduled[f.id][-1]:
                    polled_at[f.id].append(env.clock.now)
                    scheduled[f.id].append(f.next_poll_at)
        # Spread: ~2 feeds per tick on average; never a crowd in one tick.
        assert max(per_tick) <= 8, per_tick
        for f in feeds:
            times = polled_at[f.id]
            slots = scheduled[f.id]
            assert len(times) >= 4
            # The first one after a poll-everything is never early…
            assert slots[0] - times[0] >= timedelta(seconds=INTERVAL)
            # …and then the slots are exactly one interval apart (the phase holds),
            # each poll at most a tick late, so polls are an interval apart give or
            # take a tick, never a skipped interval.
            for earlier, later in itertools.pairwise(slots[1:]):
                assert (later - earlier).total_seconds() == pytest.approx(INTERVAL, abs=1e-3)
            for earlier, later in itertools.pairwise(times[1:]):
                assert abs((later - earlier).total_seconds() - INTERVAL) <= tick


# --- concurrency ---------------------------------------------------------------------------


class CountingFeedServer(FeedServer):
    """Counts requests in flight per Host header; remembers the order of arrival."""

    def __init__(self) -> None:
        super().__init__()
        self.active: collections.Counter[str] = collections.Counter()
        self.peak: collections.Counter[str] = collections.Counter()
        self.arrivals: list[str] = []
        self.client_ports: set[int] = set()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        host = request.host.rsplit(":", 1)[0]
        self.arrivals.append(request.path)
        if request.transport is not None:
            self.client_ports.add(int(request.transport.get_extra_info("peername")[1]))
        self.active[host] += 1
        self.peak[host] = max(self.peak[host], self.active[host])
        try:
            return await super()._handle(request)
        finally:
            self.active[host] -= 1


async def test_at_most_two_fetches_per_host_and_other_hosts_are_not_starved(
    tmp_path: Path,
) -> None:
    server = CountingFeedServer()
    await server.start()
    try:
        body = rss([OLD])
        for i in range(6):
            server.set_slow(f"/slow{i}.xml", body, chunk_size=len(body) // 3 + 1, delay=0.05)
        server.set("/other.xml", rss([MID]))
        # Three global slots: with the host limit taken first, the third is free
        # for a feed on another host while the slow host's feeds queue.
        async with poll_env(tmp_path, server, max_concurrent=3) as env:
            for i in range(6):
                await env.add_feed(f"/slow{i}.xml")
            other = await env.store.add_feed(
                f"http://localhost:{server.port}/other.xml", "other host"
            )
            report = await env.poll()
        assert (report.polled, report.changed, report.failed) == (7, 7, 0)
        assert server.peak["127.0.0.1"] == MAX_PER_HOST
        assert server.peak["localhost"] == 1
        assert "/other.xml" in server.arrivals[:3], server.arrivals
        assert other.id == 7
    finally:
        await server.close()


async def test_unchanged_feeds_reuse_connections(tmp_path: Path) -> None:
    # A 304 must hand its connection back to the pool: 1,000 unchanged feeds
    # should not cost 1,000 TCP handshakes per cycle.
    server = CountingFeedServer()
    await server.start()
    try:
        for i in range(10):
            server.set(f"/f{i}.xml", rss([OLD]), etag=f'"e{i}"')
        async with poll_env(tmp_path, server) as env:
            for i in range(10):
                await env.add_feed(f"/f{i}.xml")
            await env.poll()
            server.client_ports.clear()
            for _ in range(3):
                report = await env.poller.poll_due(force=True)
                assert report.not_modified == 10
        assert 1 <= len(server.client_ports) <= MAX_PER_HOST
    finally:
        await server.close()


# --- what counts as news --------------------------------------------------------------------


async def test_a_body_cut_short_stores_what_is_whole_and_the_rest_comes_next_time(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A proxy cuts the body inside the new statement (and keeps the ETag): the whole
    statements are stored, the cut one is not, no validator is kept, and the next
    poll fetches the body in full and pushes the statement once, with its lead."""
    feed_server.set("/f.xml", rss([MID, OLD]), etag='"v1"')
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/f.xml")
        await env.store.upsert_chat(USER_CHAT, "private", "Uma")
        await env.store.subscribe(USER_CHAT, [feed.id])
        await env.poll()

        full = rss([MID, OLD, NEW])  # the new statement last, as some feeds order them
        cut = full[: full.index(b"The Ministry responded") + 8]
        feed_server.set("/f.xml", cut, etag='"v2"')
        second = await env.poll_when_due(feed)
        assert (second.changed, second.new_items, second.failed) == (1, 0, 0)
        assert (await env.feed(feed)).etag is None

        feed_server.set("/f.xml", full, etag='"v2"')
        third = await env.poll_when_due(feed)
        assert "If-None-Match" not in feed_server.requests_to("/f.xml")[-1].headers
        assert (third.new_items, third.queued) == (1, 1)
        [row] = await env.store.outbox_rows_for_chat(USER_CHAT)
        pushed = await env.store.get_item(row.item_id or 0)
        assert pushed is not None and pushed.summary == "The Ministry responded today."


async def test_news_rules_identity_duplicates_and_the_seven_day_rule(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.set("/f.xml", rss([MID, OLD]))
    async with poll_env(tmp_path, feed_server) as env:
        feed = await env.add_feed("/f.xml")
        await env.store.upsert_chat(USER_CHAT, "private", "Uma")
        await env.store.subscribe(USER_CHAT, [feed.id])

        first = await env.poll()
        assert first.new_items == 2 and first.queued == 0  # backlog: stored, not pushed

        # A new statement, the same one twice (same guid), and an old one (more than
        # 7 days older than the newest stored) that slid in: stored, not pushed.
        stale = Entry("s0", "Old news", "From November.", "Tue, 23 Nov 2021 10:00:00 GMT")
        dup = Entry("s3", "Sanctions (copy)", "Second copy.", D3)
        feed_server.set("/f.xml", rss([NEW, dup, MID, OLD, stale]))
        second = await env.poll_when_due(feed)
        assert (second.new_items, second.queued) == (2, 1)
        rows = await env.store.outbox_rows_for_chat(USER_CHAT)
        assert len(rows) == 1
        pushed = await env.store.get_item(rows[0].item_id or 0)
        assert pushed is not None and pushed.title == "Sanctions"
        assert await env.store.feed_item_count(feed.id) == 4

        # The statement's text is corrected: same identity, text updated, not pushed again.
        edited = Entry("s3", "Sanctions: corrected", "The Ministry responded today, again.", D3)
        feed_server.set("/f.xml", rss([edited, MID, OLD, stale]))
        third = await env.poll_when_due(feed)
        assert (third.changed, third.new_items, third.queued) == (1, 0, 0)
        assert len(await env.store.outbox_rows_for_chat(USER_CHAT)) == 1
        assert await env.store.feed_item_count(feed.id) == 4
        updated = await env.store.get_item(pushed.id)
        assert updated is not None
        assert updated.title == "Sanctions: corrected"
        assert updated.summary == "The Ministry responded today, again."


USER_CHAT = 2002
TITLE = "Embassy"  # the feed, as the admin's alerts name it


# --- the whole bot: what an admin sees ---------------------------------------------------------


async def _add_through_telegram(rig: Rig, path: str) -> int:
    reply = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url(path)}")
    assert "Added feed" in (reply.plain_text or ""), reply.plain_text
    [feed] = [f for f in await rig.services.store.list_feeds() if f.url.endswith(path)]
    return feed.id


async def _poll_later(rig: Rig, seconds: float = DAY + 60) -> None:
    rig.clock.advance(seconds=seconds)
    await rig.run_job("poll")
    await rig.wait_delivered()


async def test_an_admin_hears_once_when_a_feed_breaks_and_once_when_it_recovers(
    rig: Rig,
) -> None:
    rig.feeds.set("/f.xml", rss([OLD], title=TITLE), etag='"v1"')
    rig.feeds.set("/ok.xml", rss([MID], title=TITLE), etag='"ok"')
    feed_id = await _add_through_telegram(rig, "/f.xml")
    await _add_through_telegram(rig, "/ok.xml")
    before = len(rig.api.messages(ADMIN))

    rig.feeds.set_status("/f.xml", 500)
    for _ in range(5):
        await _poll_later(rig)
    alerts = rig.texts(ADMIN)[before:]
    assert alerts == [
        f"⚠️ Feed failing\nfeed {feed_id}, Embassy: "
        "failed 3 times in a row: HTTP 500 Internal Server Error"
    ]
    # The healthy feed went on being polled the whole time.
    assert len(rig.feeds.requests_to("/ok.xml")) == 6

    rig.feeds.set("/f.xml", rss([OLD], title=TITLE), etag='"v1"')
    await _poll_later(rig)
    await _poll_later(rig)
    assert rig.texts(ADMIN)[before + 1 :] == [
        f"✅ Feed recovered\nfeed {feed_id}, Embassy: works again"
    ]


async def test_a_410_pauses_the_feed_and_the_admin_is_told(rig: Rig) -> None:
    rig.feeds.set("/f.xml", rss([OLD], title=TITLE))
    feed_id = await _add_through_telegram(rig, "/f.xml")
    before = len(rig.api.messages(ADMIN))
    rig.feeds.set_status("/f.xml", 410)
    await _poll_later(rig)
    [alert] = rig.texts(ADMIN)[before:]
    assert alert.startswith(f"⛔ Feed gone, paused\nfeed {feed_id}, Embassy: HTTP 410 Gone")
    assert (await rig.services.store.get_feed(feed_id)).paused
    await _poll_later(rig)
    assert len(rig.feeds.requests_to("/f.xml")) == 2  # /addfeed's fetch and the 410
    status = await rig.reply_to(ADMIN, ADMIN, "/feedstatus")
    assert "paused" in (status.plain_text or "").lower()

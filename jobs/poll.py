"""Polling: fetch → parse → store, for every due feed, each in its own try/except.

One bad feed never hurts the others: its failure is recorded with a readable
reason, it backs off, and admins hear when it breaks and when it recovers.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from jobs.fetch import DEFAULT_MAX_BYTES, TOTAL_TIMEOUT, FetchResult, fetch_feed
from jobs.fetch_errors import FeedGoneError, FetchError
from jobs.hosts import HostLimiter
from jobs.netguard import Resolver
from jobs.parse import NotAFeedError, ParsedFeed
from jobs.parse_worker import FeedParser, ParserClosedError
from jobs.schedule import (
    MAX_DELAY,
    next_poll_after_failure,
    next_poll_after_success,
    spread_offset,
)
from jobs.urls import normalise_feed_url
from storage.api import StoreAPI
from storage.errors import FeedExistsError, FeedNotFoundError
from storage.models import Feed
from storage.store import PollOutcome
from text.dates import Clock

log = logging.getLogger(__name__)

# kind ('feed_failing', 'feed_recovered', 'feed_gone'), feed, readable text
AlertHook = Callable[[str, Feed, str], Awaitable[None]]

MAX_CONCURRENT_FETCHES = 20
MAX_PER_HOST = 2
# A poll that ran late (the job ticks every few seconds, fetches take time) may
# schedule its next one up to this share of an interval early, by no more than
# it was late, so that the feed keeps its phase instead of slipping a whole
# interval. Scheduled times stay exactly one interval apart.
PHASE_SLACK = 0.1
# Float rounding must not push an on-phase poll a whole interval later.
_EPSILON = 1e-3


@dataclass(slots=True)
class CycleReport:
    polled: int = 0
    changed: int = 0
    not_modified: int = 0
    failed: int = 0
    new_items: int = 0
    queued: int = 0


@dataclass(frozen=True, slots=True)
class AddedFeed:
    feed: Feed
    stored: int


class Poller:
    """Polls feeds that are due, politely and concurrently."""

    def __init__(
        self,
        store: StoreAPI,
        client: httpx.AsyncClient,
        *,
        poll_interval: float,
        allow_private: bool,
        clock: Clock,
        resolver: Resolver | None = None,
        alert: AlertHook | None = None,
        rng: random.Random | None = None,
        max_concurrent: int = MAX_CONCURRENT_FETCHES,
        fetch_timeout: float = TOTAL_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._store = store
        self._client = client
        self._interval = poll_interval
        self._allow_private = allow_private
        self._clock = clock
        self._resolver = resolver
        self._alert = alert
        self._rng = rng or random.Random()
        self._semaphore = asyncio.Semaphore(max_concurrent)
        self._hosts = HostLimiter(MAX_PER_HOST)
        self._cycle_lock = asyncio.Lock()
        self._fetch_timeout = fetch_timeout
        self._max_bytes = max_bytes
        self._parser = FeedParser()
        # Per feed, the entries of its last stored poll as the feed wrote them
        # (jobs.parse's digests): unchanged ones skip normalising and storing. In
        # memory only: after a restart the first poll of each feed does it all.
        self._known: dict[int, dict[int, int]] = {}

    def close(self) -> None:
        """Stop the parser process, if a big feed started one."""
        self._parser.close()

    async def poll_due(self, *, force: bool = False) -> CycleReport:
        """Poll every feed that is due (every active feed when `force`)."""
        async with self._cycle_lock:
            now = self._clock()
            feeds = (
                [f for f in await self._store.list_feeds() if not f.paused]
                if force
                else await self._store.due_feeds(now)
            )
            report = CycleReport()
            if not feeds:
                return report
            results = await asyncio.gather(
                *(self._poll_guarded(feed) for feed in feeds), return_exceptions=True
            )
            for result in results:
                report.polled += 1
                if isinstance(result, BaseException):
                    report.failed += 1
                elif isinstance(result, PollOutcome):
                    report.changed += 1
                    report.new_items += len(result.new_items)
                    report.queued += result.outbox_rows
                elif result == "not_modified":
                    report.not_modified += 1
                else:
                    report.failed += 1
            if report.changed or report.failed:
                log.info(
                    "poll cycle: %d feeds, %d changed, %d unchanged, %d failed, %d new",
                    report.polled,
                    report.changed,
                    report.not_modified,
                    report.failed,
                    report.new_items,
                )
            return report

    async def _poll_guarded(self, feed: Feed) -> PollOutcome | str | None:
        try:
            return await self.poll_feed(feed)
        except FeedNotFoundError:
            # Removed by an admin while its fetch was in flight: nothing to record.
            log.info("feed %d was removed while being polled", feed.id)
            return None
        except ParserClosedError:
            # The bot is stopping: not the feed's failure; it is polled after the restart.
            log.info("feed %d: poll abandoned, the bot is stopping", feed.id)
            return None
        except Exception:
            # A bug, not the feed's fault; still one failure stays one failure, and
            # it backs off and reaches the admins like any other.
            log.exception("feed %d (%s): unexpected error while polling", feed.id, feed.url)
            try:
                await self._failed(feed, "internal error while polling (see the bot's log)")
            except Exception:
                log.exception("feed %d: could not record the failure", feed.id)
            return None

    async def poll_feed(self, feed: Feed) -> PollOutcome | str | None:
        """Poll one feed. Returns the outcome, "not_modified", or None on failure."""
        try:
            result = await self._fetch(
                feed.url, etag=feed.etag, last_modified=feed.last_modified, previous=feed
            )
        except FeedGoneError as exc:
            await self._failed(feed, f"{exc}; paused (/resumefeed {feed.id} to retry)", pause=True)
            return None
        except FetchError as exc:
            await self._failed(feed, str(exc), retry_after=exc.retry_after)
            return None

        # The store keeps the old URL if another feed (even a removed one) has it.
        permanent = result.permanent_url if result.permanent_url != feed.url else None
        if result.not_modified:
            next_at = self._next_success(feed, result, ttl=feed.ttl_seconds)
            recovered = await self._store.record_not_modified(
                feed.id,
                etag=result.etag,
                last_modified=result.last_modified,
                next_poll_at=next_at,
                url=permanent,
            )
            await self._recovered(feed, recovered)
            return "not_modified"

        assert result.content is not None
        try:
            parsed = await self._parser.parse(
                result.content,
                url=result.url,
                headers=result.headers,
                known=self._known.get(feed.id),
            )
        except NotAFeedError as exc:
            await self._failed(feed, str(exc))
            return None
        outcome = await self._store_parsed(feed, result, parsed, url=permanent, push=True)
        if outcome.new_items:
            log.info(
                "feed %d: %d new statement(s), %d queued message(s)%s",
                feed.id,
                len(outcome.new_items),
                outcome.outbox_rows,
                " (first poll: stored, not pushed)" if outcome.backlog else "",
            )
        await self._recovered(feed, outcome.recovered)
        return outcome

    async def probe(self, url: str) -> tuple[FetchResult, ParsedFeed]:
        """Fetch and parse a URL once (for /addfeed). Raises FetchError or NotAFeedError."""
        result = await self._fetch(url, etag=None, last_modified=None, previous=None)
        if result.content is None:
            raise FetchError("the server answered 304 to a request without validators")
        parsed = await self._parser.parse(result.content, url=result.url, headers=result.headers)
        return result, parsed

    async def add_feed(self, url: str, title: str | None = None) -> AddedFeed:
        """Fetch a new feed once and store its backlog without pushing anything.

        Raises FetchError / NotAFeedError (nothing stored) or FeedExistsError.
        """
        typed = url.strip()
        try:
            url = normalise_feed_url(url)
        except ValueError as exc:
            raise FetchError(f"refused: {exc}") from None
        # Feeds added before URLs were normalised are stored as they were typed.
        for spelling in dict.fromkeys((url, typed)):
            existing = await self._store.feed_by_url(spelling)
            if existing is not None:
                raise FeedExistsError(url, existing.id)
        result, parsed = await self.probe(url)
        final_url = result.permanent_url or url
        feed = await self._store.add_feed(final_url, title)
        outcome = await self._store_parsed(feed, result, parsed, url=None, push=False)
        return AddedFeed(await self._store.get_feed(feed.id), len(outcome.new_items))

    async def _store_parsed(
        self, feed: Feed, result: FetchResult, parsed: ParsedFeed, *, url: str | None, push: bool
    ) -> PollOutcome:
        """Store a parsed poll and remember what the next poll of this feed needs."""
        # A body cut short keeps no validators: the next poll fetches it whole.
        whole = parsed.whole
        outcome = await self._store.record_poll(
            feed.id,
            parsed.entries,
            feed_title=parsed.title,
            etag=result.etag if whole else None,
            last_modified=result.last_modified if whole else None,
            content_hash=result.content_hash if whole else None,
            next_poll_at=self._next_success(feed, result, ttl=parsed.ttl_seconds),
            url=url,
            push=push,
            # A 304 or an identical body does not repeat the <ttl>: the store keeps it.
            ttl_seconds=parsed.ttl_seconds,
        )
        self._known[feed.id] = parsed.digests
        return outcome

    async def _fetch(
        self, url: str, *, etag: str | None, last_modified: str | None, previous: Feed | None
    ) -> FetchResult:
        # The host slot first, then a global one: a task waiting for a busy host
        # must not sit on a global slot that a feed on another host could use.
        async with self._hosts.limit(url), self._semaphore:
            return await fetch_feed(
                self._client,
                url,
                etag=etag,
                last_modified=last_modified,
                previous_hash=previous.content_hash if previous else None,
                allow_private=self._allow_private,
                resolver=self._resolver,
                max_bytes=self._max_bytes,
                total_timeout=self._fetch_timeout,
                now=self._clock(),
            )

    def _next_success(self, feed: Feed, result: FetchResult, *, ttl: int | None) -> datetime:
        """The interval (or what the server asked for, if longer), on the feed's phase.

        The server's time is never shortened: only a plain interval may be moved
        early, by at most the poll's own lateness and a tenth of the interval.
        Never later than a day (or the interval, if longer).
        """
        now = self._clock()
        target = next_poll_after_success(
            now, poll_interval=self._interval, cache_seconds=result.cache_seconds, ttl_seconds=ttl
        )
        slack = 0.0
        if target <= now + timedelta(seconds=self._interval) and feed.next_poll_at is not None:
            late = (now - feed.next_poll_at).total_seconds()
            slack = min(max(late, 0.0), PHASE_SLACK * self._interval)
        latest = now + timedelta(seconds=max(MAX_DELAY, self._interval))
        return min(self._aligned(feed.id, target, slack=slack), latest)

    def _aligned(self, feed_id: int, target: datetime, *, slack: float) -> datetime:
        """The first time on the feed's phase of the interval at or after
        `target - slack`, so that feeds are spread over the interval instead of
        all polled in the same second."""
        interval = self._interval
        offset = spread_offset(feed_id, interval)
        seconds = target.timestamp() - slack - _EPSILON
        steps = math.ceil((seconds - offset) / interval)
        aligned = steps * interval + offset
        return datetime.fromtimestamp(aligned, target.tzinfo)

    async def _failed(
        self,
        feed: Feed,
        error: str,
        *,
        retry_after: float | None = None,
        pause: bool = False,
    ) -> None:
        log.warning("feed %d (%s): %s", feed.id, feed.url, error)
        next_at = next_poll_after_failure(
            self._clock(),
            poll_interval=self._interval,
            consecutive_failures=feed.consecutive_failures + 1,
            retry_after=retry_after,
            rng=self._rng,
        )
        outcome = await self._store.record_failure(
            feed.id, error, next_poll_at=next_at, pause=pause
        )
        if pause:
            await self._tell_admins("feed_gone", feed, error)
        elif outcome.should_alert:
            await self._tell_admins(
                "feed_failing",
                feed,
                f"failed {outcome.consecutive_failures} times in a row: {error}",
            )

    async def _recovered(self, feed: Feed, recovered: bool) -> None:
        if recovered:
            log.info("feed %d (%s) recovered", feed.id, feed.url)
            await self._tell_admins("feed_recovered", feed, "works again")

    async def _tell_admins(self, kind: str, feed: Feed, text: str) -> None:
        if self._alert is None:
            return
        try:
            await self._alert(kind, feed, text)
        except Exception:
            # The poll itself succeeded or was recorded; a failing alert must not
            # count as another failure of the feed.
            log.exception("feed %d: could not send the %s alert", feed.id, kind)

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

from jobs.fetch import FeedGoneError, FetchError, FetchResult, HostLimiter, fetch_feed
from jobs.netguard import Resolver
from jobs.parse import NotAFeedError, ParsedFeed, parse_feed
from jobs.schedule import next_poll_after_failure, next_poll_after_success, spread_offset
from storage.errors import FeedExistsError
from storage.models import Feed
from storage.store import PollOutcome, Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# kind ('feed_failing', 'feed_recovered', 'feed_gone'), feed, readable text
AlertHook = Callable[[str, Feed, str], Awaitable[None]]

MAX_CONCURRENT_FETCHES = 20
MAX_PER_HOST = 2


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
        store: Store,
        client: httpx.AsyncClient,
        *,
        poll_interval: float,
        allow_private: bool,
        clock: Clock,
        resolver: Resolver | None = None,
        alert: AlertHook | None = None,
        rng: random.Random | None = None,
        max_concurrent: int = MAX_CONCURRENT_FETCHES,
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
        except Exception:
            # A bug, not the feed's fault; still one failure stays one failure.
            log.exception("feed %d (%s): unexpected error while polling", feed.id, feed.url)
            try:
                await self._store.record_failure(
                    feed.id,
                    "internal error while polling (see the bot's log)",
                    next_poll_at=self._clock() + timedelta(seconds=self._interval),
                )
            except Exception:
                log.exception("feed %d: could not record the failure", feed.id)
            return None

    async def poll_feed(self, feed: Feed) -> PollOutcome | str | None:
        """Poll one feed. Returns the outcome, "not_modified", or None on failure."""
        try:
            async with self._semaphore, self._hosts.limit(feed.url):
                result = await fetch_feed(
                    self._client,
                    feed.url,
                    etag=feed.etag,
                    last_modified=feed.last_modified,
                    previous_hash=feed.content_hash,
                    allow_private=self._allow_private,
                    resolver=self._resolver,
                    now=self._clock(),
                )
        except FeedGoneError as exc:
            await self._failed(feed, f"the feed is gone (HTTP 410): paused; {exc}", pause=True)
            return None
        except FetchError as exc:
            await self._failed(feed, str(exc), retry_after=exc.retry_after)
            return None

        permanent = result.permanent_url if result.permanent_url != feed.url else None
        if permanent and await self._store.feed_by_url(permanent) is not None:
            # Another feed already has that URL; keep ours rather than break uniqueness.
            permanent = None
        if result.not_modified:
            next_at = self._next_success(feed, result, ttl=None)
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
            parsed = await asyncio.to_thread(
                parse_feed, result.content, url=result.url, headers=result.headers
            )
        except NotAFeedError as exc:
            await self._failed(feed, str(exc))
            return None
        outcome = await self._store.record_poll(
            feed.id,
            parsed.entries,
            feed_title=parsed.title,
            etag=result.etag,
            last_modified=result.last_modified,
            content_hash=result.content_hash,
            next_poll_at=self._next_success(feed, result, ttl=parsed.ttl_seconds),
            url=permanent,
        )
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
        result = await fetch_feed(
            self._client,
            url,
            etag=None,
            last_modified=None,
            previous_hash=None,
            allow_private=self._allow_private,
            resolver=self._resolver,
            now=self._clock(),
        )
        if result.content is None:
            raise FetchError("the server answered 304 to a request without validators")
        parsed = await asyncio.to_thread(
            parse_feed, result.content, url=result.url, headers=result.headers
        )
        return result, parsed

    async def add_feed(self, url: str, title: str | None = None) -> AddedFeed:
        """Fetch a new feed once and store its backlog without pushing anything.

        Raises FetchError / NotAFeedError (nothing stored) or FeedExistsError.
        """
        existing = await self._store.feed_by_url(url)
        if existing is not None:
            raise FeedExistsError(url, existing.id)
        result, parsed = await self.probe(url)
        final_url = result.permanent_url or url
        feed = await self._store.add_feed(final_url, title)
        outcome = await self._store.record_poll(
            feed.id,
            parsed.entries,
            feed_title=parsed.title,
            etag=result.etag,
            last_modified=result.last_modified,
            content_hash=result.content_hash,
            next_poll_at=self._next_success(feed, result, ttl=parsed.ttl_seconds),
            push=False,
        )
        return AddedFeed(await self._store.get_feed(feed.id), len(outcome.new_items))

    def _next_success(self, feed: Feed, result: FetchResult, *, ttl: int | None) -> datetime:
        now = self._clock()
        target = next_poll_after_success(
            now, poll_interval=self._interval, cache_seconds=result.cache_seconds, ttl_seconds=ttl
        )
        return self._aligned(feed.id, target)

    def _aligned(self, feed_id: int, target: datetime) -> datetime:
        """Move `target` onto the feed's own phase of the interval, so that feeds are
        spread over it instead of all polled in the same second. Up to a tenth of an
        interval early (so a poll that ran late keeps its phase), otherwise later."""
        interval = self._interval
        offset = spread_offset(feed_id, interval)
        seconds = target.timestamp() - 0.1 * interval
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
        if self._alert is None:
            return
        if pause:
            await self._alert("feed_gone", feed, error)
        elif outcome.should_alert:
            await self._alert(
                "feed_failing",
                feed,
                f"failed {outcome.consecutive_failures} times in a row: {error}",
            )

    async def _recovered(self, feed: Feed, recovered: bool) -> None:
        if recovered and self._alert is not None:
            log.info("feed %d (%s) recovered", feed.id, feed.url)
            await self._alert("feed_recovered", feed, "works again")

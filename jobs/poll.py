"""Polling: fetch → parse → store, for every due source, each in its own try/except.

A source is a feed, or a web page read as a list of statements (jobs.page_poll
reads it, with each new statement's own page). One bad source never hurts the
others: its failure is recorded with a readable reason, it backs off, and admins
hear when it breaks and when it recovers. Adding a source starts here too: what
an address is (jobs.sources), then its first poll, which stores silently.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from jobs.fetch import DEFAULT_MAX_BYTES, TOTAL_TIMEOUT, FetchResult, fetch_feed
from jobs.fetch_errors import FeedGoneError, FetchError
from jobs.hosts import HostLimiter
from jobs.html_page import is_html_page
from jobs.netguard import Resolver
from jobs.page_list import PageListError, Selectors
from jobs.page_poll import BACKLOG_PAGES, PageRead, PageReader, judge_list, list_not_found
from jobs.parse import NotAFeedError, ParsedFeed
from jobs.parse_worker import FeedParser, ParserClosedError
from jobs.schedule import (
    MAX_DELAY,
    next_poll_after_failure,
    next_poll_after_success,
    spread_offset,
)
from jobs.sources import FeedFound, FeedsFound, PageFound, SourceFinder, SourceFound
from jobs.urls import normalise_feed_url
from storage.errors import FeedExistsError, FeedNotFoundError
from storage.models import Detection, Feed, NewItem
from storage.store import PollOutcome, Store
from text.dates import Clock
from text.i18n import N_
from text.phrase import Phrase

log = logging.getLogger(__name__)

# kind ('feed_failing', 'feed_recovered', 'feed_gone', 'page_layout_changed'), feed,
# readable text (English; a text.phrase.Phrase when it can be said in other languages)
AlertHook = Callable[[str, Feed, str], Awaitable[None]]

# How a source never polled fails when its address is a web page with neither a feed
# nor a list: what a feed's poll says of an HTML page, then why it is no source.
NOT_A_FEED_BUT_HTML = "not a feed: the server sent an HTML page"

MAX_CONCURRENT_FETCHES = 20
MAX_PER_HOST = 2
# A poll that ran late (the job ticks every few seconds, fetches take time) may
# schedule its next one up to this share of an interval early, by no more than
# it was late, so that the feed keeps its phase instead of slipping a whole
# interval. Scheduled times stay exactly one interval apart.
PHASE_SLACK = 0.1
# Float rounding must not push an on-phase poll a whole interval later.
_EPSILON = 1e-3


def list_moved(where: str, count: int) -> Phrase:
    """What admins are told when a page's list moved (now `where`, holding `count`
    statements) and holds nothing stored before; each reads it in their language."""
    return Phrase.ngettext(
        "the list of statements is no longer where it was (now {where}, {count} statement(s)),"
        " and it holds none of the statements stored before: its statements were stored"
        " without being pushed. If that is not the list, remove the page and add it again"
        " with /addpage selectors.",
        "the list of statements is no longer where it was (now {where}, {count} statement(s)),"
        " and it holds none of the statements stored before: its statements were stored"
        " without being pushed. If that is not the list, remove the page and add it again"
        " with /addpage selectors.",
        count,
        where=where,
        count=count,
    )


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
    pages: int = 1  # a page source: pages of its list read for the backlog


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
        fetch_timeout: float = TOTAL_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        source_zone: str | None = None,
    ) -> None:
        """`source_zone`: where the dates a web page writes without a zone are read
        (the bot's TIMEZONE); UTC when None."""
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
        self._pages = PageReader(self._fetch, self._parser, zone=source_zone)
        self._finder = SourceFinder(store, self._fetch, self._parser, zone=source_zone)

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
        """Poll one source. Returns the outcome, "not_modified", or None on failure."""
        result = await self._fetch_source(feed)
        if result is None:
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
        if feed.is_page:
            return await self._poll_page(feed, result, url=permanent)

        assert result.content is not None
        try:
            parsed = await self._parser.parse(
                result.content,
                url=result.url,
                headers=result.headers,
                known=self._known.get(feed.id),
            )
        except NotAFeedError as exc:
            if feed.last_success_at is None and is_html_page(result.content, result.headers):
                # Never polled yet (an OPML import): a web page may name its feed, or
                # be a list of statements itself.
                return await self._adopt(feed, result)
            await self._failed(feed, str(exc))
            return None
        outcome = await self._store_parsed(feed, result, parsed, url=permanent, push=True)
        self._log_new(feed, outcome)
        await self._recovered(feed, outcome.recovered)
        return outcome

    async def _fetch_source(self, feed: Feed) -> FetchResult | None:
        """The source's URL fetched conditionally; None when that failed (recorded)."""
        try:
            return await self._fetch(
                feed.url,
                etag=feed.etag,
                last_modified=feed.last_modified,
                previous_hash=feed.content_hash,
            )
        except FeedGoneError as exc:
            await self._failed(feed, f"{exc}; paused (/resumefeed {feed.id} to retry)", pause=True)
        except FetchError as exc:
            await self._failed(feed, str(exc), retry_after=exc.retry_after)
        return None

    async def _poll_page(
        self, feed: Feed, result: FetchResult, *, url: str | None
    ) -> PollOutcome | None:
        """A page source: its list, what is new on it, and the new statements' own
        pages; the first poll reads up to BACKLOG_PAGES pages and pushes nothing."""
        first_poll = feed.last_success_at is None
        try:
            selectors = Selectors.from_words(feed.selectors)[0] if feed.selectors else None
            read = await self._pages.read(
                result, selectors, pages=BACKLOG_PAGES if first_poll else 1
            )
        except PageListError as exc:
            await self._failed(feed, list_not_found(exc, feed.detected_items))
            return None
        listing = read.listing
        stored = await self._store.stored_identities(feed.id, [i.identity for i in read.items])
        fresh = [item for item in read.items if item.identity not in stored]
        verdict = judge_list(
            first_poll=first_poll,
            previous=feed.detected_signature,
            signature=listing.explanation.signature,
            already_stored=len(stored),
        )
        if verdict.push and fresh:
            fresh = await self._pages.with_bodies(fresh, list_url=result.url)
        outcome = await self._store_page(feed, result, read, fresh, url=url, push=verdict.push)
        self._log_new(feed, outcome)
        if verdict.layout_changed:
            where, count = listing.explanation.signature, len(listing.items)
            log.warning(
                "page %d (%s): its list moved (now %s, %d statement(s))",
                feed.id,
                feed.url,
                where,
                count,
            )
            if not verdict.push:
                await self._tell_admins("page_layout_changed", feed, list_moved(where, count))
        await self._recovered(feed, outcome.recovered)
        return outcome

    async def _adopt(self, feed: Feed, result: FetchResult) -> PollOutcome | None:
        """A source never polled whose address is a web page: the feed it names
        becomes the source, else its list of statements; else the poll fails."""
        try:
            found = await self._finder.look_into(result, url=feed.url, as_feed=False)
        except (PageListError, FetchError, FeedExistsError) as exc:
            reason = (
                f"the page's feed is feed {exc.feed_id} already"
                if isinstance(exc, FeedExistsError)
                else str(exc)
            )
            await self._failed(feed, f"{NOT_A_FEED_BUT_HTML}; {reason}")
            return None
        if isinstance(found, FeedsFound):
            found = found.feeds[0]
        if isinstance(found, PageFound):
            log.info(
                "source %d (%s) is a web page: read as a list of statements", feed.id, feed.url
            )
            page = await self._store.set_page_source(feed.id)
            return await self._poll_page(page, result, url=None)
        log.info("source %d (%s) is a web page: polling its feed %s", feed.id, feed.url, found.url)
        try:
            moved = await self._store.set_feed_url(feed.id, found.url)
        except FeedExistsError as exc:
            await self._failed(
                feed, f"{NOT_A_FEED_BUT_HTML}; the page's feed is feed {exc.feed_id} already"
            )
            return None
        outcome = await self._store_parsed(moved, found.fetched, found.parsed, url=None, push=False)
        self._log_new(moved, outcome)
        return outcome

    def _log_new(self, feed: Feed, outcome: PollOutcome) -> None:
        if outcome.new_items:
            log.info(
                "feed %d: %d new statement(s), %d queued message(s)%s",
                feed.id,
                len(outcome.new_items),
                outcome.outbox_rows,
                " (first poll: stored, not pushed)" if outcome.backlog else "",
            )

    async def find_source(self, url: str, *, selectors: Selectors | None = None) -> SourceFound:
        """What an address is, for /addfeed and /addpage (see jobs.sources). Nothing
        is stored."""
        return await self._finder.find(url, selectors=selectors)

    async def add_feed(
        self, url: str, title: str | None = None, *, found: FeedFound | None = None
    ) -> AddedFeed:
        """Fetch a new feed once (unless `found` is that fetch) and store its backlog
        without pushing anything.

        Raises FetchError / NotAFeedError (nothing stored) or FeedExistsError.
        """
        if found is None:
            url = await self._finder.new_url(url)
            result = await self._fetch(url)
            if result.content is None:
                raise FetchError("the server answered 304 to a request without validators")
            parsed = await self._parser.parse(
                result.content, url=result.url, headers=result.headers
            )
            final_url = result.permanent_url or url
        else:
            result, parsed, final_url = found.fetched, found.parsed, found.url
        feed = await self._store.add_feed(final_url, title)
        outcome = await self._store_parsed(feed, result, parsed, url=None, push=False)
        return AddedFeed(await self._store.get_feed(feed.id), len(outcome.new_items))

    async def add_page(
        self, url: str, title: str | None = None, *, selectors: Selectors | None = None
    ) -> AddedFeed:
        """Add a web page as a source: its list is read now (up to BACKLOG_PAGES
        pages) and stored without pushing anything; new statements are pushed from
        the next poll on. Raises FetchError / PageListError (nothing stored) or
        FeedExistsError."""
        try:
            normalised = normalise_feed_url(url)
        except ValueError as exc:
            raise FetchError(f"refused: {exc}") from None
        if (existing := await self._store.feed_by_url(normalised)) is not None:
            raise FeedExistsError(normalised, existing.id)
        result = await self._fetch(normalised)
        if result.content is None:
            raise FetchError("the server answered 304 to a request without validators")
        read = await self._pages.read(result, selectors, pages=BACKLOG_PAGES)
        feed = await self._store.add_feed(
            result.permanent_url or normalised,
            title,
            kind="page",
            selectors=selectors.to_words() if selectors else None,
        )
        outcome = await self._store_page(feed, result, read, read.items, url=None, push=False)
        return AddedFeed(await self._store.get_feed(feed.id), len(outcome.new_items), read.pages)

    async def _store_page(
        self,
        feed: Feed,
        result: FetchResult,
        read: PageRead,
        new: Sequence[NewItem],
        *,
        url: str | None,
        push: bool,
    ) -> PollOutcome:
        """Store a page source's poll: its new statements, and what reading it found."""
        listing = read.listing
        return await self._store.record_poll(
            feed.id,
            # Lists run newest first: stored oldest first, so statements of one date
            # keep their order.
            new[::-1],
            feed_title=listing.title,
            etag=result.etag,
            last_modified=result.last_modified,
            content_hash=result.content_hash,
            next_poll_at=self._next_success(feed, result, ttl=None),
            url=url,
            push=push,
            language=listing.language,
            detection=Detection(listing.explanation.signature, len(listing.items)),
        )

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
            language=parsed.language,
        )
        self._known[feed.id] = parsed.digests
        return outcome

    async def _fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        previous_hash: str | None = None,
    ) -> FetchResult:
        """Every fetch of every source goes through here: the address guard on each
        hop, byte caps and one deadline (jobs.fetch), per-host and global limits."""
        # The host slot first, then a global one: a task waiting for a busy host
        # must not sit on a global slot that a feed on another host could use.
        async with self._hosts.limit(url), self._semaphore:
            return await fetch_feed(
                self._client,
                url,
                etag=etag,
                last_modified=last_modified,
                previous_hash=previous_hash,
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
            failures = outcome.consecutive_failures
            await self._tell_admins(
                "feed_failing",
                feed,
                Phrase.ngettext(
                    "failed {count} time in a row: {error}",
                    "failed {count} times in a row: {error}",
                    failures,
                    count=failures,
                    error=error,
                ),
            )

    async def _recovered(self, feed: Feed, recovered: bool) -> None:
        if recovered:
            log.info("feed %d (%s) recovered", feed.id, feed.url)
            await self._tell_admins("feed_recovered", feed, Phrase(N_("works again")))

    async def _tell_admins(self, kind: str, feed: Feed, text: str) -> None:
        if self._alert is None:
            return
        try:
            await self._alert(kind, feed, text)
        except Exception:
            # The poll itself succeeded or was recorded; a failing alert must not
            # count as another failure of the feed.
            log.exception("feed %d: could not send the %s alert", feed.id, kind)

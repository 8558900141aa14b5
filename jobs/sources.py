"""What is at an address an admin gave: a feed, a page that names feeds, or a page
whose list of statements can be followed (what /addfeed, /addpage and a first poll
of an imported address need to know).

The address is fetched once. A feed is a feed. A web page is looked into (in the
parse worker): the feeds it advertises are fetched and parsed, and those that are
real feeds offered; when it advertises none, the well-known feed paths of its site
are tried in order, up to the first real feed; when there is no feed at all, its
list of statements is the source. Every fetch goes through the poller's (address
guard on every hop, per-host limits, byte caps); nothing is fetched from another
site except a feed the page itself names.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from jobs.discovery import well_known_feed_urls
from jobs.fetch import FetchResult
from jobs.fetch_errors import FetchError
from jobs.html_page import is_html_page
from jobs.page_list import NotAListError, PageList, Selectors
from jobs.parse import NotAFeedError, ParsedFeed
from jobs.parse_worker import FeedParser
from jobs.urls import normalise_feed_url
from storage.errors import FeedExistsError
from storage.store import Store

log = logging.getLogger(__name__)

# Advertised feeds checked at most (a page may name dozens: comments, categories).
MAX_ADVERTISED = 4

Fetch = Callable[[str], Awaitable[FetchResult]]


@dataclass(frozen=True, slots=True)
class FeedFound:
    """A real feed: the address itself, or the one feed found for a page."""

    url: str  # as it is stored (normalised; after permanent redirects)
    fetched: FetchResult
    parsed: ParsedFeed
    via: Literal["address", "advertised", "well-known"]


@dataclass(frozen=True, slots=True)
class FeedsFound:
    """A page that names several real feeds: the admin picks one."""

    page_url: str
    feeds: list[FeedFound]


@dataclass(frozen=True, slots=True)
class PageFound:
    """A page with no feed, and its list of statements."""

    url: str  # as it is stored
    listing: PageList
    selectors: Selectors | None  # the admin's, or None: detected
    feeds_tried: int  # feed addresses fetched and found to be no feed


SourceFound = FeedFound | FeedsFound | PageFound


class SourceFinder:
    def __init__(self, store: Store, fetch: Fetch, parser: FeedParser, *, zone: str | None) -> None:
        self._store = store
        self._fetch = fetch
        self._parser = parser
        self._zone = zone

    async def find(self, typed: str, *, selectors: Selectors | None = None) -> SourceFound:
        """What `typed` is. With `selectors`, it is read as a page with them, and no
        feed is looked for. Raises FetchError (the address cannot be fetched or is
        refused), FeedExistsError (it, or every feed it names, is a source
        already), NotAFeedError (neither a feed nor a web page), PageListError
        (NotAListError: a page with no feed and no list; SelectorError)."""
        url = await self.new_url(typed)
        result = await self._fetch(url)
        if result.content is None:
            raise FetchError("the server answered 304 to a request without validators")
        stored_url = result.permanent_url or url
        if selectors is not None:
            listing = await self._parser.read_list(
                result.content,
                url=result.url,
                headers=result.headers,
                selectors=selectors,
                zone=self._zone,
            )
            return PageFound(stored_url, listing, selectors, 0)
        return await self.look_into(result, url=stored_url)

    async def look_into(
        self, result: FetchResult, *, url: str, as_feed: bool = True
    ) -> SourceFound:
        """What a fetched address is (see `find`): a feed, a page naming feeds, or a
        page with a list. `url` is the address as it would be stored; `as_feed`
        False: the caller found already that the body is a web page, no feed."""
        assert result.content is not None
        if as_feed:
            try:
                parsed = await self._parser.parse(
                    result.content, url=result.url, headers=result.headers
                )
                return FeedFound(url, result, parsed, "address")
            except NotAFeedError:
                if not is_html_page(result.content, result.headers):
                    raise
        inspection = await self._parser.inspect_page(
            result.content, url=result.url, headers=result.headers, zone=self._zone
        )
        advertised = [feed.url for feed in inspection.advertised[:MAX_ADVERTISED]]
        found = [
            feed
            for feed in await asyncio.gather(*(self._feed_at(u, "advertised") for u in advertised))
            if feed is not None
        ]
        tried = len(advertised)
        if not found:
            for candidate in well_known_feed_urls(result.url):
                tried += 1
                if (feed := await self._feed_at(candidate, "well-known")) is not None:
                    found.append(feed)
                    break
        found = list({feed.url: feed for feed in found}.values())  # two names, one feed
        if found:
            return await self._offer(found, page_url=url)
        if inspection.listing is not None:
            return PageFound(url, inspection.listing, None, tried)
        refusal = inspection.refusal or "no list of statements found"
        tried_text = f"{tried} address tried" if tried == 1 else f"{tried} addresses tried"
        raise NotAListError(f"the page names no feed ({tried_text}), and {refusal}")

    async def _offer(self, found: list[FeedFound], *, page_url: str) -> SourceFound:
        """The feeds found, without those that are sources already; when every one
        is, that is the answer (FeedExistsError)."""
        new: list[FeedFound] = []
        there: FeedExistsError | None = None
        for feed in found:
            existing = await self._store.feed_by_url(feed.url)
            if existing is None:
                new.append(feed)
            elif there is None:
                there = FeedExistsError(feed.url, existing.id)
        if not new:
            assert there is not None
            raise there
        return new[0] if len(new) == 1 else FeedsFound(page_url, new)

    async def _feed_at(
        self, url: str, via: Literal["advertised", "well-known"]
    ) -> FeedFound | None:
        """The feed at `url`, or None when it cannot be fetched or is no feed."""
        try:
            result = await self._fetch(url)
            if result.content is None:
                return None
            parsed = await self._parser.parse(
                result.content, url=result.url, headers=result.headers
            )
        except (FetchError, NotAFeedError) as exc:
            log.info("no feed at %s: %s", url, exc)
            return None
        if not parsed.entries and not parsed.title:
            return None
        try:
            stored_url = normalise_feed_url(result.permanent_url or url)
        except ValueError:
            return None
        return FeedFound(stored_url, result, parsed, via)

    async def new_url(self, typed: str) -> str:
        """The address normalised; FeedExistsError when a source has it already."""
        typed = typed.strip()
        try:
            url = normalise_feed_url(typed)
        except ValueError as exc:
            raise FetchError(f"refused: {exc}") from None
        # Sources added before URLs were normalised are stored as they were typed.
        for spelling in dict.fromkeys((url, typed)):
            existing = await self._store.feed_by_url(spelling)
            if existing is not None:
                raise FeedExistsError(url, existing.id)
        return url

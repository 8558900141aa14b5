"""Polling a page source: its list page (on the first poll, up to two more pages of
backlog), then each new statement's own page for its text.

Everything is fetched as feeds are (the poller's fetch: address guard on every hop,
per-host limits, byte caps, one deadline) and read in the parse worker (a thread,
or a process killed after 30 s for a big page). Only links to the list page's own
site are fetched: the statements it points to and its next pages. What to do with
what was read is decided by pure functions (`judge_list`, `list_not_found`), apart
from the I/O, so they are tested as tables.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from jobs.article import NoArticleError
from jobs.fetch import FetchResult
from jobs.fetch_errors import FetchError
from jobs.html_page import same_site
from jobs.page_list import PageList, PageListError, Selectors
from jobs.parse_worker import FeedParser
from storage.models import NewItem

log = logging.getLogger(__name__)

# The first poll stores the list's backlog from at most this many pages; later
# polls read the first page only (new statements appear there).
BACKLOG_PAGES = 3
# Statement pages fetched in one poll at most: a page that comes back after a long
# outage with fifty new statements must not turn one poll into fifty requests to
# one site. The rest keep the list's lead as their text.
MAX_BODIES = 20
_NOT_FOUND_PREFIX = "no list of statements found: "
# "ul.month (×3) > li": the same list in more containers (a new month) is no new layout.
_CONTAINER_COUNT = re.compile(r" \(×\d+\)")

Fetch = Callable[[str], Awaitable[FetchResult]]


@dataclass(frozen=True, slots=True)
class PageRead:
    """What one poll read of a page source's list."""

    listing: PageList  # the first page, as read
    items: list[NewItem]  # from every page read, in page order, each identity once
    pages: int  # pages read


@dataclass(frozen=True, slots=True)
class ListVerdict:
    push: bool  # new statements are news (else stored silently)
    layout_changed: bool  # the list is no longer where it was found before


def judge_list(
    *, first_poll: bool, previous: str | None, signature: str, already_stored: int
) -> ListVerdict:
    """Whether a poll's new statements are pushed. The first poll stores its backlog
    silently. A list found somewhere else than last time (a new layout) is the same
    list when it still holds statements stored before: its new ones are news. One
    that holds none of them may be another list altogether (a sidebar's "most read"
    taken for the statements): stored silently, and the admins are told."""
    moved = previous is not None and _place(previous) != _place(signature)
    if first_poll:
        return ListVerdict(push=False, layout_changed=False)
    if moved and already_stored == 0:
        return ListVerdict(push=False, layout_changed=True)
    return ListVerdict(push=True, layout_changed=moved)


def list_not_found(error: PageListError, previous_items: int | None) -> str:
    """The failure a poll records when the list is gone: how many statements it held
    last time, then why nothing was found now."""
    reason = str(error)
    if not previous_items:
        return reason
    return (
        f"the list of statements was not found: 0 items where there were {previous_items};"
        f" {reason.removeprefix(_NOT_FOUND_PREFIX)}"
    )


def _place(signature: str) -> str:
    return _CONTAINER_COUNT.sub("", signature)


class PageReader:
    """Reads a page source's list and its new statements' own pages."""

    def __init__(self, fetch: Fetch, parser: FeedParser, *, zone: str | None) -> None:
        self._fetch = fetch
        self._parser = parser
        self._zone = zone

    async def read(
        self, first: FetchResult, selectors: Selectors | None, *, pages: int = 1
    ) -> PageRead:
        """The list on `first` (a fetched page), and on up to `pages - 1` next pages
        when it links them. Raises PageListError when the first page holds no list;
        a next page that cannot be read ends the backlog there."""
        assert first.content is not None
        listing = await self._parser.read_list(
            first.content,
            url=first.url,
            headers=first.headers,
            selectors=selectors,
            zone=self._zone,
        )
        items = list(listing.items)
        seen = {item.identity for item in items}
        read, following, visited = 1, listing.next_page, {first.url}
        while following and read < pages and following not in visited:
            visited.add(following)
            try:
                if not same_site(following, first.url):
                    raise FetchError("the next page is on another site")
                result = await self._fetch(following)
                if result.content is None:
                    break
                more = await self._parser.read_list(
                    result.content,
                    url=result.url,
                    headers=result.headers,
                    selectors=selectors,
                    zone=self._zone,
                )
            except (FetchError, PageListError) as exc:
                log.info("page %s: backlog ends before %s: %s", first.url, following, exc)
                break
            read += 1
            items += [item for item in more.items if item.identity not in seen]
            seen.update(item.identity for item in more.items)
            following = more.next_page
        return PageRead(listing, items, read)

    async def with_bodies(self, items: Sequence[NewItem], *, list_url: str) -> list[NewItem]:
        """The statements with their own page's text as content and summary, where
        it can be read; the list's lead stays where it cannot."""
        first = list(items[:MAX_BODIES])
        read = await asyncio.gather(*(self._with_body(item, list_url) for item in first))
        return [*read, *items[MAX_BODIES:]]

    async def _with_body(self, item: NewItem, list_url: str) -> NewItem:
        if not item.link or not same_site(item.link, list_url):
            return item  # nothing is fetched from another site
        try:
            result = await self._fetch(item.link)
            if result.content is None:
                return item
            article = await self._parser.read_article(
                result.content, url=result.url, headers=result.headers, zone=self._zone
            )
        except (FetchError, NoArticleError) as exc:
            log.info("statement %s: its own page gave no text (%s); the lead stays", item.link, exc)
            return item
        return replace(
            item,
            summary=article.summary or item.summary,
            content=article.text,
            published_at=item.published_at or article.published_at,
        )

"""Feeds a web page points to: what `/addfeed URL` tries before reading the page.

First the feeds the page advertises (`<link rel="alternate">` of an RSS, Atom or
JSON Feed type), then a few well-known paths on the page's own site. Pure: this
only reads the page and builds URLs; the caller fetches them, in order, with the
usual address guard, and says which one it added. `inspect_page` reads a page once
for both questions /addfeed asks of it: which feeds it names, and what list of
statements it holds if none of them turns out to be a feed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from jobs.html_page import PageError, absolute_url, load_page
from jobs.page_list import PageList, PageListError, read_list
from text.plain import one_line

FeedKind = Literal["rss", "atom", "json"]

_FEED_TYPES: dict[str, FeedKind] = {
    "application/rss+xml": "rss",
    "application/rdf+xml": "rss",  # RSS 1.0
    "application/atom+xml": "atom",
    "application/feed+json": "json",
    "application/json": "json",
}
# Tried on the page's site when it advertises nothing, in this order.
WELL_KNOWN_PATHS = ("/feed", "/rss", "/rss.xml", "/atom.xml", "/index.xml", "/feed.json")


@dataclass(frozen=True, slots=True)
class AdvertisedFeed:
    url: str  # absolute
    title: str | None  # the link's title="…", one line
    kind: FeedKind
    media_type: str  # as the page wrote it, lower case, without parameters


def advertised_feeds(
    content: bytes, *, url: str, headers: Mapping[str, str]
) -> list[AdvertisedFeed]:
    """The feeds a page links with `<link rel="alternate" type="…">`, in page order,
    each URL once; a plain `application/json` link comes after the rest, since it may
    be an API rather than a JSON Feed (WordPress's /wp-json/ links are left out).
    An unreadable page advertises nothing."""
    try:
        page = load_page(content, url=url, headers=headers)
    except PageError:
        return []
    found: list[AdvertisedFeed] = []
    seen: set[str] = set()
    for link in page.root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        media_type = (link.get("type") or "").split(";")[0].strip().lower()
        kind = _FEED_TYPES.get(media_type)
        if "alternate" not in rel or kind is None:
            continue
        href = absolute_url(link.get("href"), page.base)
        if href is None or href in seen or "/wp-json/" in href:
            continue
        seen.add(href)
        title = one_line(link.get("title") or "") or None
        found.append(AdvertisedFeed(href, title, kind, media_type))
    # sorted() is stable: page order is kept within each rank.
    return sorted(found, key=lambda feed: feed.media_type == "application/json")


def well_known_feed_urls(url: str) -> list[str]:
    """The usual feed addresses on the page's site (`https://site/feed`, …), in the
    order to try them; the page's own URL is left out. Empty for a URL that is no
    http(s) address."""
    page = absolute_url(url, url)
    if page is None:
        return []
    parts = urlsplit(page)
    urls = [urlunsplit((parts.scheme, parts.netloc, path, "", "")) for path in WELL_KNOWN_PATHS]
    return [candidate for candidate in urls if candidate != page]


@dataclass(frozen=True, slots=True)
class PageInspection:
    """A web page as /addfeed sees it: the feeds it names, and its list of
    statements (or why it has none)."""

    advertised: list[AdvertisedFeed]
    listing: PageList | None
    refusal: str | None  # why there is no list, when `listing` is None


def inspect_page(
    content: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    zone: tzinfo | str | None = None,
) -> PageInspection:
    """The feeds a page advertises and the list detection finds on it."""
    advertised = advertised_feeds(content, url=url, headers=headers)
    try:
        listing = read_list(content, url=url, headers=headers, zone=zone)
    except PageListError as exc:
        return PageInspection(advertised, None, str(exc))
    return PageInspection(advertised, listing, None)

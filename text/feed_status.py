"""/feedstatus: the health of every feed (and web page read as a list), as pages of
Telegram HTML.

Rendered from what was read beforehand (each feed with its counts), so the pages
are a pure function of the data. Pages hold at most `PAGE_FEEDS` feeds and always
fit Telegram's limit: long URLs and errors make a page hold fewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from text.markup import TELEGRAM_LIMIT, esc, split_messages, utf16_length

PAGE_FEEDS = 10
NO_FEEDS = "No feeds yet. Add one with /addfeed URL."


class FeedHealth(Protocol):
    """What the status shows of a feed (storage's `Feed` is one)."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def paused(self) -> bool: ...
    @property
    def consecutive_failures(self) -> int: ...
    @property
    def last_success_at(self) -> datetime | None: ...
    @property
    def next_poll_at(self) -> datetime | None: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def last_error_at(self) -> datetime | None: ...
    @property
    def kind(self) -> str: ...  # "feed", or "page": a web page read as a list
    @property
    def selectors(self) -> str | None: ...
    @property
    def detected_signature(self) -> str | None: ...
    @property
    def detected_items(self) -> int | None: ...


class FeedCounts(Protocol):
    """A feed with how many statements it holds and how many chats follow it."""

    @property
    def feed(self) -> FeedHealth: ...
    @property
    def statements(self) -> int: ...
    @property
    def subscribers(self) -> int: ...


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return "never"
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def render_feed_block(entry: FeedCounts, tz: ZoneInfo) -> str:
    """One feed: name and state, URL, last success and next poll, counts, last error."""
    feed = entry.feed
    state = "paused" if feed.paused else ("failing" if feed.consecutive_failures else "ok")
    lines = [
        f"<b>{feed.id}. {esc((feed.title or feed.url)[:100])}</b> — {state}",
        f"{esc(feed.url[:200])}",
    ]
    if feed.kind == "page":
        lines.append(_page_line(feed))
    lines += [
        f"last success: {_when(feed.last_success_at, tz)}; next poll: "
        f"{'—' if feed.paused else _when(feed.next_poll_at, tz)}",
        f"statements: {entry.statements}; subscribers: {entry.subscribers}",
    ]
    if feed.last_error:
        lines.append(
            f"last error ({_when(feed.last_error_at, tz)}, "
            f"{feed.consecutive_failures} in a row): {esc(feed.last_error[:300])}"
        )
    return "\n".join(lines)


def _page_line(feed: FeedHealth) -> str:
    """A page source: how it is read, and what the last reading found."""
    how = f"web page, read with {esc(feed.selectors[:200])}" if feed.selectors else "web page"
    if feed.detected_items is None:
        return f"{how}; not read yet"
    where = esc((feed.detected_signature or "")[:200])
    return f"{how}; last read: {feed.detected_items} statement(s) in {where}"


def render_feed_status(
    entries: Sequence[FeedCounts], tz: ZoneInfo, limit: int = TELEGRAM_LIMIT
) -> list[str]:
    """Every page of /feedstatus, in feed order; one page when all fit in it."""
    if not entries:
        return [NO_FEEDS]
    blocks = [render_feed_block(entry, tz) for entry in entries]
    # Room for the longest heading a page can carry.
    heading = f"Feeds, page {len(blocks)} of {len(blocks)}"
    reserve = utf16_length(heading) + 2
    pages = split_messages(blocks, limit=limit - reserve, max_blocks=PAGE_FEEDS)
    if len(pages) == 1:
        return pages
    return [
        f"<b>Feeds, page {number} of {len(pages)}</b>\n\n{page}"
        for number, page in enumerate(pages, start=1)
    ]

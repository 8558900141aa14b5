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

from text.i18n import N_, Translator, translator
from text.markup import TELEGRAM_LIMIT, esc, split_messages, utf16_length

PAGE_FEEDS = 10
NO_FEEDS = N_("No feeds yet. Add one with /addfeed URL.")


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


def _when(value: datetime | None, tz: ZoneInfo, tr: Translator) -> str:
    if value is None:
        return tr.gettext("never")
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def render_feed_block(entry: FeedCounts, tz: ZoneInfo, language: str = "en") -> str:
    """One feed: name and state, URL, last success and next poll, counts, last error.
    Feed text and errors as stored (the server's or the parser's words)."""
    tr = translator(language)
    _ = tr.gettext
    feed = entry.feed
    if feed.paused:
        state = _("paused")
    else:
        state = _("failing") if feed.consecutive_failures else _("ok")
    lines = [
        f"<b>{feed.id}. {esc((feed.title or feed.url)[:100])}</b> — {state}",
        f"{esc(feed.url[:200])}",
    ]
    if feed.kind == "page":
        lines.append(_page_line(feed, tr))
    lines += [
        _("last success: {when}; next poll: {next}").format(
            when=_when(feed.last_success_at, tz, tr),
            next="—" if feed.paused else _when(feed.next_poll_at, tz, tr),
        ),
        _("statements: {statements}; subscribers: {subscribers}").format(
            statements=entry.statements, subscribers=entry.subscribers
        ),
    ]
    if feed.last_error:
        lines.append(
            _("last error ({when}, {count} in a row): {error}").format(
                when=_when(feed.last_error_at, tz, tr),
                count=feed.consecutive_failures,
                error=esc(feed.last_error[:300]),
            )
        )
    return "\n".join(lines)


def _page_line(feed: FeedHealth, tr: Translator) -> str:
    """A page source: how it is read, and what the last reading found."""
    _ = tr.gettext
    if feed.selectors:
        how = _("web page, read with {selectors}").format(selectors=esc(feed.selectors[:200]))
    else:
        how = _("web page")
    if feed.detected_items is None:
        return _("{how}; not read yet").format(how=how)
    where = esc((feed.detected_signature or "")[:200])
    return tr.ngettext(
        "{how}; last read: {count} statement in {where}",
        "{how}; last read: {count} statements in {where}",
        feed.detected_items,
    ).format(how=how, count=feed.detected_items, where=where)


def render_feed_status(
    entries: Sequence[FeedCounts],
    tz: ZoneInfo,
    limit: int = TELEGRAM_LIMIT,
    *,
    language: str = "en",
) -> list[str]:
    """Every page of /feedstatus, in feed order; one page when all fit in it."""
    _ = translator(language).gettext
    if not entries:
        return [_(NO_FEEDS)]
    blocks = [render_feed_block(entry, tz, language) for entry in entries]

    def heading(number: int, count: int) -> str:
        return _("Feeds, page {number} of {count}").format(number=number, count=count)

    # Room for the longest heading a page can carry.
    reserve = utf16_length(heading(len(blocks), len(blocks))) + 2
    pages = split_messages(blocks, limit=limit - reserve, max_blocks=PAGE_FEEDS)
    if len(pages) == 1:
        return pages
    return [
        f"<b>{heading(number, len(pages))}</b>\n\n{page}"
        for number, page in enumerate(pages, start=1)
    ]

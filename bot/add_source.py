"""Adding a source: `/addfeed URL [TITLE]` and `/addpage URL item=CSS … [TITLE]`.

/addfeed takes a feed, or a web page: a feed the page names is added (several:
the admin picks one with a button); a page with no feed is previewed as a list of
statements, with buttons to add it as a page source or cancel. /addpage previews a
page read with the admin's selectors. What was found waits server-side (in the
chat's data, for PENDING_FOR) under a short id, which is all a button carries.
Nothing is stored before the admin says so; bad input gets a clear answer and
changes nothing. Admins only.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.admin import admin_only
from bot.replies import Context, args_of, button_is_genuine, edit, reply, text_after_command
from bot.services import services
from jobs.fetch_errors import FetchError
from jobs.page_list import PageListError, SelectorError, Selectors
from jobs.page_poll import BACKLOG_PAGES
from jobs.parse import NotAFeedError
from jobs.poll import AddedFeed
from jobs.sources import FeedFound, FeedsFound, PageFound
from jobs.urls import normalise_feed_url
from storage.errors import FeedExistsError
from text.markup import esc
from text.page_preview import feed_button_label, render_feed_choice, render_page_preview

log = logging.getLogger(__name__)

PENDING_FOR = timedelta(minutes=30)  # a preview's buttons work this long
MAX_PENDING = 5  # previews kept per chat; an older one's buttons stop working
_PENDING_KEY = "pending_sources"

# What admins read, in one place.
ADDFEED_USAGE = "Usage: /addfeed URL [TITLE] — e.g. /addfeed https://example.org/feed.xml"
ADDPAGE_USAGE = (
    "Usage: /addpage URL item=CSS [title=CSS] [link=CSS] [date=CSS] [summary=CSS] [TITLE]"
    ' — e.g. <code>/addpage https://embassy.example/news item=".news-list li" Embassy</code>'
)
ALREADY_THERE = "That feed is already there: feed {id}. Nothing changed."
NAMED_ALREADY_THERE = (
    "The feed this page names, {url}, is already there: feed {id}. Nothing changed."
)
NOT_ADDED = "Not added: {reason}."
NOT_FETCHED = "Not added: could not fetch {url}: {reason}."
NO_LIST = "Not added: {url} is a web page, but {reason}. Nothing changed."
ADDED_FEED = (
    "Added feed {id}: <b>{title}</b>\n{where}Stored {stored} statement(s) already in it;"
    " none were pushed. New statements will be pushed to subscribers."
)
ADDED_PAGE = (
    "Added page source {id}: <b>{title}</b>\nStored {stored} statement(s) from {pages}"
    " page(s) of its list; none were pushed. Each new statement will be pushed to"
    " subscribers with the text of its own page."
)
WHERE = {
    "address": "",
    "advertised": "The page names this feed: {url}\n",
    "well-known": "The page names no feed; this one was found at {url}\n",
}
ADD_PAGE_BUTTON = "Add as a page source"
CANCEL_BUTTON = "Cancel"
CANCELLED = "Not added: {url}. Nothing changed."
EXPIRED = "That preview has expired. Send the command again."


@dataclass(frozen=True, slots=True)
class PendingSource:
    """What a preview offered, until the admin answers it."""

    url: str  # the page (or the address typed)
    title: str | None  # the admin's TITLE
    selectors: str | None  # /addpage words; None: detected
    feeds: tuple[str, ...]  # the feeds to choose from; empty: a page preview
    created_at: datetime


@dataclass(slots=True)
class PendingSources:
    """A chat's open previews by id (kept in its chat_data)."""

    waiting: dict[str, PendingSource] = field(default_factory=dict)

    def add(self, source: PendingSource, now: datetime) -> str:
        self._expire(now)
        while len(self.waiting) >= MAX_PENDING:
            del self.waiting[next(iter(self.waiting))]
        key = secrets.token_hex(4)
        self.waiting[key] = source
        return key

    def take(self, key: str, now: datetime) -> PendingSource | None:
        """The preview, which cannot be answered twice; None when expired or unknown."""
        self._expire(now)
        return self.waiting.pop(key, None)

    def _expire(self, now: datetime) -> None:
        for key, source in list(self.waiting.items()):
            if now - source.created_at > PENDING_FOR:
                del self.waiting[key]


def pending_of(context: Context) -> PendingSources:
    data = context.chat_data
    assert data is not None
    found = data.get(_PENDING_KEY)
    if not isinstance(found, PendingSources):
        found = data[_PENDING_KEY] = PendingSources()
    return found


# ------------------------------------------------------------------------ commands


@admin_only
async def addfeed(update: Update, context: Context) -> None:
    """`/addfeed URL [TITLE]`: a feed is added at once (backlog stored, nothing
    pushed); a page's feed likewise; a page without one is previewed first."""
    args = args_of(context)
    if not args:
        await reply(update, ADDFEED_USAGE)
        return
    url, problem = _checked_url(args[0])
    if url is None:
        await reply(update, f"{ADDFEED_USAGE} — {esc(problem)}")
        return
    title = " ".join(args[1:]).strip() or None
    await _find_and_offer(update, context, args[0], url, title, None)


@admin_only
async def addpage(update: Update, context: Context) -> None:
    """`/addpage URL item=CSS [title=CSS] [link=CSS] [date=CSS] [summary=CSS] [TITLE]`:
    the page read with these selectors, previewed before it is added."""
    typed, _, rest = text_after_command(update).partition(" ")
    url, problem = _checked_url(typed) if typed else (None, "")
    if url is None:
        await reply(update, ADDPAGE_USAGE + (f" — {esc(problem)}" if problem else ""))
        return
    try:
        selectors, title = Selectors.from_words(rest)
    except SelectorError as exc:
        await reply(update, f"{ADDPAGE_USAGE}\n{esc(str(exc))}. Nothing changed.")
        return
    await _find_and_offer(update, context, typed, url, title.strip() or None, selectors)


async def _find_and_offer(
    update: Update,
    context: Context,
    typed: str,
    url: str,
    title: str | None,
    selectors: Selectors | None,
) -> None:
    svc = services(context)
    try:
        # As typed: the poller also looks for sources stored before URLs were normalised.
        found = await svc.poller.find_source(typed, selectors=selectors)
    except FeedExistsError as exc:
        template = ALREADY_THERE if exc.url == url else NAMED_ALREADY_THERE
        await reply(update, template.format(id=exc.feed_id, url=esc(exc.url)))
        return
    except NotAFeedError as exc:
        await reply(update, NOT_ADDED.format(reason=esc(str(exc))))
        return
    except PageListError as exc:
        await reply(update, NO_LIST.format(url=esc(url), reason=esc(str(exc))))
        return
    except FetchError as exc:
        await reply(update, NOT_FETCHED.format(url=esc(url), reason=esc(str(exc))))
        return
    now = svc.clock()
    if isinstance(found, FeedFound):
        await _add_feed_now(update, context, found, title)
    elif isinstance(found, FeedsFound):
        urls = tuple(feed.url for feed in found.feeds)
        key = pending_of(context).add(PendingSource(url, title, None, urls, now), now)
        rows = [
            [
                InlineKeyboardButton(
                    feed_button_label(n, feed.url, feed.parsed.title),
                    callback_data=f"src:f:{key}:{n}",
                )
            ]
            for n, feed in enumerate(found.feeds, start=1)
        ]
        rows.append([InlineKeyboardButton(CANCEL_BUTTON, callback_data=f"src:x:{key}")])
        choices = [(feed.url, feed.parsed.title) for feed in found.feeds]
        await reply(update, render_feed_choice(url, choices), InlineKeyboardMarkup(rows))
    else:
        await _offer_page(update, context, found, title)


async def _add_feed_now(
    update: Update, context: Context, found: FeedFound, title: str | None
) -> None:
    try:
        added = await services(context).poller.add_feed(found.url, title, found=found)
    except FeedExistsError as exc:
        await reply(update, ALREADY_THERE.format(id=exc.feed_id))
        return
    await reply(update, _added_feed(added, WHERE[found.via].format(url=esc(found.url))))


async def _offer_page(
    update: Update, context: Context, found: PageFound, title: str | None
) -> None:
    svc = services(context)
    now = svc.clock()
    words = found.selectors.to_words() if found.selectors else None
    key = pending_of(context).add(PendingSource(found.url, title, words, (), now), now)
    listing = found.listing
    text = render_page_preview(
        url=found.url,
        page_title=listing.title,
        items=listing.items,
        explanation=listing.explanation.lines(),
        tz=ZoneInfo(svc.settings.timezone),
        feeds_tried=found.feeds_tried,
        selectors=words,
        more_pages=BACKLOG_PAGES - 1 if listing.next_page else 0,
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(ADD_PAGE_BUTTON, callback_data=f"src:p:{key}"),
                InlineKeyboardButton(CANCEL_BUTTON, callback_data=f"src:x:{key}"),
            ]
        ]
    )
    await reply(update, text, markup)


# ------------------------------------------------------------------------- buttons


@admin_only
async def source_button(update: Update, context: Context) -> None:
    """The answer to a preview: `src:p:ID` adds the page, `src:f:ID:N` the page's
    feed N, `src:x:ID` cancels."""
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    valid = (
        len(parts) in (3, 4)
        and parts[1] in ("p", "f", "x")
        and (len(parts) == 4) == (parts[1] == "f")
        and (len(parts) == 3 or (parts[3].isdigit() and len(parts[3]) < 3))
    )
    if not valid or not button_is_genuine(query):
        await query.answer("That button is no longer valid.")
        return
    svc = services(context)
    pending = pending_of(context).take(parts[2], svc.clock())
    if pending is None:
        await query.answer(EXPIRED)
        await edit(query, EXPIRED, None)
        return
    if parts[1] == "x":
        await query.answer("Cancelled")
        await edit(query, CANCELLED.format(url=esc(pending.url)), None)
        return
    await query.answer("Adding…")
    if parts[1] == "f":
        number = int(parts[3])
        if not 1 <= number <= len(pending.feeds):
            await edit(query, EXPIRED, None)
            return
        text = await _add_chosen_feed(context, pending.feeds[number - 1], pending.title)
    else:
        text = await _add_page(context, pending)
    await edit(query, text, None)


async def _add_chosen_feed(context: Context, url: str, title: str | None) -> str:
    try:
        added = await services(context).poller.add_feed(url, title)
    except FeedExistsError as exc:
        return ALREADY_THERE.format(id=exc.feed_id)
    except NotAFeedError as exc:
        return NOT_ADDED.format(reason=esc(str(exc)))
    except FetchError as exc:
        return NOT_FETCHED.format(url=esc(url), reason=esc(str(exc)))
    return _added_feed(added, WHERE["advertised"].format(url=esc(added.feed.url)))


async def _add_page(context: Context, pending: PendingSource) -> str:
    selectors = Selectors.from_words(pending.selectors)[0] if pending.selectors else None
    try:
        added = await services(context).poller.add_page(
            pending.url, pending.title, selectors=selectors
        )
    except FeedExistsError as exc:
        return ALREADY_THERE.format(id=exc.feed_id)
    except PageListError as exc:
        return NO_LIST.format(url=esc(pending.url), reason=esc(str(exc)))
    except FetchError as exc:
        return NOT_FETCHED.format(url=esc(pending.url), reason=esc(str(exc)))
    feed = added.feed
    return ADDED_PAGE.format(
        id=feed.id,
        title=esc(feed.title or feed.url),
        stored=added.stored,
        pages=added.pages,
    )


# ------------------------------------------------------------------------- helpers


def _added_feed(added: AddedFeed, where: str) -> str:
    feed = added.feed
    return ADDED_FEED.format(
        id=feed.id, title=esc(feed.title or feed.url), where=where, stored=added.stored
    )


def _checked_url(typed: str) -> tuple[str | None, str]:
    """The address normalised, or None and why it is no address."""
    if len(typed) > 2000:
        return None, "the URL is too long (at most 2000 characters)"
    try:
        return normalise_feed_url(typed), ""
    except ValueError as exc:
        return None, str(exc)

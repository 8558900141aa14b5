"""Adding a source: `/addfeed URL [TITLE]` and `/addpage URL item=CSS … [TITLE]`.

/addfeed takes a feed, or a web page: a feed the page names is added (several:
the admin picks one with a button); a page with no feed is previewed as a list of
statements, with buttons to add it as a page source or cancel. /addpage previews a
page read with the admin's selectors. What was found waits server-side (in the
chat's data, for PENDING_FOR) under a short id, which is all a button carries.
Nothing is stored before the admin says so; bad input gets a clear answer and
changes nothing. Admins only. Everything is said in the admin's chat language; what
a server or a parser said (an HTTP status, why a page holds no list) is quoted as it
came.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.admin import admin_only
from bot.replies import (
    Context,
    args_of,
    button_is_genuine,
    edit,
    language_of,
    reply,
    text_after_command,
)
from bot.services import services
from jobs.fetch_errors import FetchError
from jobs.page_list import PageListError, SelectorError, Selectors
from jobs.page_poll import BACKLOG_PAGES
from jobs.parse import NotAFeedError
from jobs.poll import AddedFeed
from jobs.sources import FeedFound, FeedsFound, PageFound
from jobs.urls import normalise_feed_url
from storage.errors import FeedExistsError
from text.i18n import N_, Translator, translator
from text.markup import esc
from text.page_preview import feed_button_label, render_feed_choice, render_page_preview

log = logging.getLogger(__name__)

PENDING_FOR = timedelta(minutes=30)  # a preview's buttons work this long
MAX_PENDING = 5  # previews kept per chat; an older one's buttons stop working
_PENDING_KEY = "pending_sources"

# What admins read, in one place (translated where they are used).
ADDFEED_USAGE = N_("Usage: /addfeed URL [TITLE] — e.g. /addfeed https://example.org/feed.xml")
ADDPAGE_USAGE = N_(
    "Usage: /addpage URL item=CSS [title=CSS] [link=CSS] [date=CSS] [summary=CSS] [TITLE]"
    ' — e.g. <code>/addpage https://embassy.example/news item=".news-list li" Embassy</code>'
)
ALREADY_THERE = N_("That feed is already there: feed {id}. Nothing changed.")
NAMED_ALREADY_THERE = N_(
    "The feed this page names, {url}, is already there: feed {id}. Nothing changed."
)
NOT_ADDED = N_("Not added: {reason}.")
NOT_FETCHED = N_("Not added: could not fetch {url}: {reason}.")
NO_LIST = N_("Not added: {url} is a web page, but {reason}. Nothing changed.")
ADDED_FEED = N_(
    "Added feed {id}: <b>{title}</b>\n{where}Stored {stored} statement(s) already in it;"
    " none were pushed. New statements will be pushed to subscribers."
)
ADDED_PAGE = N_(
    "Added page source {id}: <b>{title}</b>\nStored {stored} statement(s) from {pages}"
    " page(s) of its list; none were pushed. Each new statement will be pushed to"
    " subscribers with the text of its own page."
)
WHERE = {
    "address": "",
    "advertised": N_("The page names this feed: {url}\n"),
    "well-known": N_("The page names no feed; this one was found at {url}\n"),
}
ADD_PAGE_BUTTON = N_("Add as a page source")
CANCEL_BUTTON = N_("Cancel")
CANCELLED = N_("Not added: {url}. Nothing changed.")
EXPIRED = N_("That preview has expired. Send the command again.")
STALE = N_("That button is no longer valid.")


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
    language = await language_of(update, context)
    tr = translator(language)
    _ = tr.gettext
    args = args_of(context)
    if not args:
        await reply(update, _(ADDFEED_USAGE))
        return
    url, problem = _checked_url(args[0], tr)
    if url is None:
        await reply(update, f"{_(ADDFEED_USAGE)} — {esc(problem)}")
        return
    title = " ".join(args[1:]).strip() or None
    await _find_and_offer(update, context, language, args[0], url, title, None)


@admin_only
async def addpage(update: Update, context: Context) -> None:
    """`/addpage URL item=CSS [title=CSS] [link=CSS] [date=CSS] [summary=CSS] [TITLE]`:
    the page read with these selectors, previewed before it is added."""
    language = await language_of(update, context)
    tr = translator(language)
    _ = tr.gettext
    typed, _space, rest = text_after_command(update).partition(" ")
    url, problem = _checked_url(typed, tr) if typed else (None, "")
    if url is None:
        await reply(update, _(ADDPAGE_USAGE) + (f" — {esc(problem)}" if problem else ""))
        return
    try:
        selectors, title = Selectors.from_words(rest)
    except SelectorError as exc:
        # The selector's own complaint, as the parser words it.
        await reply(
            update,
            _("{usage}\n{error}. Nothing changed.").format(
                usage=_(ADDPAGE_USAGE), error=esc(str(exc))
            ),
        )
        return
    await _find_and_offer(update, context, language, typed, url, title.strip() or None, selectors)


async def _find_and_offer(
    update: Update,
    context: Context,
    language: str,
    typed: str,
    url: str,
    title: str | None,
    selectors: Selectors | None,
) -> None:
    svc = services(context)
    tr = translator(language)
    _ = tr.gettext
    try:
        # As typed: the poller also looks for sources stored before URLs were normalised.
        found = await svc.poller.find_source(typed, selectors=selectors)
    except FeedExistsError as exc:
        template = ALREADY_THERE if exc.url == url else NAMED_ALREADY_THERE
        await reply(update, _(template).format(id=exc.feed_id, url=esc(exc.url)))
        return
    except NotAFeedError as exc:
        await reply(update, _(NOT_ADDED).format(reason=esc(str(exc))))
        return
    except PageListError as exc:
        await reply(update, _(NO_LIST).format(url=esc(url), reason=esc(str(exc))))
        return
    except FetchError as exc:
        await reply(update, _(NOT_FETCHED).format(url=esc(url), reason=esc(str(exc))))
        return
    now = svc.clock()
    if isinstance(found, FeedFound):
        await _add_feed_now(update, context, tr, found, title)
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
        rows.append([InlineKeyboardButton(_(CANCEL_BUTTON), callback_data=f"src:x:{key}")])
        choices = [(feed.url, feed.parsed.title) for feed in found.feeds]
        await reply(update, render_feed_choice(url, choices, language), InlineKeyboardMarkup(rows))
    else:
        await _offer_page(update, context, language, found, title)


async def _add_feed_now(
    update: Update, context: Context, tr: Translator, found: FeedFound, title: str | None
) -> None:
    try:
        added = await services(context).poller.add_feed(found.url, title, found=found)
    except FeedExistsError as exc:
        await reply(update, tr.gettext(ALREADY_THERE).format(id=exc.feed_id))
        return
    await reply(update, _added_feed(added, found.via, found.url, tr))


async def _offer_page(
    update: Update, context: Context, language: str, found: PageFound, title: str | None
) -> None:
    svc = services(context)
    _ = translator(language).gettext
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
        language=language,
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_(ADD_PAGE_BUTTON), callback_data=f"src:p:{key}"),
                InlineKeyboardButton(_(CANCEL_BUTTON), callback_data=f"src:x:{key}"),
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
    tr = translator(await language_of(update, context))
    _ = tr.gettext
    parts = (query.data or "").split(":")
    valid = (
        len(parts) in (3, 4)
        and parts[1] in ("p", "f", "x")
        and (len(parts) == 4) == (parts[1] == "f")
        and (len(parts) == 3 or (parts[3].isdigit() and len(parts[3]) < 3))
    )
    if not valid or not button_is_genuine(query):
        await query.answer(_(STALE))
        return
    svc = services(context)
    pending = pending_of(context).take(parts[2], svc.clock())
    if pending is None:
        await query.answer(_(EXPIRED))
        await edit(query, _(EXPIRED), None)
        return
    if parts[1] == "x":
        await query.answer(_("Cancelled"))
        await edit(query, _(CANCELLED).format(url=esc(pending.url)), None)
        return
    await query.answer(_("Adding…"))
    if parts[1] == "f":
        number = int(parts[3])
        if not 1 <= number <= len(pending.feeds):
            await edit(query, _(EXPIRED), None)
            return
        text = await _add_chosen_feed(context, tr, pending.feeds[number - 1], pending.title)
    else:
        text = await _add_page(context, tr, pending)
    await edit(query, text, None)


async def _add_chosen_feed(context: Context, tr: Translator, url: str, title: str | None) -> str:
    _ = tr.gettext
    try:
        added = await services(context).poller.add_feed(url, title)
    except FeedExistsError as exc:
        return _(ALREADY_THERE).format(id=exc.feed_id)
    except NotAFeedError as exc:
        return _(NOT_ADDED).format(reason=esc(str(exc)))
    except FetchError as exc:
        return _(NOT_FETCHED).format(url=esc(url), reason=esc(str(exc)))
    return _added_feed(added, "advertised", added.feed.url, tr)


async def _add_page(context: Context, tr: Translator, pending: PendingSource) -> str:
    _ = tr.gettext
    selectors = Selectors.from_words(pending.selectors)[0] if pending.selectors else None
    try:
        added = await services(context).poller.add_page(
            pending.url, pending.title, selectors=selectors
        )
    except FeedExistsError as exc:
        return _(ALREADY_THERE).format(id=exc.feed_id)
    except PageListError as exc:
        return _(NO_LIST).format(url=esc(pending.url), reason=esc(str(exc)))
    except FetchError as exc:
        return _(NOT_FETCHED).format(url=esc(pending.url), reason=esc(str(exc)))
    feed = added.feed
    return _(ADDED_PAGE).format(
        id=feed.id, title=esc(feed.title or feed.url), stored=added.stored, pages=added.pages
    )


# ------------------------------------------------------------------------- helpers


def _added_feed(added: AddedFeed, via: str, url: str, tr: Translator) -> str:
    feed = added.feed
    where = tr.gettext(WHERE[via]).format(url=esc(url)) if WHERE[via] else ""
    return tr.gettext(ADDED_FEED).format(
        id=feed.id, title=esc(feed.title or feed.url), where=where, stored=added.stored
    )


def _checked_url(typed: str, tr: Translator) -> tuple[str | None, str]:
    """The address normalised, or None and why it is no address (the URL parser's
    own words, or ours in the admin's language)."""
    if len(typed) > 2000:
        return None, tr.gettext("the URL is too long (at most 2000 characters)")
    try:
        return normalise_feed_url(typed), ""
    except ValueError as exc:
        return None, str(exc)

"""/latest and /search: reading the stored statements, a page at a time, with
buttons that turn the page in the same message, and a "Full text N" button for
each numbered entry whose statement has more text than its summary."""

from __future__ import annotations

import secrets
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.replies import (
    STALE_BUTTON,
    Context,
    args_of,
    button_is_genuine,
    edit,
    language_of,
    remember_chat,
    reply,
    subscriber_id,
    text_after_command,
)
from bot.services import services
from jobs.statement_buttons import full_text_rows
from storage.errors import InvalidSearchQueryError, StorageError
from storage.models import Feed, Item
from text.i18n import N_, Translator, translator
from text.markup import esc, truncate_text
from text.statements import (
    MARK_END,
    MARK_START,
    feed_name,
    render_latest,
    render_no_statements,
    render_search_results,
)

LATEST_DEFAULT = 5
LATEST_MAX = 20
SEARCH_PAGE = 5
SEARCHES_PER_MINUTE = 20
SEARCH_COUNT_CAP = 100  # counting further costs more than a "of 1000+" is worth


# --------------------------------------------------------------------- /latest

LATEST_USAGE = N_(
    "Usage: /latest [N] [FEED_ID] — N from 1 to {max} (default {default}). "
    "For example /latest 10, or /latest 5 2 for the newest 5 from feed 2."
)


class LatestArgumentError(ValueError):
    """Why `/latest`'s arguments are refused: an English message (marked for the
    catalogs) and its values, so the reply can say it in the chat's language."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message.format(**values))
        self.message = message
        self.values = values

    def translated(self, tr: Translator) -> str:
        return tr.gettext(self.message).format(**self.values)


def parse_latest_args(args: list[str]) -> tuple[int, int | None]:
    """`[N] [FEED_ID]` → (n, feed_id). Raises LatestArgumentError with the reason."""
    if len(args) > 2:
        raise LatestArgumentError(N_("that is too many arguments"))
    numbers: list[int] = []
    for index, arg in enumerate(args):
        signed = arg[1:] if arg[:1] in ("-", "+") else arg
        if not (signed.isdecimal() and signed.isascii()):
            shown = truncate_text(" ".join(arg.split()), 30)
            raise LatestArgumentError(N_("«{value}» is not a number"), value=shown)
        if len(signed) > 9 or arg.startswith("-"):
            # A number, but out of any range: say which range.
            if index == 0:
                raise LatestArgumentError(N_("N must be between 1 and {max}"), max=LATEST_MAX)
            raise LatestArgumentError(N_("FEED_ID must be a feed's number from /feeds"))
        numbers.append(int(signed))
    n = numbers[0] if numbers else LATEST_DEFAULT
    if not 1 <= n <= LATEST_MAX:
        raise LatestArgumentError(N_("N must be between 1 and {max}"), max=LATEST_MAX)
    return n, numbers[1] if len(numbers) > 1 else None


def latest_keyboard(
    offset: int,
    n: int,
    feed_id: int | None,
    more: bool,
    items: list[Item] | None = None,
    language: str = "en",
) -> InlineKeyboardMarkup | None:
    """ "Full text N" for the entries shown (numbered from offset + 1), then
    Older/Newer; the data carries the whole page (offset, size, feed), so it keeps
    working after a restart."""
    _ = translator(language).gettext
    feed = feed_id or 0
    buttons: list[InlineKeyboardButton] = []
    if more:
        older = f"l:{offset + n}:{n}:{feed}"
        buttons.append(InlineKeyboardButton(_("◀ Older"), callback_data=older))
    if offset > 0:
        newer = max(0, offset - n)
        buttons.append(InlineKeyboardButton(_("Newer ▶"), callback_data=f"l:{newer}:{n}:{feed}"))
    return _keyboard(full_text_rows(items or [], offset + 1, language), buttons)


def _keyboard(
    rows: list[list[InlineKeyboardButton]], paging: list[InlineKeyboardButton]
) -> InlineKeyboardMarkup | None:
    """The entries' "Full text" rows above the paging buttons; None without either."""
    rows = [*rows, paging] if paging else rows
    return InlineKeyboardMarkup(rows) if rows else None


async def _latest_view(
    context: Context, chat_id: int, n: int, offset: int, feed: Feed | None, language: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    svc = services(context)
    _ = translator(language).gettext
    feed_id = feed.id if feed else None
    items = await svc.store.latest_items(n + 1, offset=offset, feed_id=feed_id)
    more = len(items) > n
    items = items[:n]
    if not items:
        if offset:
            return _("No older statements."), latest_keyboard(
                offset, n, feed_id, False, language=language
            )
        if feed is not None:
            text = _(
                "No statements from {feed} are stored yet. "
                "/latest shows the newest from every feed."
            )
            return text.format(feed=esc(feed_name(feed, 100))), None
        return render_no_statements(language), None
    chat = await svc.store.find_chat(chat_id)
    tz = ZoneInfo(chat.timezone if chat else svc.settings.timezone)
    title = _("Latest statements")
    if feed is not None:
        # Not escaped here: render_latest escapes its title.
        title = _("Latest from {feed}").format(feed=feed_name(feed, 100))
    if offset or more:
        title += f" ({offset + 1}–{offset + len(items)})"
    text = render_latest(items, tz, title=title, first_number=offset + 1, language=language)
    return text, latest_keyboard(offset, n, feed_id, more, items, language)


async def _find_feed(context: Context, feed_id: int) -> Feed | None:
    for feed in await services(context).store.list_feeds():
        if feed.id == feed_id:
            return feed
    return None


async def latest(update: Update, context: Context) -> None:
    """`/latest [N] [FEED_ID]`: the newest statements, with Older/Newer buttons."""
    language = (await remember_chat(update, context, reactivate=False)).language
    _ = translator(language).gettext
    try:
        n, feed_id = parse_latest_args(args_of(context))
    except LatestArgumentError as exc:
        reason = exc.translated(translator(language))
        usage = _(LATEST_USAGE).format(max=LATEST_MAX, default=LATEST_DEFAULT)
        await reply(update, f"{esc(reason[:1].upper() + reason[1:])}. {usage}")
        return
    feed = None
    if feed_id is not None:
        feed = await _find_feed(context, feed_id)
        if feed is None:
            await reply(update, _("There is no feed {id}. /feeds lists them.").format(id=feed_id))
            return
    chat = update.effective_chat
    assert chat is not None
    text, markup = await _latest_view(
        context, await subscriber_id(update, context), n, 0, feed, language
    )
    await reply(update, text, markup)


async def latest_button(update: Update, context: Context) -> None:
    """Older/Newer under /latest: the same message shows the next page."""
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    if (
        not button_is_genuine(query)
        or len(parts) != 4
        or not all(p.isdecimal() and p.isascii() and len(p) < 10 for p in parts[1:])
        or not 1 <= int(parts[2]) <= LATEST_MAX
    ):
        await query.answer(translator(await language_of(update, context)).gettext(STALE_BUTTON))
        return
    language = await language_of(update, context)
    _ = translator(language).gettext
    offset, n, feed_id = int(parts[1]), int(parts[2]), int(parts[3])
    feed = None
    if feed_id:
        feed = await _find_feed(context, feed_id)
        if feed is None:
            await query.answer(
                _("That feed has been removed. Send /latest again."), show_alert=True
            )
            return
    chat = update.effective_chat
    assert chat is not None
    await query.answer()
    text, markup = await _latest_view(
        context, await subscriber_id(update, context), n, offset, feed, language
    )
    await edit(query, text, markup)


# --------------------------------------------------------------------- /search

SEARCH_USAGE = N_(
    'Usage: /search QUERY — words, "a phrase in quotes" or a prefix*. '
    'For example /search Salisbury, /search "chemical weapons" or /search sanction*.'
)


async def _search_view(
    context: Context,
    chat_id: int,
    query_text: str,
    offset: int,
    token: str,
    total: int | None,
    language: str,
) -> tuple[str, InlineKeyboardMarkup | None, int]:
    """One page of results with Back/More, and the total (counted when not given)."""
    svc = services(context)
    _ = translator(language).gettext
    hits = await svc.store.search(
        query_text, limit=SEARCH_PAGE + 1, offset=offset, marks=(MARK_START, MARK_END)
    )
    more = len(hits) > SEARCH_PAGE
    hits = hits[:SEARCH_PAGE]
    if total is None:
        # A first page that is not full is the whole answer: no need to count.
        if offset == 0 and not more:
            total = len(hits)
        else:
            total = await svc.store.search_count(query_text, cap=SEARCH_COUNT_CAP)
    chat = await svc.store.find_chat(chat_id)
    tz = ZoneInfo(chat.timezone if chat else svc.settings.timezone)
    if not hits and offset:
        text = _("No more results. Send /search again for a new search.")
    else:
        # A capped count is a lower bound, so it is not shown as the total.
        shown_total = total if total < SEARCH_COUNT_CAP else None
        text = render_search_results(
            query_text,
            hits,
            tz,
            offset=offset,
            total=shown_total,
            numbered=True,
            language=language,
        )
    buttons: list[InlineKeyboardButton] = []
    if offset:
        prev = max(0, offset - SEARCH_PAGE)
        buttons.append(InlineKeyboardButton(_("◀ Back"), callback_data=f"s:{token}:{prev}"))
    if more:
        following = f"s:{token}:{offset + SEARCH_PAGE}"
        buttons.append(InlineKeyboardButton(_("More ▶"), callback_data=following))
    rows = full_text_rows([hit.item for hit in hits], offset + 1, language)
    return text, _keyboard(rows, buttons), total


async def search(update: Update, context: Context) -> None:
    """`/search QUERY`: the best matches, with the matched words in bold."""
    language = (await remember_chat(update, context, reactivate=False)).language
    tr = translator(language)
    _ = tr.gettext
    query_text = text_after_command(update)
    if not query_text:
        await reply(update, _(SEARCH_USAGE))
        return
    user = update.effective_user
    svc = services(context)
    wait = svc.searches.wait(user.id, svc.clock().timestamp()) if user is not None else 0
    if wait:
        text = tr.ngettext(
            "That is a lot of searching: at most {limit} searches a minute. "
            "Please try again in {count} second.",
            "That is a lot of searching: at most {limit} searches a minute. "
            "Please try again in {count} seconds.",
            wait,
        )
        await reply(update, text.format(limit=SEARCHES_PER_MINUTE, count=wait))
        return
    chat = update.effective_chat
    assert chat is not None
    token = secrets.token_urlsafe(6)
    try:
        text, markup, total = await _search_view(
            context, await subscriber_id(update, context), query_text, 0, token, None, language
        )
    except InvalidSearchQueryError as exc:
        # The parser's own words, in the chat's language's frame.
        text = _("I can't search for that: {reason}.\n{usage}")
        await reply(update, text.format(reason=esc(str(exc)), usage=_(SEARCH_USAGE)))
        return
    except StorageError as exc:
        text = _("Sorry, {error}. Please try other words.").format(error=esc(str(exc)))
        await reply(update, text)
        return
    if markup is not None:
        # The query itself does not fit in a button's 64 bytes; the button holds a
        # token, the chat keeps the query (in memory: a restart expires it).
        saved: dict[str, tuple[str, int]] = context.chat_data.setdefault("searches", {})  # type: ignore[union-attr]
        saved[token] = (query_text, total)
        while len(saved) > 50:
            saved.pop(next(iter(saved)))
    await reply(update, text, markup)


async def search_button(update: Update, context: Context) -> None:
    """More/Back under /search: the same message shows the next page."""
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    if (
        not button_is_genuine(query)
        or len(parts) != 3
        or not (parts[2].isdecimal() and parts[2].isascii())
        or len(parts[2]) > 6
    ):
        await query.answer(translator(await language_of(update, context)).gettext(STALE_BUTTON))
        return
    language = await language_of(update, context)
    _ = translator(language).gettext
    saved: dict[str, tuple[str, int]] = (context.chat_data or {}).get("searches", {})
    found = saved.get(parts[1])
    if found is None:
        await query.answer(
            _("This search has expired. Please send /search again."), show_alert=True
        )
        return
    query_text, total = found
    chat = update.effective_chat
    assert chat is not None
    await query.answer()
    text, markup, _total = await _search_view(
        context,
        await subscriber_id(update, context),
        query_text,
        int(parts[2]),
        parts[1],
        total,
        language,
    )
    await edit(query, text, markup)

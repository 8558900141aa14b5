"""Commands anyone may use: /start, /help, /feeds, /subscribe, /unsubscribe,
/latest, /search, /counters, and the buttons they show."""

from __future__ import annotations

import logging
import secrets
from collections import deque
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.daily import render_daily_message
from bot.htmltext import TELEGRAM_LIMIT, esc, truncate_text, visible_length
from bot.render import render_latest, render_no_statements, render_search_results
from bot.replies import (
    GROUP_ADMINS_ONLY,
    Context,
    args_of,
    button_is_genuine,
    can_manage_chat,
    edit,
    edit_markup,
    is_bot_admin,
    remember_chat,
    reply,
    text_after_command,
)
from bot.services import services
from storage.errors import InvalidSearchQueryError, StorageError
from storage.models import Feed

log = logging.getLogger(__name__)

LATEST_DEFAULT = 5
LATEST_MAX = 20
SEARCH_PAGE = 5
SEARCHES_PER_MINUTE = 20
SEARCH_COUNT_CAP = 100  # counting further costs more than a "of 1000+" is worth
# Telegram shows at most 100 buttons under a message; one row is kept for "all".
FEED_BUTTONS_MAX = 90
FEED_LABEL_MAX = 60
NAMES_MAX = 10

FEEDS_HEADING = "Feeds"
STALE_BUTTON = "That button is no longer valid. Send the command again."

WELCOME = (
    "<b>Communique</b> watches the feeds of official statements and sends each new "
    "statement here, with a short summary and a link, as soon as it is published. "
    "It also sends a daily counter message and lets you read back and search every "
    "statement it has seen."
)

USER_HELP = [
    ("/start", "the welcome, with buttons to subscribe", "/start"),
    ("/feeds", "every feed, with buttons to subscribe or unsubscribe", "/feeds"),
    ("/subscribe FEED_ID|all", "follow a feed, or all (no argument: buttons)", "/subscribe 2"),
    ("/unsubscribe FEED_ID|all", "stop following a feed, or all", "/unsubscribe all"),
    ("/latest [N] [FEED_ID]", f"the N newest statements (default 5, at most {LATEST_MAX})", None),
    ("/search QUERY", 'search every statement: words, "phrases", prefix*', None),
    ("/counters", "the daily counter message, now", "/counters"),
    ("/settings", "this chat's daily time, time zone, daily message on or off", None),
    ("/help", "this list", "/help"),
]
# Commands with more than one useful example show them all.
USER_EXAMPLES = {
    "/latest [N] [FEED_ID]": ["/latest", "/latest 10", "/latest 5 2"],
    "/search QUERY": ["/search Salisbury", '/search "chemical weapons"', "/search sanction*"],
    "/settings": [
        "/settings",
        "/settings time 08:00",
        "/settings zone Europe/Berlin",
        "/settings daily off",
    ],
}

ADMIN_HELP = [
    (
        "/addfeed URL [TITLE]",
        "add a feed (stores its backlog, pushes nothing)",
        "/addfeed https://embassy.example/feed.xml Embassy",
    ),
    ("/removefeed FEED_ID", "remove a feed (its statements stay searchable)", "/removefeed 2"),
    ("/pausefeed FEED_ID", "stop polling a feed", "/pausefeed 2"),
    ("/resumefeed FEED_ID", "poll it again", "/resumefeed 2"),
    ("/feedstatus", "health of every feed", "/feedstatus"),
    ("/pollnow", "poll every feed now", "/pollnow"),
    (
        "/addcounter YYYY-MM-DD [Area/City] TEMPLATE",
        "add a counter; TEMPLATE holds {days}",
        "/addcounter 2018-03-04 Europe/Moscow {days} days have passed since the Salisbury incident",
    ),
    ("/removecounter COUNTER_ID", "remove a counter", "/removecounter 1"),
    ("/stats", "chats, subscriptions, deliveries, queue, failures", "/stats"),
    (
        "/addchannel @name [FEED_ID|all]",
        "post statements to a channel the bot is an admin of",
        "/addchannel @embassy_news all",
    ),
    (
        "/removechannel @name [FEED_ID]",
        "stop posting to a channel (or only one feed there)",
        "/removechannel @embassy_news",
    ),
    ("/exportopml", "every feed as an OPML file; send one back to import", "/exportopml"),
]


def _help_lines(entries: Sequence[tuple[str, str, str | None]]) -> list[str]:
    lines: list[str] = []
    for command, what, example in entries:
        lines.append(f"{esc(command)} — {esc(what)}")
        examples = USER_EXAMPLES.get(command) or ([example] if example else [])
        lines.append("   e.g. " + ", ".join(f"<code>{esc(e)}</code>" for e in examples))
    return lines


def render_help(admin: bool, bot_username: str = "BotName") -> str:
    """Every command with what it does and an example; admin commands for admins."""
    lines = ["<b>What Communique can do</b>", "", *_help_lines(USER_HELP)]
    lines += [
        "",
        "In a group, anyone may use /latest, /search and /counters; only the group's "
        "admins may change its subscriptions and settings. In a group you can also "
        f"write <code>/latest@{esc(bot_username)}</code>.",
    ]
    if admin:
        lines += ["", "<b>Admin commands</b>", *_help_lines(ADMIN_HELP)]
    return "\n".join(lines)


def render_welcome(has_feeds: bool) -> str:
    if has_feeds:
        return WELCOME + "\n\nTap a feed below to subscribe, or send /help to see everything."
    return (
        WELCOME + "\n\nThere are no feeds yet: an admin adds them with /addfeed. "
        "Send /help to see everything."
    )


def _feed_name(feed: Feed, cap: int) -> str:
    return truncate_text(" ".join((feed.title or feed.url).split()), cap)


def feeds_keyboard(feeds: list[Feed], subscribed: set[int]) -> InlineKeyboardMarkup | None:
    """A toggle per feed (✅ subscribed, ➕ not), and "Subscribe to all" when useful."""
    rows: list[list[InlineKeyboardButton]] = []
    for feed in feeds[:FEED_BUTTONS_MAX]:
        on = feed.id in subscribed
        label = f"{'✅' if on else '➕'} {feed.id}. {_feed_name(feed, FEED_LABEL_MAX)}"
        rows.append(
            [InlineKeyboardButton(label, callback_data=f"f:{'u' if on else 's'}:{feed.id}")]
        )
    if len(feeds) > 1 and len(subscribed & {f.id for f in feeds}) < len(feeds):
        rows.append([InlineKeyboardButton("Subscribe to all", callback_data="f:all")])
    return InlineKeyboardMarkup(rows) if rows else None


def render_feeds(feeds: list[Feed], subscribed: set[int], limit: int = TELEGRAM_LIMIT) -> str:
    """The /feeds list: id, title, paused, subscribed; as many as fit in one message."""
    if not feeds:
        return "There are no feeds yet. An admin adds them with /addfeed URL."
    footer = "\nTap a button to subscribe or unsubscribe, or send /subscribe FEED_ID."
    text = f"<b>{FEEDS_HEADING}</b>"
    for index, feed in enumerate(feeds):
        mark = "✅ subscribed" if feed.id in subscribed else "not subscribed"
        paused = " (paused)" if feed.paused else ""
        line = f"{feed.id}. {esc(_feed_name(feed, 100))}{paused} — {mark}"
        rest = len(feeds) - index - 1
        # Room is kept for the "…and K more" line in case the next feed will not fit.
        tail = f"\n…and {rest} more" if rest else ""
        if visible_length(f"{text}\n{line}{tail}\n{footer}") > limit:
            text += f"\n…and {rest + 1} more"
            break
        text += "\n" + line
    return text + "\n" + footer


async def _feeds_view(update: Update, context: Context) -> tuple[str, InlineKeyboardMarkup | None]:
    store = services(context).store
    chat = update.effective_chat
    assert chat is not None
    feeds = await store.list_feeds()
    subscribed = await store.subscriptions(chat.id)
    return render_feeds(feeds, subscribed), feeds_keyboard(feeds, subscribed)


async def start(update: Update, context: Context) -> None:
    """Welcome; `/start sub_<FEED_ID>` (a deep link) subscribes at once."""
    await remember_chat(update, context, reactivate=True)
    args = args_of(context)
    if args and args[0].startswith("sub_"):
        await _subscribe_ids(update, context, args[0][4:], subscribe=True, deep_link=True)
        return
    store = services(context).store
    chat = update.effective_chat
    assert chat is not None
    feeds_now = await store.list_feeds()
    markup = feeds_keyboard(feeds_now, await store.subscriptions(chat.id))
    await reply(update, render_welcome(bool(feeds_now)), markup)


async def help_command(update: Update, context: Context) -> None:
    """Every command with an example."""
    await remember_chat(update, context, reactivate=False)
    await reply(update, render_help(is_bot_admin(update, context), context.bot.username))


async def feeds(update: Update, context: Context) -> None:
    """Every feed, with a subscribe/unsubscribe toggle."""
    await remember_chat(update, context, reactivate=False)
    text, markup = await _feeds_view(update, context)
    await reply(update, text, markup)


async def subscribe(update: Update, context: Context) -> None:
    """`/subscribe FEED_ID|all`; without an argument, the feed buttons."""
    await _subscription_command(update, context, subscribe=True)


async def unsubscribe(update: Update, context: Context) -> None:
    """`/unsubscribe FEED_ID|all`; without an argument, the feed buttons."""
    await _subscription_command(update, context, subscribe=False)


def _usage(verb: str) -> str:
    return f"Usage: /{verb} FEED_ID or /{verb} all, for example /{verb} 2. /feeds lists the ids."


async def _subscription_command(update: Update, context: Context, *, subscribe: bool) -> None:
    verb = "subscribe" if subscribe else "unsubscribe"
    # Asked first, so a refused member leaves no trace (not even a reactivated chat).
    if not await can_manage_chat(update, context):
        await reply(update, GROUP_ADMINS_ONLY)
        return
    await remember_chat(update, context, reactivate=subscribe)
    args = args_of(context)
    if not args:
        text, markup = await _feeds_view(update, context)
        await reply(update, text, markup)
        return
    if len(args) > 1:
        await reply(update, f"One feed at a time, please. {_usage(verb)}")
        return
    await _subscribe_ids(update, context, args[0], subscribe=subscribe)


def _names(ids: list[int], titles: dict[int, str]) -> str:
    """Feed names for a reply, escaped; a long list ends with "and K more"."""
    shown = [f"<b>{esc(titles[i])}</b>" for i in ids[:NAMES_MAX]]
    if len(ids) > NAMES_MAX:
        return ", ".join(shown) + f" and {len(ids) - NAMES_MAX} more"
    if len(shown) > 1:
        return ", ".join(shown[:-1]) + " and " + shown[-1]
    return shown[0] if shown else ""


async def _subscribe_ids(
    update: Update, context: Context, arg: str, *, subscribe: bool, deep_link: bool = False
) -> None:
    verb = "subscribe" if subscribe else "unsubscribe"
    if not await can_manage_chat(update, context):
        await reply(update, GROUP_ADMINS_ONLY)
        return
    store = services(context).store
    chat = update.effective_chat
    assert chat is not None
    all_feeds = await store.list_feeds()
    if arg.lower() == "all":
        ids = [f.id for f in all_feeds]
        if not ids:
            await reply(update, "There are no feeds yet. An admin adds them with /addfeed.")
            return
    elif arg.isdecimal() and arg.isascii() and len(arg) < 10:
        ids = [int(arg)]
        if ids[0] not in {f.id for f in all_feeds}:
            text = f"There is no feed {ids[0]} (it may have been removed)."
            await _reply_with_feeds(update, context, text, deep_link)
            return
    else:
        shown = esc(truncate_text(" ".join(arg.split()), 40))
        if deep_link:
            text = f"That link does not name a feed («sub_{shown}»)."
            await _reply_with_feeds(update, context, text, deep_link)
        else:
            await reply(update, f"«{shown}» is not a feed id. {_usage(verb)}")
        return
    titles = {f.id: _feed_name(f, 100) for f in all_feeds}
    if subscribe:
        changed = await store.subscribe(chat.id, ids)
    else:
        changed = await store.unsubscribe(chat.id, ids)
    if not changed:
        if subscribe:
            text = f"This chat already follows {_names(ids, titles)}."
        elif len(ids) > 1:
            text = "This chat does not follow any feed. /feeds lists them."
        else:
            text = f"This chat does not follow {_names(ids, titles)}."
        await reply(update, text)
        return
    if subscribe:
        await reply(
            update,
            f"Subscribed to {_names(changed, titles)}. New statements will arrive here; "
            "/latest shows the newest ones now.",
        )
    else:
        await reply(
            update,
            f"Unsubscribed from {_names(changed, titles)}. No more statements from "
            f"{'them' if len(changed) > 1 else 'it'} will arrive here.",
        )


async def _reply_with_feeds(update: Update, context: Context, text: str, buttons: bool) -> None:
    """A refusal that points to /feeds, or (after a deep link) shows the buttons itself."""
    if not buttons:
        await reply(update, f"{text} /feeds lists them.")
        return
    store = services(context).store
    chat = update.effective_chat
    assert chat is not None
    feeds_now = await store.list_feeds()
    markup = feeds_keyboard(feeds_now, await store.subscriptions(chat.id))
    hint = " Tap a feed below to subscribe." if markup else " There are no feeds yet."
    await reply(update, text + hint, markup)


async def feed_button(update: Update, context: Context) -> None:
    """The subscribe toggles under /feeds and /start."""
    query = update.callback_query
    assert query is not None
    if not button_is_genuine(query):
        await query.answer(STALE_BUTTON)
        return
    parts = (query.data or "").split(":")
    if parts != ["f", "all"] and not (
        len(parts) == 3 and parts[1] in ("s", "u") and parts[2].isdecimal() and len(parts[2]) < 10
    ):
        await query.answer(STALE_BUTTON)
        return
    if not await can_manage_chat(update, context):
        await query.answer(GROUP_ADMINS_ONLY, show_alert=True)
        return
    store = services(context).store
    chat = update.effective_chat
    assert chat is not None
    await remember_chat(update, context, reactivate=True)
    known = {f.id for f in await store.list_feeds()}
    if parts == ["f", "all"]:
        await store.subscribe(chat.id, sorted(known))
        note = "Subscribed to every feed"
    else:
        feed_id = int(parts[2])
        if feed_id not in known:
            await query.answer("That feed no longer exists.", show_alert=True)
            text, markup = await _feeds_view(update, context)
            await edit(query, text, markup)
            return
        if parts[1] == "s":
            await store.subscribe(chat.id, [feed_id])
            note = "Subscribed"
        else:
            await store.unsubscribe(chat.id, [feed_id])
            note = "Unsubscribed"
    await query.answer(note)
    text, markup = await _feeds_view(update, context)
    message = query.message
    if isinstance(message, Message) and not (message.text or "").startswith(FEEDS_HEADING):
        # Under the welcome (or a deep link's reply) the text stays; the buttons
        # show the new state.
        await edit_markup(query, markup)
        return
    await edit(query, text, markup)


# --------------------------------------------------------------------- /latest

LATEST_USAGE = (
    f"Usage: /latest [N] [FEED_ID] — N from 1 to {LATEST_MAX} (default {LATEST_DEFAULT}). "
    "For example /latest 10, or /latest 5 2 for the newest 5 from feed 2."
)


def parse_latest_args(args: list[str]) -> tuple[int, int | None]:
    """`[N] [FEED_ID]` → (n, feed_id). Raises ValueError with the reason."""
    if len(args) > 2:
        raise ValueError("that is too many arguments")
    numbers: list[int] = []
    for arg in args:
        if not (arg.isdecimal() and arg.isascii()) or len(arg) > 9:
            shown = truncate_text(" ".join(arg.split()), 30)
            raise ValueError(f"«{shown}» is not a number")
        numbers.append(int(arg))
    n = numbers[0] if numbers else LATEST_DEFAULT
    if not 1 <= n <= LATEST_MAX:
        raise ValueError(f"N must be between 1 and {LATEST_MAX}")
    return n, numbers[1] if len(numbers) > 1 else None


def latest_keyboard(
    offset: int, n: int, feed_id: int | None, more: bool
) -> InlineKeyboardMarkup | None:
    """Older/Newer; the data carries the whole page (offset, size, feed), so it
    keeps working after a restart."""
    feed = feed_id or 0
    buttons: list[InlineKeyboardButton] = []
    if more:
        buttons.append(InlineKeyboardButton("◀ Older", callback_data=f"l:{offset + n}:{n}:{feed}"))
    if offset > 0:
        newer = max(0, offset - n)
        buttons.append(InlineKeyboardButton("Newer ▶", callback_data=f"l:{newer}:{n}:{feed}"))
    return InlineKeyboardMarkup([buttons]) if buttons else None


async def _latest_view(
    context: Context, chat_id: int, n: int, offset: int, feed: Feed | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    svc = services(context)
    feed_id = feed.id if feed else None
    items = await svc.store.latest_items(n + 1, offset=offset, feed_id=feed_id)
    more = len(items) > n
    items = items[:n]
    if not items:
        if offset:
            return "No older statements.", latest_keyboard(offset, n, feed_id, False)
        if feed is not None:
            return (
                f"No statements from {esc(_feed_name(feed, 100))} are stored yet. "
                "/latest shows the newest from every feed.",
                None,
            )
        return render_no_statements(), None
    chat = await svc.store.find_chat(chat_id)
    tz = ZoneInfo(chat.timezone if chat else svc.settings.timezone)
    title = "Latest statements"
    if feed is not None:
        title = f"Latest from {_feed_name(feed, 100)}"
    if offset or more:
        title += f" ({offset + 1}–{offset + len(items)})"
    return render_latest(items, tz, title=title), latest_keyboard(offset, n, feed_id, more)


async def _find_feed(context: Context, feed_id: int) -> Feed | None:
    for feed in await services(context).store.list_feeds():
        if feed.id == feed_id:
            return feed
    return None


async def latest(update: Update, context: Context) -> None:
    """`/latest [N] [FEED_ID]`: the newest statements, with Older/Newer buttons."""
    await remember_chat(update, context, reactivate=False)
    try:
        n, feed_id = parse_latest_args(args_of(context))
    except ValueError as exc:
        reason = str(exc)
        await reply(update, f"{esc(reason[:1].upper() + reason[1:])}. {LATEST_USAGE}")
        return
    feed = None
    if feed_id is not None:
        feed = await _find_feed(context, feed_id)
        if feed is None:
            await reply(update, f"There is no feed {feed_id}. /feeds lists them.")
            return
    chat = update.effective_chat
    assert chat is not None
    text, markup = await _latest_view(context, chat.id, n, 0, feed)
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
        await query.answer(STALE_BUTTON)
        return
    offset, n, feed_id = int(parts[1]), int(parts[2]), int(parts[3])
    feed = None
    if feed_id:
        feed = await _find_feed(context, feed_id)
        if feed is None:
            await query.answer("That feed has been removed. Send /latest again.", show_alert=True)
            return
    chat = update.effective_chat
    assert chat is not None
    await query.answer()
    text, markup = await _latest_view(context, chat.id, n, offset, feed)
    await edit(query, text, markup)


# --------------------------------------------------------------------- /search

SEARCH_USAGE = (
    'Usage: /search QUERY — words, "a phrase in quotes" or a prefix*. '
    'For example /search Salisbury, /search "chemical weapons" or /search sanction*.'
)


def _search_wait(context: Context, user_id: int) -> int:
    """Seconds until this user may search again (0: now, and the search is counted).

    At most SEARCHES_PER_MINUTE searches in any 60 seconds, per user.
    """
    svc = services(context)
    now = svc.clock().timestamp()
    windows: dict[int, deque[float]] = svc.extras.setdefault("search_windows", {})
    window = windows.setdefault(user_id, deque())
    while window and window[0] <= now - 60:
        window.popleft()
    if len(window) >= SEARCHES_PER_MINUTE:
        return max(1, int(window[0] + 60 - now + 0.999))
    window.append(now)
    return 0


async def _search_view(
    context: Context, chat_id: int, query_text: str, offset: int, token: str, total: int | None
) -> tuple[str, InlineKeyboardMarkup | None, int]:
    """One page of results with Back/More, and the total (counted when not given)."""
    svc = services(context)
    hits = await svc.store.search(query_text, limit=SEARCH_PAGE + 1, offset=offset)
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
        text = "No more results. Send /search again for a new search."
    else:
        # A capped count is a lower bound, so it is not shown as the total.
        shown_total = total if total < SEARCH_COUNT_CAP else None
        text = render_search_results(query_text, hits, tz, offset=offset, total=shown_total)
    buttons: list[InlineKeyboardButton] = []
    if offset:
        prev = max(0, offset - SEARCH_PAGE)
        buttons.append(InlineKeyboardButton("◀ Back", callback_data=f"s:{token}:{prev}"))
    if more:
        buttons.append(
            InlineKeyboardButton("More ▶", callback_data=f"s:{token}:{offset + SEARCH_PAGE}")
        )
    return text, InlineKeyboardMarkup([buttons]) if buttons else None, total


async def search(update: Update, context: Context) -> None:
    """`/search QUERY`: the best matches, with the matched words in bold."""
    await remember_chat(update, context, reactivate=False)
    query_text = text_after_command(update)
    if not query_text:
        await reply(update, SEARCH_USAGE)
        return
    user = update.effective_user
    wait = _search_wait(context, user.id) if user is not None else 0
    if wait:
        await reply(
            update,
            f"That is a lot of searching: at most {SEARCHES_PER_MINUTE} searches a minute. "
            f"Please try again in {wait} second{'s' if wait != 1 else ''}.",
        )
        return
    chat = update.effective_chat
    assert chat is not None
    token = secrets.token_urlsafe(6)
    try:
        text, markup, total = await _search_view(context, chat.id, query_text, 0, token, None)
    except InvalidSearchQueryError as exc:
        await reply(update, f"I can't search for that: {esc(str(exc))}.\n{SEARCH_USAGE}")
        return
    except StorageError as exc:
        await reply(update, f"Sorry, {esc(str(exc))}. Please try other words.")
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
        await query.answer(STALE_BUTTON)
        return
    saved: dict[str, tuple[str, int]] = (context.chat_data or {}).get("searches", {})
    found = saved.get(parts[1])
    if found is None:
        await query.answer("This search has expired. Please send /search again.", show_alert=True)
        return
    query_text, total = found
    chat = update.effective_chat
    assert chat is not None
    await query.answer()
    text, markup, _ = await _search_view(
        context, chat.id, query_text, int(parts[2]), parts[1], total
    )
    await edit(query, text, markup)


# ------------------------------------------------------------------- /counters


async def counters(update: Update, context: Context) -> None:
    """The daily message, as it would be sent now."""
    await remember_chat(update, context, reactivate=False)
    svc = services(context)
    text = render_daily_message(await svc.store.list_counters(), svc.clock(), svc.settings.clocks)
    await reply(update, text)


async def stale_button(update: Update, context: Context) -> None:
    """Any button we no longer understand (an old message, a forged one)."""
    query = update.callback_query
    if query is not None:
        await query.answer(STALE_BUTTON)

"""Commands anyone may use: /start, /help, /feeds, /subscribe, /unsubscribe,
/latest, /search, /counters, and the buttons they show."""

from __future__ import annotations

import logging
import secrets
from collections import deque
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.daily import render_daily_message
from bot.htmltext import esc
from bot.render import render_latest, render_no_statements, render_search_results
from bot.replies import (
    GROUP_ADMINS_ONLY,
    Context,
    args_of,
    can_manage_chat,
    edit,
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

WELCOME = (
    "<b>Communique</b> watches the official statements of the feeds below and sends you "
    "each new one with a short summary as soon as it is published. "
    "It also sends a daily counter message, and lets you read back and search every "
    "statement it has seen.\n\n"
    "Tap a feed to subscribe, or use /help to see everything it can do."
)

USER_HELP = [
    ("/feeds", "every feed, with buttons to subscribe", "/feeds"),
    ("/subscribe FEED_ID|all", "follow a feed (no argument: buttons)", "/subscribe all"),
    ("/unsubscribe FEED_ID|all", "stop following a feed", "/unsubscribe 2"),
    ("/latest [N] [FEED_ID]", "the newest statements (N up to 20)", "/latest 10"),
    ("/search QUERY", 'search every statement: words, "phrases", prefix*', "/search sanction*"),
    ("/counters", "the daily counter message, now", "/counters"),
    ("/settings", "daily time, time zone, daily message on or off", "/settings time 08:00"),
    ("/help", "this list", "/help"),
]

ADMIN_HELP = [
    ("/addfeed URL [TITLE]", "add a feed (stores its backlog, pushes nothing)", None),
    ("/removefeed FEED_ID", "remove a feed (its statements stay searchable)", None),
    ("/pausefeed FEED_ID", "stop polling a feed", None),
    ("/resumefeed FEED_ID", "poll it again", None),
    ("/feedstatus", "health of every feed", None),
    ("/pollnow", "poll every feed now", None),
    ("/addcounter YYYY-MM-DD [Area/City] TEMPLATE", "add a counter; TEMPLATE holds {days}", None),
    ("/removecounter COUNTER_ID", "remove a counter", None),
    ("/stats", "chats, subscriptions, deliveries, queue, failures", None),
]


def render_help(admin: bool) -> str:
    lines = ["<b>What Communique can do</b>", ""]
    for command, what, example in USER_HELP:
        lines.append(f"{esc(command)} — {esc(what)}")
        if example:
            lines.append(f"   e.g. <code>{esc(example)}</code>")
    if admin:
        lines += ["", "<b>Admin commands</b>"]
        for command, what, _ in ADMIN_HELP:
            lines.append(f"{esc(command)} — {esc(what)}")
        lines.append(
            "   e.g. <code>/addcounter 2018-03-04 Europe/Moscow {days} days have passed</code>"
        )
    return "\n".join(lines)


def feeds_keyboard(feeds: list[Feed], subscribed: set[int]) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    for feed in feeds[:90]:
        on = feed.id in subscribed
        label = f"{'✅' if on else '➕'} {feed.id}. {feed.title or feed.url}"[:60]
        rows.append(
            [InlineKeyboardButton(label, callback_data=f"f:{'u' if on else 's'}:{feed.id}")]
        )
    if len(feeds) > 1 and len(subscribed) < len(feeds):
        rows.append([InlineKeyboardButton("Subscribe to all", callback_data="f:all")])
    return InlineKeyboardMarkup(rows) if rows else None


def render_feeds(feeds: list[Feed], subscribed: set[int]) -> str:
    if not feeds:
        return "No feeds yet. An admin adds them with /addfeed URL."
    lines = ["<b>Feeds</b>"]
    for feed in feeds:
        mark = "✅ subscribed" if feed.id in subscribed else "not subscribed"
        paused = " (paused)" if feed.paused else ""
        lines.append(f"{feed.id}. {esc(feed.title or feed.url)}{paused} — {mark}")
    lines.append("\nTap a button to subscribe or unsubscribe.")
    return "\n".join(lines)


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
        await _subscribe_ids(update, context, args[0][4:], subscribe=True)
        return
    _, markup = await _feeds_view(update, context)
    await reply(update, WELCOME, markup)


async def help_command(update: Update, context: Context) -> None:
    """Every command with an example."""
    await remember_chat(update, context, reactivate=False)
    await reply(update, render_help(is_bot_admin(update, context)))


async def feeds(update: Update, context: Context) -> None:
    """Every feed, with a subscribe/unsubscribe toggle."""
    await remember_chat(update, context, reactivate=False)
    text, markup = await _feeds_view(update, context)
    await reply(update, text, markup)


async def subscribe(update: Update, context: Context) -> None:
    await _subscription_command(update, context, subscribe=True)


async def unsubscribe(update: Update, context: Context) -> None:
    await _subscription_command(update, context, subscribe=False)


async def _subscription_command(update: Update, context: Context, *, subscribe: bool) -> None:
    await remember_chat(update, context, reactivate=subscribe)
    args = args_of(context)
    if not args:
        text, markup = await _feeds_view(update, context)
        await reply(update, text, markup)
        return
    if len(args) > 1:
        verb = "subscribe" if subscribe else "unsubscribe"
        await reply(update, f"Usage: /{verb} FEED_ID or /{verb} all")
        return
    await _subscribe_ids(update, context, args[0], subscribe=subscribe)


async def _subscribe_ids(update: Update, context: Context, arg: str, *, subscribe: bool) -> None:
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
    elif arg.isdigit() and len(arg) < 10:
        ids = [int(arg)]
        if ids[0] not in {f.id for f in all_feeds}:
            await reply(update, f"There is no feed {ids[0]}. /feeds lists them.")
            return
    else:
        await reply(
            update,
            f"Usage: /{verb} FEED_ID or /{verb} all — "
            f"«{esc(arg[:40])}» is not a feed id. /feeds lists them.",
        )
        return
    titles = {f.id: f.title or f.url for f in all_feeds}
    if subscribe:
        changed = await store.subscribe(chat.id, ids)
    else:
        changed = await store.unsubscribe(chat.id, ids)
    if not changed:
        state = "already subscribed to" if subscribe else "not subscribed to"
        names = ", ".join(esc(titles[i]) for i in ids)
        await reply(update, f"This chat is {state} {names}.")
        return
    names = ", ".join(esc(titles[i]) for i in changed)
    if subscribe:
        await reply(update, f"Subscribed to {names}. New statements will arrive here.")
    else:
        await reply(update, f"Unsubscribed from {names}.")


async def feed_button(update: Update, context: Context) -> None:
    """The subscribe toggles under /feeds and /start."""
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    if not await can_manage_chat(update, context):
        await query.answer(GROUP_ADMINS_ONLY, show_alert=True)
        return
    store = services(context).store
    chat = update.effective_chat
    assert chat is not None
    await remember_chat(update, context, reactivate=True)
    feeds_now = await store.list_feeds()
    known = {f.id for f in feeds_now}
    parts = data.split(":")
    if parts == ["f", "all"]:
        await store.subscribe(chat.id, sorted(known))
        note = "Subscribed to every feed"
    elif len(parts) == 3 and parts[1] in ("s", "u") and parts[2].isdigit():
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
    else:
        await query.answer("That button is no longer valid.")
        return
    await query.answer(note)
    text, markup = await _feeds_view(update, context)
    await edit(query, text, markup)


# --------------------------------------------------------------------- /latest


def parse_latest_args(args: list[str]) -> tuple[int, int | None]:
    """`[N] [FEED_ID]` → (n, feed_id). Raises ValueError with the reason."""
    if len(args) > 2:
        raise ValueError("too many arguments")
    numbers: list[int] = []
    for arg in args:
        if not arg.isdigit() or len(arg) > 9:
            raise ValueError(f"«{arg[:30]}» is not a number")
        numbers.append(int(arg))
    n = numbers[0] if numbers else LATEST_DEFAULT
    if not 1 <= n <= LATEST_MAX:
        raise ValueError(f"N must be between 1 and {LATEST_MAX}")
    return n, numbers[1] if len(numbers) > 1 else None


def latest_keyboard(
    offset: int, n: int, feed_id: int | None, more: bool
) -> InlineKeyboardMarkup | None:
    feed = feed_id or 0
    buttons: list[InlineKeyboardButton] = []
    if more:
        buttons.append(InlineKeyboardButton("◀ Older", callback_data=f"l:{offset + n}:{n}:{feed}"))
    if offset > 0:
        newer = max(0, offset - n)
        buttons.append(InlineKeyboardButton("Newer ▶", callback_data=f"l:{newer}:{n}:{feed}"))
    return InlineKeyboardMarkup([buttons]) if buttons else None


async def _latest_view(
    context: Context, chat_id: int, n: int, offset: int, feed_id: int | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    svc = services(context)
    items = await svc.store.latest_items(n + 1, offset=offset, feed_id=feed_id)
    more = len(items) > n
    items = items[:n]
    if not items:
        if offset:
            return "No older statements.", latest_keyboard(offset, n, feed_id, False)
        return render_no_statements(), None
    chat = await svc.store.find_chat(chat_id)
    tz = ZoneInfo(chat.timezone if chat else svc.settings.timezone)
    title = "Latest statements"
    if feed_id is not None:
        title = f"Latest from {items[0].feed_title or f'feed {feed_id}'}"
    if offset:
        title += f" ({offset + 1}–{offset + len(items)})"
    return render_latest(items, tz, title=title), latest_keyboard(offset, n, feed_id, more)


async def latest(update: Update, context: Context) -> None:
    """`/latest [N] [FEED_ID]`: the newest statements, with Older/Newer buttons."""
    await remember_chat(update, context, reactivate=False)
    try:
        n, feed_id = parse_latest_args(args_of(context))
    except ValueError as exc:
        await reply(
            update,
            f"Usage: /latest [N] [FEED_ID] — {esc(str(exc))}. "
            f"For example /latest 10, or /latest 5 2 for feed 2.",
        )
        return
    svc = services(context)
    if feed_id is not None and feed_id not in {f.id for f in await svc.store.list_feeds()}:
        await reply(update, f"There is no feed {feed_id}. /feeds lists them.")
        return
    chat = update.effective_chat
    assert chat is not None
    text, markup = await _latest_view(context, chat.id, n, 0, feed_id)
    await reply(update, text, markup)


async def latest_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    if len(parts) != 4 or not all(p.isdigit() and len(p) < 10 for p in parts[1:]):
        await query.answer("That button is no longer valid.")
        return
    offset, n, feed = int(parts[1]), int(parts[2]), int(parts[3])
    if not 1 <= n <= LATEST_MAX:
        await query.answer("That button is no longer valid.")
        return
    chat = update.effective_chat
    assert chat is not None
    await query.answer()
    text, markup = await _latest_view(context, chat.id, n, offset, feed or None)
    await edit(query, text, markup)


# --------------------------------------------------------------------- /search


def _search_allowed(context: Context, user_id: int) -> bool:
    """At most SEARCHES_PER_MINUTE searches a minute per user."""
    svc = services(context)
    now = svc.clock().timestamp()
    windows: dict[int, deque[float]] = svc.extras.setdefault("search_windows", {})
    window = windows.setdefault(user_id, deque())
    while window and window[0] <= now - 60:
        window.popleft()
    if len(window) >= SEARCHES_PER_MINUTE:
        return False
    window.append(now)
    return True


async def _search_view(
    context: Context, chat_id: int, query_text: str, offset: int, token: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    svc = services(context)
    hits = await svc.store.search(query_text, limit=SEARCH_PAGE + 1, offset=offset)
    more = len(hits) > SEARCH_PAGE
    hits = hits[:SEARCH_PAGE]
    chat = await svc.store.find_chat(chat_id)
    tz = ZoneInfo(chat.timezone if chat else svc.settings.timezone)
    if not hits and offset:
        text = f"No more results for «{esc(query_text[:100])}»."
    else:
        text = render_search_results(query_text, hits, tz, offset=offset, total=None)
    buttons: list[InlineKeyboardButton] = []
    if offset:
        prev = max(0, offset - SEARCH_PAGE)
        buttons.append(InlineKeyboardButton("◀ Back", callback_data=f"s:{token}:{prev}"))
    if more:
        buttons.append(
            InlineKeyboardButton("More ▶", callback_data=f"s:{token}:{offset + SEARCH_PAGE}")
        )
    return text, InlineKeyboardMarkup([buttons]) if buttons else None


async def search(update: Update, context: Context) -> None:
    """`/search QUERY`: the best matches, with the matched words in bold."""
    await remember_chat(update, context, reactivate=False)
    query_text = text_after_command(update)
    if not query_text:
        await reply(
            update,
            'Usage: /search QUERY — words, "a phrase in quotes" or a prefix*. '
            "For example /search Salisbury, or /search sanction*.",
        )
        return
    user = update.effective_user
    if user is not None and not _search_allowed(context, user.id):
        await reply(
            update,
            f"That is a lot of searching: at most {SEARCHES_PER_MINUTE} searches a minute. "
            "Please try again in a minute.",
        )
        return
    chat = update.effective_chat
    assert chat is not None
    token = secrets.token_urlsafe(6)
    try:
        text, markup = await _search_view(context, chat.id, query_text, 0, token)
    except InvalidSearchQueryError as exc:
        await reply(update, f"Cannot search for that: {esc(str(exc))}.")
        return
    except StorageError as exc:
        await reply(update, f"Sorry, {esc(str(exc))}.")
        return
    if markup is not None:
        saved: dict[str, str] = context.chat_data.setdefault("searches", {})  # type: ignore[union-attr]
        saved[token] = query_text
        while len(saved) > 50:
            saved.pop(next(iter(saved)))
    await reply(update, text, markup)


async def search_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    saved: dict[str, str] = (context.chat_data or {}).get("searches", {})
    if len(parts) != 3 or not parts[2].isdigit() or len(parts[2]) > 6:
        await query.answer("That button is no longer valid.")
        return
    query_text = saved.get(parts[1])
    if query_text is None:
        await query.answer("This search has expired. Send /search again.", show_alert=True)
        return
    chat = update.effective_chat
    assert chat is not None
    await query.answer()
    text, markup = await _search_view(context, chat.id, query_text, int(parts[2]), parts[1])
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
        await query.answer("That button is no longer valid. Send the command again.")

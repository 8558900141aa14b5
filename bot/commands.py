"""Commands anyone may use: /start, /help, /feeds, /subscribe, /unsubscribe,
/counters, and the buttons they show (/latest and /search are bot/reading.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.reading import LATEST_MAX
from bot.replies import (
    GROUP_ADMINS_ONLY,
    STALE_BUTTON,
    Context,
    args_of,
    button_is_genuine,
    can_manage_chat,
    edit,
    edit_markup,
    is_bot_admin,
    remember_chat,
    reply,
    subscriber_id,
)
from bot.services import services
from storage.models import Feed
from text.counters import render_daily_message
from text.markup import TELEGRAM_LIMIT, esc, truncate_text, visible_length
from text.statements import feed_name

log = logging.getLogger(__name__)

# Telegram shows at most 100 buttons under a message; one row is kept for "all".
FEED_BUTTONS_MAX = 90
FEED_LABEL_MAX = 60
NAMES_MAX = 10

FEEDS_HEADING = "Feeds"

WELCOME = (
    "<b>Communique</b> watches the feeds of official statements and sends each new "
    "statement here, with a short summary and a link, as soon as it is published. "
    "It also sends a daily counter message and lets you read back and search every "
    "statement it has seen."
)

FULL_TEXT_HELP = (
    "Under a pushed statement, and under each one /latest and /search list, the "
    "<b>Full text</b> button sends the statement's whole text (at most 5 a minute)."
)

USER_HELP = [
    ("/start", "the welcome, with buttons to subscribe", "/start"),
    ("/feeds", "every feed, with buttons to subscribe or unsubscribe", "/feeds"),
    ("/subscribe FEED_ID|all", "follow a feed, or all (no argument: buttons)", "/subscribe 2"),
    ("/unsubscribe FEED_ID|all", "stop following a feed, or all", "/unsubscribe all"),
    ("/latest [N] [FEED_ID]", f"the N newest statements (default 5, at most {LATEST_MAX})", None),
    ("/search QUERY", 'search every statement: words, "phrases", prefix*, -word', None),
    (
        "/filter FEED_ID QUERY",
        "only the statements of a followed feed that match (FEED_ID alone: the filter)",
        "/filter 2 sanctions -consular",
    ),
    ("/unfilter FEED_ID", "every statement of the feed again", "/unfilter 2"),
    ("/alert QUERY", "statements from any feed that match, followed or not", "/alert Salisbury"),
    ("/alerts", "this chat's alerts, with buttons to remove them", "/alerts"),
    ("/unalert ALERT_ID", "remove an alert", "/unalert 1"),
    ("/counters", "the daily counter message, now", "/counters"),
    (
        "/settings",
        "this chat's daily time, time zone, daily message on or off, instant or digest",
        None,
    ),
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
        "/settings pushes digest",
    ],
}

ADMIN_HELP = [
    (
        "/addfeed URL [TITLE]",
        "add a feed (stores its backlog, pushes nothing); a web page: the feed it names,"
        " else its statements, after a preview",
        "/addfeed https://embassy.example/feed.xml Embassy",
    ),
    (
        "/addpage URL item=CSS [title=CSS] [link=CSS] [date=CSS] [summary=CSS] [TITLE]",
        "a web page's statements, found with your selectors, after a preview",
        '/addpage https://embassy.example/news item=".news-list li" Embassy',
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
        FULL_TEXT_HELP,
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


def feeds_keyboard(feeds: list[Feed], subscribed: set[int]) -> InlineKeyboardMarkup | None:
    """A toggle per feed (✅ subscribed, ➕ not), and "Subscribe to all" when useful."""
    rows: list[list[InlineKeyboardButton]] = []
    for feed in feeds[:FEED_BUTTONS_MAX]:
        on = feed.id in subscribed
        label = f"{'✅' if on else '➕'} {feed.id}. {feed_name(feed, FEED_LABEL_MAX)}"
        rows.append(
            [InlineKeyboardButton(label, callback_data=f"f:{'u' if on else 's'}:{feed.id}")]
        )
    if len(feeds) > 1 and len(subscribed & {f.id for f in feeds}) < len(feeds):
        rows.append([InlineKeyboardButton("Subscribe to all", callback_data="f:all")])
    return InlineKeyboardMarkup(rows) if rows else None


def render_feeds(
    feeds: list[Feed],
    subscribed: set[int],
    limit: int = TELEGRAM_LIMIT,
    filters: Mapping[int, str] | None = None,
) -> str:
    """The /feeds list: id, title, paused, subscribed (with the chat's filter, by feed
    id, if any); as many as fit in one message."""
    if not feeds:
        return "There are no feeds yet. An admin adds them with /addfeed URL."
    footer = "\nTap a button to subscribe or unsubscribe, or send /subscribe FEED_ID."
    text = f"<b>{FEEDS_HEADING}</b>"
    for index, feed in enumerate(feeds):
        mark = "✅ subscribed" if feed.id in subscribed else "not subscribed"
        query = (filters or {}).get(feed.id)
        if query is not None and feed.id in subscribed:
            mark += f", filter «{esc(truncate_text(' '.join(query.split()), 60))}»"
        paused = " (paused)" if feed.paused else ""
        line = f"{feed.id}. {esc(feed_name(feed, 100))}{paused} — {mark}"
        rest = len(feeds) - index - 1
        # Room is kept for the "…and K more" line in case the next feed will not fit.
        tail = f"\n…and {rest} more" if rest else ""
        if visible_length(f"{text}\n{line}{tail}\n{footer}") > limit:
            text += f"\n…and {rest + 1} more"
            break
        text += "\n" + line
    return text + "\n" + footer


async def _feeds_and_subscriptions(update: Update, context: Context) -> tuple[list[Feed], set[int]]:
    store = services(context).store
    return await store.list_feeds(), await store.subscriptions(await subscriber_id(update, context))


async def _feeds_view(update: Update, context: Context) -> tuple[str, InlineKeyboardMarkup | None]:
    feeds, subscribed = await _feeds_and_subscriptions(update, context)
    chat_id = await subscriber_id(update, context)
    filters = {
        feed_id: found.query
        for feed_id, found in (await services(context).store.chat_filters(chat_id)).items()
    }
    return render_feeds(feeds, subscribed, filters=filters), feeds_keyboard(feeds, subscribed)


async def start(update: Update, context: Context) -> None:
    """Welcome; `/start sub_<FEED_ID>` (a deep link) subscribes at once."""
    await remember_chat(update, context, reactivate=True)
    args = args_of(context)
    if args and args[0].startswith("sub_"):
        await _subscribe_ids(update, context, args[0][4:], subscribe=True, deep_link=True)
        return
    feeds_now, subscribed = await _feeds_and_subscriptions(update, context)
    await reply(update, render_welcome(bool(feeds_now)), feeds_keyboard(feeds_now, subscribed))


async def unknown_command(update: Update, context: Context) -> None:
    """A command this bot does not have, in a private chat (groups stay quiet: the
    command may be another bot's)."""
    message = update.effective_message
    word = ((message.text or "").split() or [""])[0] if message else ""
    word = word.split("@", 1)[0]
    await reply(update, f"I don't know {esc(word[:40])}. /help lists what I can do.")


async def plain_text(update: Update, context: Context) -> None:
    """Words without a command, in a private chat: say how to ask."""
    await reply(
        update,
        "I answer commands. To search the statements, send /search and your words, e.g."
        " /search sanctions; /latest shows the newest; /help lists everything.",
    )


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
    chat_id = await subscriber_id(update, context)
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
    titles = {f.id: feed_name(f, 100) for f in all_feeds}
    if subscribe:
        changed = await store.subscribe(chat_id, ids)
    else:
        changed = await store.unsubscribe(chat_id, ids)
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
    markup = feeds_keyboard(*await _feeds_and_subscriptions(update, context))
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
    chat_id = (await remember_chat(update, context, reactivate=True)).id
    known = {f.id for f in await store.list_feeds()}
    if parts == ["f", "all"]:
        await store.subscribe(chat_id, sorted(known))
        note = "Subscribed to every feed"
    else:
        feed_id = int(parts[2])
        if feed_id not in known:
            await query.answer("That feed no longer exists.", show_alert=True)
            text, markup = await _feeds_view(update, context)
            await edit(query, text, markup)
            return
        if parts[1] == "s":
            await store.subscribe(chat_id, [feed_id])
            note = "Subscribed"
        else:
            await store.unsubscribe(chat_id, [feed_id])
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


async def bot_membership_changed(update: Update, context: Context) -> None:
    """Telegram tells us the bot was blocked, kicked or removed: stop sending there
    at once (pending messages are cancelled, kept) instead of learning it from a 403.
    A chat comes back when someone sends /start (or an admin re-adds a channel)."""
    change = update.my_chat_member
    if change is None:
        return
    status = change.new_chat_member.status
    if status not in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        return
    store = services(context).store
    chat = await store.find_chat(change.chat.id)
    if chat is None or not chat.active:
        return
    reason = "blocked the bot" if change.chat.type == ChatType.PRIVATE else "removed the bot"
    cancelled = await store.deactivate_chat(change.chat.id, reason)
    log.info("chat %s %s; %d pending message(s) cancelled", change.chat.id, reason, cancelled)

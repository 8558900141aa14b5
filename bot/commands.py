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
    language_of,
    remember_chat,
    reply,
    subscriber_id,
)
from bot.services import services
from storage.models import Feed
from text.counters import render_daily_message
from text.i18n import LANGUAGES, N_, Translator, translator
from text.markup import TELEGRAM_LIMIT, esc, truncate_text, visible_length
from text.statements import feed_name

log = logging.getLogger(__name__)

# Telegram shows at most 100 buttons under a message; one row is kept for "all".
FEED_BUTTONS_MAX = 90
FEED_LABEL_MAX = 60
NAMES_MAX = 10

# The heading of the /feeds list; a button under a message that starts with it (in
# any language) redraws the list, under any other message only its buttons.
FEEDS_HEADING = N_("Feeds")

WELCOME = N_(
    "<b>Communique</b> watches the feeds of official statements and sends each new "
    "statement here, with a short summary and a link, as soon as it is published. "
    "It also sends a daily counter message and lets you read back and search every "
    "statement it has seen."
)

FULL_TEXT_HELP = N_(
    "Under a pushed statement, and under each one /latest and /search list, the "
    "<b>Full text</b> button sends the statement's whole text (at most 5 a minute)."
)

# (command, what it does, its example): what it does is translated where the help
# is rendered, with {max} filled in (any other {name} in it is kept as written).
USER_HELP = [
    ("/start", N_("the welcome, with buttons to subscribe"), "/start"),
    ("/feeds", N_("every feed, with buttons to subscribe or unsubscribe"), "/feeds"),
    ("/subscribe FEED_ID|all", N_("follow a feed, or all (no argument: buttons)"), "/subscribe 2"),
    ("/unsubscribe FEED_ID|all", N_("stop following a feed, or all"), "/unsubscribe all"),
    ("/latest [N] [FEED_ID]", N_("the N newest statements (default 5, at most {max})"), None),
    ("/search QUERY", N_('search every statement: words, "phrases", prefix*, -word'), None),
    (
        "/filter FEED_ID QUERY",
        N_("only the statements of a followed feed that match (FEED_ID alone: the filter)"),
        "/filter 2 sanctions -consular",
    ),
    ("/unfilter FEED_ID", N_("every statement of the feed again"), "/unfilter 2"),
    (
        "/alert QUERY",
        N_("statements from any feed that match, followed or not"),
        "/alert Salisbury",
    ),
    ("/alerts", N_("this chat's alerts, with buttons to remove them"), "/alerts"),
    ("/unalert ALERT_ID", N_("remove an alert"), "/unalert 1"),
    ("/counters", N_("the daily counter message, now"), "/counters"),
    (
        "/settings",
        N_(
            "this chat's daily time, time zone, daily message on or off, instant or digest,"
            " language"
        ),
        None,
    ),
    ("/help", N_("this list"), "/help"),
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
        "/settings language ru",
    ],
}

ADMIN_HELP = [
    (
        "/addfeed URL [TITLE]",
        N_(
            "add a feed (stores its backlog, pushes nothing); a web page: the feed it names,"
            " else its statements, after a preview"
        ),
        "/addfeed https://embassy.example/feed.xml Embassy",
    ),
    (
        "/addpage URL item=CSS [title=CSS] [link=CSS] [date=CSS] [summary=CSS] [TITLE]",
        N_("a web page's statements, found with your selectors, after a preview"),
        '/addpage https://embassy.example/news item=".news-list li" Embassy',
    ),
    ("/removefeed FEED_ID", N_("remove a feed (its statements stay searchable)"), "/removefeed 2"),
    ("/pausefeed FEED_ID", N_("stop polling a feed"), "/pausefeed 2"),
    ("/resumefeed FEED_ID", N_("poll it again"), "/resumefeed 2"),
    ("/feedstatus", N_("health of every feed"), "/feedstatus"),
    ("/pollnow", N_("poll every feed now"), "/pollnow"),
    (
        "/addcounter YYYY-MM-DD [Area/City] TEMPLATE",
        N_("add a counter; TEMPLATE holds {days}"),
        "/addcounter 2018-03-04 Europe/Moscow {days} days have passed since the Salisbury incident",
    ),
    ("/removecounter COUNTER_ID", N_("remove a counter"), "/removecounter 1"),
    (
        "/countertext COUNTER_ID LANG TEMPLATE",
        N_(
            "a counter's text in another language (ru or en); {one|few|many} choose"
            " the form the number needs"
        ),
        "/countertext 1 ru С инцидента в Солсбери {прошёл|прошло|прошло} {days} {день|дня|дней}",
    ),
    ("/stats", N_("chats, subscriptions, deliveries, queue, failures"), "/stats"),
    (
        "/addchannel @name [FEED_ID|all]",
        N_("post statements to a channel the bot is an admin of"),
        "/addchannel @embassy_news all",
    ),
    (
        "/removechannel @name [FEED_ID]",
        N_("stop posting to a channel (or only one feed there)"),
        "/removechannel @embassy_news",
    ),
    (
        "/exportopml",
        N_("every feed as an OPML file; send one back to import"),
        "/exportopml",
    ),
]


class _Kept(dict[str, object]):
    """Values for a help line's placeholders; a name it does not know stays as
    written ("{days}" in what /addcounter's TEMPLATE holds)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _help_lines(entries: Sequence[tuple[str, str, str | None]], tr: Translator) -> list[str]:
    values = _Kept(max=LATEST_MAX)
    lines: list[str] = []
    for command, what, example in entries:
        lines.append(f"{esc(command)} — {esc(tr.gettext(what).format_map(values))}")
        examples = USER_EXAMPLES.get(command) or ([example] if example else [])
        shown = ", ".join(f"<code>{esc(e)}</code>" for e in examples)
        lines.append("   " + tr.gettext("e.g. {examples}").format(examples=shown))
    return lines


def render_help(admin: bool, bot_username: str = "BotName", language: str = "en") -> str:
    """Every command with what it does and an example; admin commands for admins."""
    tr = translator(language)
    _ = tr.gettext
    lines = [_("<b>What Communique can do</b>"), "", *_help_lines(USER_HELP, tr)]
    lines += [
        "",
        _(FULL_TEXT_HELP),
        "",
        _(
            "In a group, anyone may use /latest, /search and /counters; only the group's "
            "admins may change its subscriptions and settings. In a group you can also "
            "write <code>{command}</code>."
        ).format(command=f"/latest@{esc(bot_username)}"),
    ]
    if admin:
        lines += ["", _("<b>Admin commands</b>"), *_help_lines(ADMIN_HELP, tr)]
    return "\n".join(lines)


def render_welcome(has_feeds: bool, language: str = "en") -> str:
    _ = translator(language).gettext
    if has_feeds:
        hint = _("Tap a feed below to subscribe, or send /help to see everything.")
    else:
        hint = _(
            "There are no feeds yet: an admin adds them with /addfeed. "
            "Send /help to see everything."
        )
    return f"{_(WELCOME)}\n\n{hint}"


def feeds_keyboard(
    feeds: list[Feed], subscribed: set[int], language: str = "en"
) -> InlineKeyboardMarkup | None:
    """A toggle per feed (✅ subscribed, ➕ not), and "Subscribe to all" when useful."""
    rows: list[list[InlineKeyboardButton]] = []
    for feed in feeds[:FEED_BUTTONS_MAX]:
        on = feed.id in subscribed
        label = f"{'✅' if on else '➕'} {feed.id}. {feed_name(feed, FEED_LABEL_MAX)}"
        rows.append(
            [InlineKeyboardButton(label, callback_data=f"f:{'u' if on else 's'}:{feed.id}")]
        )
    if len(feeds) > 1 and len(subscribed & {f.id for f in feeds}) < len(feeds):
        label = translator(language).gettext("Subscribe to all")
        rows.append([InlineKeyboardButton(label, callback_data="f:all")])
    return InlineKeyboardMarkup(rows) if rows else None


def render_feeds(
    feeds: list[Feed],
    subscribed: set[int],
    limit: int = TELEGRAM_LIMIT,
    filters: Mapping[int, str] | None = None,
    language: str = "en",
) -> str:
    """The /feeds list: id, title, paused, subscribed (with the chat's filter, by feed
    id, if any); as many as fit in one message."""
    tr = translator(language)
    _ = tr.gettext
    if not feeds:
        return _("There are no feeds yet. An admin adds them with /addfeed URL.")

    def and_more(count: int) -> str:
        return tr.ngettext("…and {count} more", "…and {count} more", count).format(count=count)

    footer = "\n" + _("Tap a button to subscribe or unsubscribe, or send /subscribe FEED_ID.")
    text = f"<b>{_(FEEDS_HEADING)}</b>"
    for index, feed in enumerate(feeds):
        query = (filters or {}).get(feed.id)
        if feed.id not in subscribed:
            mark = _("not subscribed")
        elif query is not None:
            shown = esc(truncate_text(" ".join(query.split()), 60))
            mark = _("✅ subscribed, filter «{query}»").format(query=shown)
        else:
            mark = _("✅ subscribed")
        name = esc(feed_name(feed, 100))
        if feed.paused:
            name = _("{feed} (paused)").format(feed=name)
        line = f"{feed.id}. {name} — {mark}"
        rest = len(feeds) - index - 1
        # Room is kept for the "…and K more" line in case the next feed will not fit.
        tail = f"\n{and_more(rest)}" if rest else ""
        if visible_length(f"{text}\n{line}{tail}\n{footer}") > limit:
            text += f"\n{and_more(rest + 1)}"
            break
        text += "\n" + line
    return text + "\n" + footer


async def _feeds_and_subscriptions(update: Update, context: Context) -> tuple[list[Feed], set[int]]:
    store = services(context).store
    return await store.list_feeds(), await store.subscriptions(await subscriber_id(update, context))


async def _feeds_view(
    update: Update, context: Context, language: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    feeds, subscribed = await _feeds_and_subscriptions(update, context)
    chat_id = await subscriber_id(update, context)
    filters = {
        feed_id: found.query
        for feed_id, found in (await services(context).store.chat_filters(chat_id)).items()
    }
    text = render_feeds(feeds, subscribed, filters=filters, language=language)
    return text, feeds_keyboard(feeds, subscribed, language)


async def start(update: Update, context: Context) -> None:
    """Welcome; `/start sub_<FEED_ID>` (a deep link) subscribes at once."""
    language = (await remember_chat(update, context, reactivate=True)).language
    args = args_of(context)
    if args and args[0].startswith("sub_"):
        await _subscribe_ids(update, context, args[0][4:], language, subscribe=True, deep_link=True)
        return
    feeds_now, subscribed = await _feeds_and_subscriptions(update, context)
    await reply(
        update,
        render_welcome(bool(feeds_now), language),
        feeds_keyboard(feeds_now, subscribed, language),
    )


async def unknown_command(update: Update, context: Context) -> None:
    """A command this bot does not have, in a private chat (groups stay quiet: the
    command may be another bot's)."""
    _ = translator(await language_of(update, context)).gettext
    message = update.effective_message
    word = ((message.text or "").split() or [""])[0] if message else ""
    word = word.split("@", 1)[0]
    await reply(
        update,
        _("I don't know {command}. /help lists what I can do.").format(command=esc(word[:40])),
    )


async def plain_text(update: Update, context: Context) -> None:
    """Words without a command, in a private chat: say how to ask."""
    _ = translator(await language_of(update, context)).gettext
    await reply(
        update,
        _(
            "I answer commands. To search the statements, send /search and your words, e.g."
            " /search sanctions; /latest shows the newest; /help lists everything."
        ),
    )


async def help_command(update: Update, context: Context) -> None:
    """Every command with an example."""
    language = (await remember_chat(update, context, reactivate=False)).language
    admin = is_bot_admin(update, context)
    await reply(update, render_help(admin, context.bot.username, language))


async def feeds(update: Update, context: Context) -> None:
    """Every feed, with a subscribe/unsubscribe toggle."""
    language = (await remember_chat(update, context, reactivate=False)).language
    text, markup = await _feeds_view(update, context, language)
    await reply(update, text, markup)


async def subscribe(update: Update, context: Context) -> None:
    """`/subscribe FEED_ID|all`; without an argument, the feed buttons."""
    await _subscription_command(update, context, subscribe=True)


async def unsubscribe(update: Update, context: Context) -> None:
    """`/unsubscribe FEED_ID|all`; without an argument, the feed buttons."""
    await _subscription_command(update, context, subscribe=False)


SUBSCRIBE_USAGE = N_(
    "Usage: /subscribe FEED_ID or /subscribe all, for example /subscribe 2. /feeds lists the ids."
)
UNSUBSCRIBE_USAGE = N_(
    "Usage: /unsubscribe FEED_ID or /unsubscribe all, for example /unsubscribe 2. "
    "/feeds lists the ids."
)


async def _subscription_command(update: Update, context: Context, *, subscribe: bool) -> None:
    # Asked first, so a refused member leaves no trace (not even a reactivated chat).
    if not await can_manage_chat(update, context):
        _ = translator(await language_of(update, context)).gettext
        await reply(update, _(GROUP_ADMINS_ONLY))
        return
    language = (await remember_chat(update, context, reactivate=subscribe)).language
    _ = translator(language).gettext
    args = args_of(context)
    if not args:
        text, markup = await _feeds_view(update, context, language)
        await reply(update, text, markup)
        return
    if len(args) > 1:
        usage = _(SUBSCRIBE_USAGE if subscribe else UNSUBSCRIBE_USAGE)
        await reply(update, _("One feed at a time, please. {usage}").format(usage=usage))
        return
    await _subscribe_ids(update, context, args[0], language, subscribe=subscribe)


def _names(ids: list[int], titles: dict[int, str], tr: Translator) -> str:
    """Feed names for a reply, escaped; a long list ends with "and K more"."""
    shown = [f"<b>{esc(titles[i])}</b>" for i in ids[:NAMES_MAX]]
    if len(ids) > NAMES_MAX:
        more = len(ids) - NAMES_MAX
        return tr.ngettext("{names} and {count} more", "{names} and {count} more", more).format(
            names=", ".join(shown), count=more
        )
    if len(shown) > 1:
        return tr.gettext("{names} and {last}").format(names=", ".join(shown[:-1]), last=shown[-1])
    return shown[0] if shown else ""


async def _subscribe_ids(
    update: Update,
    context: Context,
    arg: str,
    language: str,
    *,
    subscribe: bool,
    deep_link: bool = False,
) -> None:
    tr = translator(language)
    _ = tr.gettext
    if not await can_manage_chat(update, context):
        await reply(update, _(GROUP_ADMINS_ONLY))
        return
    store = services(context).store
    chat_id = await subscriber_id(update, context)
    all_feeds = await store.list_feeds()
    if arg.lower() == "all":
        ids = [f.id for f in all_feeds]
        if not ids:
            await reply(update, _("There are no feeds yet. An admin adds them with /addfeed."))
            return
    elif arg.isdecimal() and arg.isascii() and len(arg) < 10:
        ids = [int(arg)]
        if ids[0] not in {f.id for f in all_feeds}:
            text = _("There is no feed {id} (it may have been removed).").format(id=ids[0])
            await _reply_with_feeds(update, context, text, language, deep_link)
            return
    else:
        shown = esc(truncate_text(" ".join(arg.split()), 40))
        if deep_link:
            text = _("That link does not name a feed («sub_{argument}»).").format(argument=shown)
            await _reply_with_feeds(update, context, text, language, deep_link)
        else:
            usage = _(SUBSCRIBE_USAGE if subscribe else UNSUBSCRIBE_USAGE)
            text = _("«{argument}» is not a feed id. {usage}").format(argument=shown, usage=usage)
            await reply(update, text)
        return
    titles = {f.id: feed_name(f, 100) for f in all_feeds}
    if subscribe:
        changed = await store.subscribe(chat_id, ids)
    else:
        changed = await store.unsubscribe(chat_id, ids)
    if not changed:
        if subscribe:
            text = _("This chat already follows {feeds}.").format(feeds=_names(ids, titles, tr))
        elif len(ids) > 1:
            text = _("This chat does not follow any feed. /feeds lists them.")
        else:
            text = _("This chat does not follow {feeds}.").format(feeds=_names(ids, titles, tr))
        await reply(update, text)
        return
    names = _names(changed, titles, tr)
    if subscribe:
        text = _(
            "Subscribed to {feeds}. New statements will arrive here; "
            "/latest shows the newest ones now."
        )
    elif len(changed) > 1:
        text = _("Unsubscribed from {feeds}. No more statements from them will arrive here.")
    else:
        text = _("Unsubscribed from {feeds}. No more statements from it will arrive here.")
    await reply(update, text.format(feeds=names))


async def _reply_with_feeds(
    update: Update, context: Context, text: str, language: str, buttons: bool
) -> None:
    """A refusal that points to /feeds, or (after a deep link) shows the buttons itself."""
    _ = translator(language).gettext
    if not buttons:
        await reply(update, _("{refusal} /feeds lists them.").format(refusal=text))
        return
    markup = feeds_keyboard(*await _feeds_and_subscriptions(update, context), language)
    if markup:
        text = _("{refusal} Tap a feed below to subscribe.").format(refusal=text)
    else:
        text = _("{refusal} There are no feeds yet.").format(refusal=text)
    await reply(update, text, markup)


async def feed_button(update: Update, context: Context) -> None:
    """The subscribe toggles under /feeds and /start."""
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    if not button_is_genuine(query) or (
        parts != ["f", "all"]
        and not (
            len(parts) == 3
            and parts[1] in ("s", "u")
            and parts[2].isdecimal()
            and len(parts[2]) < 10
        )
    ):
        await query.answer(translator(await language_of(update, context)).gettext(STALE_BUTTON))
        return
    if not await can_manage_chat(update, context):
        _ = translator(await language_of(update, context)).gettext
        await query.answer(_(GROUP_ADMINS_ONLY), show_alert=True)
        return
    store = services(context).store
    stored = await remember_chat(update, context, reactivate=True)
    chat_id, language = stored.id, stored.language
    _ = translator(language).gettext
    known = {f.id for f in await store.list_feeds()}
    if parts == ["f", "all"]:
        await store.subscribe(chat_id, sorted(known))
        note = _("Subscribed to every feed")
    else:
        feed_id = int(parts[2])
        if feed_id not in known:
            await query.answer(_("That feed no longer exists."), show_alert=True)
            text, markup = await _feeds_view(update, context, language)
            await edit(query, text, markup)
            return
        if parts[1] == "s":
            await store.subscribe(chat_id, [feed_id])
            note = _("Subscribed")
        else:
            await store.unsubscribe(chat_id, [feed_id])
            note = _("Unsubscribed")
    await query.answer(note)
    text, markup = await _feeds_view(update, context, language)
    message = query.message
    if isinstance(message, Message) and not _is_feeds_list(message.text or ""):
        # Under the welcome (or a deep link's reply) the text stays; the buttons
        # show the new state.
        await edit_markup(query, markup)
        return
    await edit(query, text, markup)


def _is_feeds_list(text: str) -> bool:
    """Whether a message is a /feeds list, in whichever language it was written (the
    chat may have changed its language since)."""
    return any(text.startswith(translator(lang).gettext(FEEDS_HEADING)) for lang in LANGUAGES)


# ------------------------------------------------------------------- /counters


async def counters(update: Update, context: Context) -> None:
    """The daily message, as it would be sent now."""
    language = (await remember_chat(update, context, reactivate=False)).language
    svc = services(context)
    text = render_daily_message(
        await svc.store.list_counters(), svc.clock(), svc.settings.clocks, language=language
    )
    await reply(update, text)


async def stale_button(update: Update, context: Context) -> None:
    """Any button we no longer understand (an old message, a forged one)."""
    query = update.callback_query
    if query is not None:
        await query.answer(translator(await language_of(update, context)).gettext(STALE_BUTTON))


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

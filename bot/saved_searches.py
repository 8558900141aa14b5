"""Saved searches: /filter and /unfilter narrow a subscription to the statements that
match; /alert, /alerts and /unalert bring what matches from any feed. Queries are
/search's language (words, "phrases", prefix*) plus -word to exclude. Who may
change them is who may change the chat's subscriptions."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.replies import (
    GROUP_ADMINS_ONLY,
    STALE_BUTTON,
    Context,
    args_of,
    button_is_genuine,
    can_manage_chat,
    edit,
    remember_chat,
    reply,
    subscriber_id,
    text_after_command,
)
from bot.services import services
from storage.errors import (
    AlertExistsError,
    AlertLimitError,
    AlertNotFoundError,
    InvalidSearchQueryError,
    NotSubscribedError,
)
from storage.models import Alert, Feed
from storage.query import parse_saved_query
from storage.store import MAX_ALERTS
from text.markup import esc, truncate_text
from text.statements import feed_name

QUERY_SHOWN = 100  # characters of a query shown in a reply or a button

FILTER_USAGE = (
    "Usage: /filter FEED_ID QUERY — from now on this chat gets only that feed's new "
    'statements that match QUERY: words, "phrases", prefix*, and -word to leave out. '
    "For example <code>/filter 2 sanctions -consular</code>; <code>/filter 2</code> "
    "shows the filter, <code>/unfilter 2</code> removes it."
)
ALERT_USAGE = (
    "Usage: /alert QUERY — every new statement, from any feed, that matches QUERY comes "
    'here, followed or not: words, "phrases", prefix*, and -word to leave out. '
    'For example <code>/alert Salisbury</code> or <code>/alert "chemical weapons" '
    "-OPCW</code>. /alerts lists them."
)
PREFIX = "al:"


def _shown(query: str) -> str:
    return esc(truncate_text(" ".join(query.split()), QUERY_SHOWN))


def _feed_id(arg: str) -> int | None:
    return int(arg) if arg.isdecimal() and arg.isascii() and len(arg) < 10 else None


async def _allowed(update: Update, context: Context) -> bool:
    if await can_manage_chat(update, context):
        return True
    await reply(update, GROUP_ADMINS_ONLY)
    return False


async def _find_feed(context: Context, feed_id: int) -> Feed | None:
    return next((f for f in await services(context).store.list_feeds() if f.id == feed_id), None)


# ------------------------------------------------------------------- filters


async def filter_command(update: Update, context: Context) -> None:
    """`/filter FEED_ID QUERY` sets a filter; `/filter FEED_ID` shows it."""
    args = args_of(context)
    feed_id = _feed_id(args[0]) if args else None
    if feed_id is None:
        await reply(update, FILTER_USAGE)
        return
    chat_id = await subscriber_id(update, context)
    store = services(context).store
    feed = await _find_feed(context, feed_id)
    if feed is None:
        await reply(update, f"There is no feed {feed_id}. /feeds lists them.")
        return
    name = esc(feed_name(feed, 100))
    # The query as typed, quotes and spacing kept: everything after the feed id.
    query_text = (text_after_command(update).split(maxsplit=1)[1:] or [""])[0].strip()
    if not query_text:
        current = await store.get_filter(chat_id, feed_id)
        if current is None:
            await reply(update, f"No filter on feed {feed_id}, <b>{name}</b>: every new "
                        "statement from it arrives. " + FILTER_USAGE)  # fmt: skip
        else:
            await reply(
                update,
                f"Filter on feed {feed_id}, <b>{name}</b>: «{_shown(current.query)}». "
                f"<code>/unfilter {feed_id}</code> removes it.",
            )
        return
    if not await _allowed(update, context):
        return
    try:
        query = parse_saved_query(query_text)
    except InvalidSearchQueryError as exc:
        await reply(update, f"I can't filter on that: {esc(str(exc))}.\n{FILTER_USAGE}")
        return
    await remember_chat(update, context, reactivate=False)
    try:
        await store.set_filter(chat_id, feed_id, str(query))
    except NotSubscribedError:
        await reply(
            update,
            f"This chat does not follow feed {feed_id}, <b>{name}</b>: "
            f"<code>/subscribe {feed_id}</code> first, then set the filter. Nothing changed.",
        )
        return
    meaning = (
        "everything but what mentions it"
        if not query.include
        else "only the statements that match it"
    )
    await reply(
        update,
        f"Filter set on feed {feed_id}, <b>{name}</b>: «{_shown(str(query))}». From now on "
        f"this chat gets {meaning}. <code>/unfilter {feed_id}</code> removes it.",
    )


async def unfilter(update: Update, context: Context) -> None:
    """`/unfilter FEED_ID`: every new statement of the feed arrives again."""
    args = args_of(context)
    feed_id = _feed_id(args[0]) if len(args) == 1 else None
    if feed_id is None:
        await reply(update, "Usage: /unfilter FEED_ID — for example <code>/unfilter 2</code>.")
        return
    if not await _allowed(update, context):
        return
    chat_id = await subscriber_id(update, context)
    if not await services(context).store.remove_filter(chat_id, feed_id):
        await reply(update, f"There is no filter on feed {feed_id} here. Nothing changed.")
        return
    await reply(update, f"Filter removed: every new statement of feed {feed_id} arrives again.")


# -------------------------------------------------------------------- alerts


def render_alerts(alerts: list[Alert]) -> str:
    if not alerts:
        return "This chat has no alerts. " + ALERT_USAGE
    lines = [f"<b>Alerts</b> ({len(alerts)} of at most {MAX_ALERTS})"]
    lines += [f"{a.id}. «{_shown(a.query)}»" for a in alerts]
    lines.append("\nTap one to remove it, or send /unalert ALERT_ID.")
    return "\n".join(lines)


def alerts_keyboard(alerts: list[Alert]) -> InlineKeyboardMarkup | None:
    rows = [
        [
            InlineKeyboardButton(
                f"✖ {a.id}. {truncate_text(' '.join(a.query.split()), 40)}",
                callback_data=f"{PREFIX}rm:{a.id}",
            )
        ]
        for a in alerts
    ]
    return InlineKeyboardMarkup(rows) if rows else None


async def alert(update: Update, context: Context) -> None:
    """`/alert QUERY`: new statements from any feed that match come here."""
    query_text = text_after_command(update)
    if not query_text:
        await reply(update, ALERT_USAGE)
        return
    if not await _allowed(update, context):
        return
    try:
        query = parse_saved_query(query_text)
    except InvalidSearchQueryError as exc:
        await reply(update, f"I can't watch for that: {esc(str(exc))}.\n{ALERT_USAGE}")
        return
    if not query.include:
        await reply(
            update,
            "An alert needs at least one word to look for (-word alone would bring "
            f"everything else). {ALERT_USAGE}",
        )
        return
    chat_id = await subscriber_id(update, context)
    await remember_chat(update, context, reactivate=True)
    try:
        saved = await services(context).store.add_alert(chat_id, query_text, query.canonical)
    except AlertExistsError as exc:
        await reply(
            update, f"This chat already has that alert: alert {exc.alert_id}. Nothing changed."
        )
        return
    except AlertLimitError:
        await reply(
            update,
            f"This chat already has {MAX_ALERTS} alerts, the most it can have. Remove one "
            "with /alerts first. Nothing changed.",
        )
        return
    await reply(
        update,
        f"Alert {saved.id} saved: «{_shown(str(query))}». Every new statement that matches, "
        "from any feed, will arrive here. /alerts lists them; "
        f"<code>/unalert {saved.id}</code> removes it.",
    )


async def alerts(update: Update, context: Context) -> None:
    """`/alerts`: this chat's alerts, with remove buttons."""
    chat_id = await subscriber_id(update, context)
    found = await services(context).store.chat_alerts(chat_id)
    await reply(update, render_alerts(found), alerts_keyboard(found))


async def unalert(update: Update, context: Context) -> None:
    """`/unalert ALERT_ID`."""
    args = args_of(context)
    alert_id = _feed_id(args[0]) if len(args) == 1 else None
    if alert_id is None:
        await reply(update, "Usage: /unalert ALERT_ID — /alerts lists them.")
        return
    if not await _allowed(update, context):
        return
    chat_id = await subscriber_id(update, context)
    try:
        removed = await services(context).store.remove_alert(chat_id, alert_id)
    except AlertNotFoundError:
        await reply(update, f"This chat has no alert {alert_id}. /alerts lists them.")
        return
    await reply(update, f"Alert {removed.id} removed: «{_shown(removed.query)}».")


async def alerts_button(update: Update, context: Context) -> None:
    """A remove button under /alerts: the alert goes, the list is redrawn."""
    query = update.callback_query
    assert query is not None
    kind, _, value = (query.data or "").removeprefix(PREFIX).partition(":")
    alert_id = _feed_id(value)
    if not button_is_genuine(query) or kind != "rm" or alert_id is None:
        await query.answer(STALE_BUTTON)
        return
    if not await can_manage_chat(update, context):
        await query.answer(GROUP_ADMINS_ONLY, show_alert=True)
        return
    chat_id = await subscriber_id(update, context)
    store = services(context).store
    try:
        await store.remove_alert(chat_id, alert_id)
        note = f"Alert {alert_id} removed"
    except AlertNotFoundError:
        note = "That alert was already removed"
    left = await store.chat_alerts(chat_id)
    await edit(query, render_alerts(left), alerts_keyboard(left))
    await query.answer(note)

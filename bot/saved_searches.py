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
    language_of,
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
from text.i18n import N_, translator
from text.markup import esc, truncate_text
from text.statements import feed_name

QUERY_SHOWN = 100  # characters of a query shown in a reply or a button

FILTER_USAGE = N_(
    "Usage: /filter FEED_ID QUERY — from now on this chat gets only that feed's new "
    'statements that match QUERY: words, "phrases", prefix*, and -word to leave out. '
    "For example <code>/filter 2 sanctions -consular</code>; <code>/filter 2</code> "
    "shows the filter, <code>/unfilter 2</code> removes it."
)
ALERT_USAGE = N_(
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


async def _allowed(update: Update, context: Context, language: str) -> bool:
    if await can_manage_chat(update, context):
        return True
    await reply(update, translator(language).gettext(GROUP_ADMINS_ONLY))
    return False


async def _find_feed(context: Context, feed_id: int) -> Feed | None:
    return next((f for f in await services(context).store.list_feeds() if f.id == feed_id), None)


# ------------------------------------------------------------------- filters


async def filter_command(update: Update, context: Context) -> None:
    """`/filter FEED_ID QUERY` sets a filter; `/filter FEED_ID` shows it."""
    language = await language_of(update, context)
    _ = translator(language).gettext
    args = args_of(context)
    feed_id = _feed_id(args[0]) if args else None
    if feed_id is None:
        await reply(update, _(FILTER_USAGE))
        return
    chat_id = await subscriber_id(update, context)
    store = services(context).store
    feed = await _find_feed(context, feed_id)
    if feed is None:
        await reply(update, _("There is no feed {id}. /feeds lists them.").format(id=feed_id))
        return
    name = esc(feed_name(feed, 100))
    # The query as typed, quotes and spacing kept: everything after the feed id.
    query_text = (text_after_command(update).split(maxsplit=1)[1:] or [""])[0].strip()
    if not query_text:
        current = await store.get_filter(chat_id, feed_id)
        if current is None:
            text = _(
                "No filter on feed {id}, <b>{feed}</b>: every new statement from it arrives. "
                "{usage}"
            ).format(id=feed_id, feed=name, usage=_(FILTER_USAGE))
        else:
            text = _(
                "Filter on feed {id}, <b>{feed}</b>: «{query}». "
                "<code>/unfilter {id}</code> removes it."
            ).format(id=feed_id, feed=name, query=_shown(current.query))
        await reply(update, text)
        return
    if not await _allowed(update, context, language):
        return
    try:
        query = parse_saved_query(query_text)
    except InvalidSearchQueryError as exc:
        text = _("I can't filter on that: {reason}.\n{usage}")
        await reply(update, text.format(reason=esc(str(exc)), usage=_(FILTER_USAGE)))
        return
    await remember_chat(update, context, reactivate=False)
    try:
        await store.set_filter(chat_id, feed_id, str(query))
    except NotSubscribedError:
        text = _(
            "This chat does not follow feed {id}, <b>{feed}</b>: "
            "<code>/subscribe {id}</code> first, then set the filter. Nothing changed."
        )
        await reply(update, text.format(id=feed_id, feed=name))
        return
    if query.include:
        text = _(
            "Filter set on feed {id}, <b>{feed}</b>: «{query}». From now on this chat gets "
            "only the statements that match it. <code>/unfilter {id}</code> removes it."
        )
    else:
        text = _(
            "Filter set on feed {id}, <b>{feed}</b>: «{query}». From now on this chat gets "
            "everything but what mentions it. <code>/unfilter {id}</code> removes it."
        )
    await reply(update, text.format(id=feed_id, feed=name, query=_shown(str(query))))


async def unfilter(update: Update, context: Context) -> None:
    """`/unfilter FEED_ID`: every new statement of the feed arrives again."""
    language = await language_of(update, context)
    _ = translator(language).gettext
    args = args_of(context)
    feed_id = _feed_id(args[0]) if len(args) == 1 else None
    if feed_id is None:
        await reply(update, _("Usage: /unfilter FEED_ID — for example <code>/unfilter 2</code>."))
        return
    if not await _allowed(update, context, language):
        return
    chat_id = await subscriber_id(update, context)
    if not await services(context).store.remove_filter(chat_id, feed_id):
        text = _("There is no filter on feed {id} here. Nothing changed.")
        await reply(update, text.format(id=feed_id))
        return
    text = _("Filter removed: every new statement of feed {id} arrives again.")
    await reply(update, text.format(id=feed_id))


# -------------------------------------------------------------------- alerts


def render_alerts(alerts: list[Alert], language: str = "en") -> str:
    _ = translator(language).gettext
    if not alerts:
        return _("This chat has no alerts. {usage}").format(usage=_(ALERT_USAGE))
    heading = _("<b>Alerts</b> ({count} of at most {max})")
    lines = [heading.format(count=len(alerts), max=MAX_ALERTS)]
    lines += [f"{a.id}. «{_shown(a.query)}»" for a in alerts]
    lines.append("\n" + _("Tap one to remove it, or send /unalert ALERT_ID."))
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
    language = await language_of(update, context)
    _ = translator(language).gettext
    query_text = text_after_command(update)
    if not query_text:
        await reply(update, _(ALERT_USAGE))
        return
    if not await _allowed(update, context, language):
        return
    try:
        query = parse_saved_query(query_text)
    except InvalidSearchQueryError as exc:
        text = _("I can't watch for that: {reason}.\n{usage}")
        await reply(update, text.format(reason=esc(str(exc)), usage=_(ALERT_USAGE)))
        return
    if not query.include:
        text = _(
            "An alert needs at least one word to look for (-word alone would bring "
            "everything else). {usage}"
        )
        await reply(update, text.format(usage=_(ALERT_USAGE)))
        return
    chat_id = await subscriber_id(update, context)
    await remember_chat(update, context, reactivate=True)
    try:
        saved = await services(context).store.add_alert(chat_id, query_text, query.canonical)
    except AlertExistsError as exc:
        text = _("This chat already has that alert: alert {id}. Nothing changed.")
        await reply(update, text.format(id=exc.alert_id))
        return
    except AlertLimitError:
        text = _(
            "This chat already has {max} alerts, the most it can have. Remove one "
            "with /alerts first. Nothing changed."
        )
        await reply(update, text.format(max=MAX_ALERTS))
        return
    text = _(
        "Alert {id} saved: «{query}». Every new statement that matches, "
        "from any feed, will arrive here. /alerts lists them; "
        "<code>/unalert {id}</code> removes it."
    )
    await reply(update, text.format(id=saved.id, query=_shown(str(query))))


async def alerts(update: Update, context: Context) -> None:
    """`/alerts`: this chat's alerts, with remove buttons."""
    language = await language_of(update, context)
    chat_id = await subscriber_id(update, context)
    found = await services(context).store.chat_alerts(chat_id)
    await reply(update, render_alerts(found, language), alerts_keyboard(found))


async def unalert(update: Update, context: Context) -> None:
    """`/unalert ALERT_ID`."""
    language = await language_of(update, context)
    _ = translator(language).gettext
    args = args_of(context)
    alert_id = _feed_id(args[0]) if len(args) == 1 else None
    if alert_id is None:
        await reply(update, _("Usage: /unalert ALERT_ID — /alerts lists them."))
        return
    if not await _allowed(update, context, language):
        return
    chat_id = await subscriber_id(update, context)
    try:
        removed = await services(context).store.remove_alert(chat_id, alert_id)
    except AlertNotFoundError:
        text = _("This chat has no alert {id}. /alerts lists them.")
        await reply(update, text.format(id=alert_id))
        return
    text = _("Alert {id} removed: «{query}».")
    await reply(update, text.format(id=removed.id, query=_shown(removed.query)))


async def alerts_button(update: Update, context: Context) -> None:
    """A remove button under /alerts: the alert goes, the list is redrawn."""
    query = update.callback_query
    assert query is not None
    kind, _, value = (query.data or "").removeprefix(PREFIX).partition(":")
    alert_id = _feed_id(value)
    language = await language_of(update, context)
    _ = translator(language).gettext
    if not button_is_genuine(query) or kind != "rm" or alert_id is None:
        await query.answer(_(STALE_BUTTON))
        return
    if not await can_manage_chat(update, context):
        await query.answer(_(GROUP_ADMINS_ONLY), show_alert=True)
        return
    chat_id = await subscriber_id(update, context)
    store = services(context).store
    try:
        await store.remove_alert(chat_id, alert_id)
        note = _("Alert {id} removed").format(id=alert_id)
    except AlertNotFoundError:
        note = _("That alert was already removed")
    left = await store.chat_alerts(chat_id)
    await edit(query, render_alerts(left, language), alerts_keyboard(left))
    await query.answer(note)

"""Admin commands: feeds, counters, health and statistics. Only `ADMIN_IDS` may use them.

Every answer is in the language of the chat it goes to; what servers and parsers
said (a feed's last error, an XML parser's complaint) is quoted as it came.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from bot.opml import MAX_OPML_BYTES, OpmlError, import_opml, render_import_summary, render_opml
from bot.replies import (
    Context,
    args_of,
    edit,
    is_bot_admin,
    language_of,
    reply,
    text_after_command,
    translator_for,
)
from bot.services import services
from storage.errors import CounterNotFoundError, FeedNotFoundError
from storage.store import DIGEST_THRESHOLD, Stats
from text.counters import render_counter_line, template_language, validate_template
from text.dates import canonical_zone
from text.feed_status import render_feed_status
from text.i18n import LANGUAGES, N_, Translator, translator
from text.markup import esc
from text.phrase import say

log = logging.getLogger(__name__)

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]

ADMINS_ONLY = N_("Sorry, only the bot's admins can do that.")
STALE = N_("That button is no longer valid.")
NO_FEED = N_("There is no feed {id}.")
NO_COUNTER = N_("There is no counter {id}.")


def admin_only(handler: Handler) -> Handler:
    """Refuse, and change nothing, unless the sender is in ADMIN_IDS."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        if not is_bot_admin(update, context):
            user = update.effective_user
            log.info("refused %s from non-admin %s", handler.__name__, user.id if user else None)
            refusal = (await translator_for(update, context)).gettext(ADMINS_ONLY)
            if update.callback_query is not None:
                await update.callback_query.answer(refusal, show_alert=True)
            else:
                await reply(update, refusal)
            return
        await handler(update, context)

    return guarded


def _feed_id_arg(context: Context) -> int | None:
    args = args_of(context)
    if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 9:
        return None
    return int(args[0])


# ------------------------------------------------------------------------ feeds


@admin_only
async def removefeed(update: Update, context: Context) -> None:
    """`/removefeed FEED_ID`: asks for confirmation with a button."""
    _ = (await translator_for(update, context)).gettext
    feed_id = _feed_id_arg(context)
    if feed_id is None:
        await reply(update, _("Usage: /removefeed FEED_ID — /feedstatus lists the ids."))
        return
    svc = services(context)
    try:
        feed = await svc.store.get_feed(feed_id)
    except FeedNotFoundError:
        await reply(update, _(NO_FEED).format(id=feed_id))
        return
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("Remove it"), callback_data=f"rf:y:{feed.id}"),
                InlineKeyboardButton(_("Keep it"), callback_data=f"rf:n:{feed.id}"),
            ]
        ]
    )
    await reply(
        update,
        _(
            "Remove feed {id}, <b>{title}</b>? "
            "Its subscribers stop getting it; its statements stay searchable."
        ).format(id=feed.id, title=esc(feed.title or feed.url)),
        markup,
    )


@admin_only
async def removefeed_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    _ = (await translator_for(update, context)).gettext
    parts = (query.data or "").split(":")
    if len(parts) != 3 or parts[1] not in ("y", "n") or not parts[2].isdigit():
        await query.answer(_(STALE))
        return
    feed_id = int(parts[2])
    if parts[1] == "n":
        await query.answer(_("Kept"))
        await edit(query, _("Feed {id} was kept.").format(id=feed_id), None)
        return
    try:
        await services(context).store.remove_feed(feed_id)
    except FeedNotFoundError:
        await query.answer(_("That feed is already gone."))
        await edit(query, _("Feed {id} is already gone.").format(id=feed_id), None)
        return
    await query.answer(_("Removed"))
    await edit(
        query, _("Feed {id} was removed. Its statements stay searchable.").format(id=feed_id), None
    )


async def _pause(update: Update, context: Context, *, paused: bool) -> None:
    _ = (await translator_for(update, context)).gettext
    feed_id = _feed_id_arg(context)
    if feed_id is None:
        await reply(
            update,
            _("Usage: /{command} FEED_ID — /feedstatus lists the ids.").format(
                command="pausefeed" if paused else "resumefeed"
            ),
        )
        return
    try:
        feed = await services(context).store.set_feed_paused(feed_id, paused)
    except FeedNotFoundError:
        await reply(update, _(NO_FEED).format(id=feed_id))
        return
    if paused:
        done = _("Feed {id}, {title}, is paused: it is not polled until /resumefeed.")
    else:
        done = _("Feed {id}, {title}, is resumed: polled again.")
    await reply(update, done.format(id=feed.id, title=esc(feed.title or feed.url)))


@admin_only
async def pausefeed(update: Update, context: Context) -> None:
    await _pause(update, context, paused=True)


@admin_only
async def resumefeed(update: Update, context: Context) -> None:
    await _pause(update, context, paused=False)


@admin_only
async def pollnow(update: Update, context: Context) -> None:
    """Poll every feed now."""
    _ = (await translator_for(update, context)).gettext
    report = await services(context).poller.poll_due(force=True)
    await reply(
        update,
        _(
            "Polled {polled} feed(s): {changed} changed, {not_modified} unchanged,"
            " {failed} failed; {new_items} new statement(s), {queued} deliveries queued"
            " (one per chat and statement; more than {threshold} at once reach each"
            " chat as one digest)."
        ).format(
            polled=report.polled,
            changed=report.changed,
            not_modified=report.not_modified,
            failed=report.failed,
            new_items=report.new_items,
            queued=report.queued,
            threshold=DIGEST_THRESHOLD,
        ),
    )


async def _feedstatus_view(
    context: Context, page: int, language: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    svc = services(context)
    _ = translator(language).gettext
    pages = render_feed_status(
        await svc.store.feed_statuses(), ZoneInfo(svc.settings.timezone), language=language
    )
    page = min(max(page, 0), len(pages) - 1)
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton(_("◀ Previous"), callback_data=f"fs:{page - 1}"))
    if page < len(pages) - 1:
        buttons.append(InlineKeyboardButton(_("Next ▶"), callback_data=f"fs:{page + 1}"))
    return pages[page], InlineKeyboardMarkup([buttons]) if buttons else None


@admin_only
async def feedstatus(update: Update, context: Context) -> None:
    """Health of every feed, paged."""
    text, markup = await _feedstatus_view(context, 0, await language_of(update, context))
    await reply(update, text, markup)


@admin_only
async def feedstatus_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    language = await language_of(update, context)
    page = (query.data or "").partition(":")[2]
    if not page.isdigit() or len(page) > 5:
        await query.answer(translator(language).gettext(STALE))
        return
    await query.answer()
    text, markup = await _feedstatus_view(context, int(page), language)
    await edit(query, text, markup)


# --------------------------------------------------------------------- counters

ADDCOUNTER_USAGE = N_(
    "Usage: /addcounter YYYY-MM-DD [Area/City] TEMPLATE — {reason}.\n"
    "For example: <code>/addcounter 2018-03-04 Europe/Moscow {{days}} days have passed "
    "since the Salisbury incident</code>"
)
COUNTERTEXT_USAGE = N_(
    "Usage: /countertext COUNTER_ID LANG TEMPLATE — {reason}.\n"
    "LANG is en or ru; a group {{a|b|c}} gives the word forms of that language "
    "(en: one|other, ru: one|few|many). For example: <code>/countertext 1 ru "
    "С инцидента в Солсбери {{прошёл|прошло|прошло}} {{days}} {{день|дня|дней}}</code>"
)


def parse_addcounter(text: str, tr: Translator | None = None) -> tuple[date, str | None, str]:
    """`YYYY-MM-DD [Area/City] TEMPLATE` → (start, zone or None, template).

    Raises ValueError with a reply-ready reason (in `tr`'s language). The template's
    choice groups are checked against the plural forms of its own language.
    """
    _ = (tr or translator("en")).gettext
    parts = text.strip().split(maxsplit=1)
    if len(parts) < 2:
        raise ValueError(_("give a start date and a template"))
    raw_date, rest = parts
    not_a_date = _("«{date}» is not a date as YYYY-MM-DD").format(date=raw_date[:20])
    # fromisoformat alone also takes "20180304" and week dates such as "2018-W10-1".
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw_date):
        raise ValueError(not_a_date)
    try:
        start = date.fromisoformat(raw_date)
    except ValueError:
        raise ValueError(not_a_date) from None
    zone: str | None = None
    first, _space, remainder = rest.partition(" ")
    if "/" in first and "{" not in first:
        zone = canonical_zone(first)
        if zone is None:
            raise ValueError(
                _(
                    "«{zone}» is not a time zone; use an IANA name such as "
                    "Europe/Moscow, Europe/London or America/New_York"
                ).format(zone=first[:40])
            )
        rest = remainder.strip()
    validate_template(rest, template_language(rest), tr)
    return start, zone, rest


@admin_only
async def addcounter(update: Update, context: Context) -> None:
    """`/addcounter YYYY-MM-DD [Area/City] TEMPLATE`, TEMPLATE holds {days} and may
    hold choice groups {a|b|c} in its own language (Cyrillic: Russian)."""
    tr = await translator_for(update, context)
    _ = tr.gettext
    svc = services(context)
    try:
        start, zone, template = parse_addcounter(text_after_command(update), tr)
    except ValueError as exc:
        await reply(update, _(ADDCOUNTER_USAGE).format(reason=esc(str(exc))))
        return
    zone_name = zone or svc.settings.timezone
    today = svc.clock().astimezone(ZoneInfo(zone_name)).date()
    if start > today:
        # A negative "days have passed" would be nonsense; nothing is stored.
        await reply(
            update,
            _(
                "Not added: {start} is in the future (today is {today} in {zone}). "
                "A counter counts the days since a date that has passed."
            ).format(start=start.isoformat(), today=today.isoformat(), zone=esc(zone_name)),
        )
        return
    counter = await svc.store.add_counter(
        start, zone_name, template, language=template_language(template)
    )
    await reply(
        update,
        _(
            "Added counter {id} (from {start}, {zone} calendar). /counters shows the message now."
        ).format(id=counter.id, start=counter.start_date.isoformat(), zone=esc(counter.timezone)),
    )


def parse_countertext(text: str, tr: Translator | None = None) -> tuple[int, str, str]:
    """`COUNTER_ID LANG TEMPLATE` → (counter id, language, template). The template is
    checked against LANG's plural forms. Raises ValueError with a reply-ready reason."""
    _ = (tr or translator("en")).gettext
    parts = text.strip().split(maxsplit=2)
    if len(parts) < 3:
        raise ValueError(_("give a counter id, a language and a template"))
    raw_id, raw_language, template = parts
    if not raw_id.isdigit() or len(raw_id) > 9:
        raise ValueError(_("«{id}» is not a counter id; /stats lists them").format(id=raw_id[:20]))
    language = raw_language.lower()
    if language not in LANGUAGES:
        raise ValueError(
            _("«{value}» is not a language of the bot: {languages}").format(
                value=raw_language[:20], languages=", ".join(LANGUAGES)
            )
        )
    validate_template(template, language, tr)
    return int(raw_id), language, template


@admin_only
async def countertext(update: Update, context: Context) -> None:
    """`/countertext COUNTER_ID LANG TEMPLATE`: the counter's text for chats in LANG
    (replacing one it had), with LANG's word forms; other chats keep its own."""
    tr = await translator_for(update, context)
    _ = tr.gettext
    svc = services(context)
    try:
        counter_id, language, template = parse_countertext(text_after_command(update), tr)
    except ValueError as exc:
        await reply(update, _(COUNTERTEXT_USAGE).format(reason=esc(str(exc))))
        return
    try:
        counter = await svc.store.set_counter_text(counter_id, language, template)
    except CounterNotFoundError:
        await reply(update, _(NO_COUNTER).format(id=counter_id))
        return
    await reply(
        update,
        _(
            "Counter {id} has a text for chats in {language} now; today it reads:\n{line}\n"
            "Chats in other languages keep its own text."
        ).format(
            id=counter.id,
            language=language,
            line=esc(render_counter_line(counter, svc.clock(), language)),
        ),
    )


@admin_only
async def removecounter(update: Update, context: Context) -> None:
    _ = (await translator_for(update, context)).gettext
    args = args_of(context)
    if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 9:
        await reply(
            update, _("Usage: /removecounter COUNTER_ID — /counters shows them; ids in /stats.")
        )
        return
    try:
        await services(context).store.remove_counter(int(args[0]))
    except CounterNotFoundError:
        await reply(update, _(NO_COUNTER).format(id=int(args[0])))
        return
    await reply(update, _("Counter {id} removed.").format(id=int(args[0])))


# ------------------------------------------------------------------------ stats


def render_stats(
    stats: Stats, now: datetime, counters: list[tuple[int, str]], language: str = "en"
) -> str:
    """/stats as Telegram HTML in `language`; reasons and errors as they were stored."""
    _ = translator(language).gettext
    inactive = sum(stats.chats_inactive.values())
    reasons = ", ".join(f"{esc(k)}: {v}" for k, v in sorted(stats.chats_inactive.items()))
    if reasons:
        chats = _("Chats: {active} active, {inactive} inactive ({reasons})")
    else:
        chats = _("Chats: {active} active, {inactive} inactive")
    if stats.oldest_pending_at is None:
        outbox = _("Outbox: {pending} pending; oldest none").format(pending=stats.pending)
    else:
        age = max(0, int((now - stats.oldest_pending_at).total_seconds()))
        outbox = _("Outbox: {pending} pending; oldest {minutes} min {seconds} s old").format(
            pending=stats.pending, minutes=age // 60, seconds=age % 60
        )
    lines = [
        _("<b>Statistics</b>"),
        chats.format(active=stats.chats_active, inactive=inactive, reasons=reasons),
        _("Subscriptions: {count}").format(count=stats.subscriptions),
        _("Feeds: {feeds}; statements: {statements}").format(
            feeds=stats.feeds, statements=stats.items
        ),
        _("Last 24 hours: {sent} sent, {failed} failed, {duplicates} possible duplicates").format(
            sent=stats.sent_24h, failed=stats.failed_24h, duplicates=stats.duplicates_24h
        ),
        *(
            _("Failed {count} × {error}").format(count=n, error=esc(error[:200]))
            for error, n in stats.failure_reasons
        ),
        outbox,
        _("Saved searches: {alerts} alert(s), {filters} filter(s)").format(
            alerts=stats.alerts, filters=stats.filters
        ),
        _("Daily digests: {chats} chat(s), {held} statement(s) held for them").format(
            chats=stats.digest_chats, held=stats.held
        ),
    ]
    if counters:
        listed = "; ".join(f"{cid}: {esc(t[:40])}" for cid, t in counters)
        lines.append(_("Counters: {counters}").format(counters=listed))
    return "\n".join(lines)


@admin_only
async def stats(update: Update, context: Context) -> None:
    svc = services(context)
    language = await language_of(update, context)
    counters = [(c.id, c.template) for c in await svc.store.list_counters()]
    await reply(update, render_stats(await svc.store.stats(), svc.clock(), counters, language))


# ------------------------------------------------------------------------- OPML


@admin_only
async def exportopml(update: Update, context: Context) -> None:
    """`/exportopml`: every feed as an OPML file."""
    tr = await translator_for(update, context)
    svc = services(context)
    feeds = await svc.store.list_feeds()
    chat = update.effective_chat
    if chat is None:
        return
    if not feeds:
        await reply(
            update, tr.gettext("No feeds yet: nothing to export. Add one with /addfeed URL.")
        )
        return
    day = svc.clock().date().isoformat()
    await chat.get_bot().send_document(
        chat.id,
        InputFile(render_opml(feeds).encode(), filename=f"communique-feeds-{day}.opml"),
        caption=tr.ngettext(
            "{count} feed(s). Send this file back to the bot to import it.",
            "{count} feed(s). Send this file back to the bot to import it.",
            len(feeds),
        ).format(count=len(feeds)),
    )


@admin_only
async def importopml_document(update: Update, context: Context) -> None:
    """An OPML file sent by an admin in a private chat: its feeds are added."""
    message = update.effective_message
    document = message.document if message else None
    if document is None:
        return
    language = await language_of(update, context)
    tr = translator(language)
    _ = tr.gettext
    name = document.file_name or _("the file")
    if document.file_size is not None and document.file_size > MAX_OPML_BYTES:
        await reply(
            update,
            _("Not imported: {name} is over {size} MB.").format(
                name=esc(name), size=MAX_OPML_BYTES // 2**20
            ),
        )
        return
    svc = services(context)
    file = await document.get_file()
    content = bytes(await file.download_as_bytearray())
    try:
        result = await import_opml(
            svc.store, content, allow_private=svc.settings.allow_private_feeds
        )
    except OpmlError as exc:
        await reply(
            update,
            _("Not imported: {name}: {reason}. Nothing changed.").format(
                name=esc(name), reason=esc(say(exc.reason, tr))
            ),
        )
        return
    log.info(
        "OPML import of %s: %d added, %d already there, %d refused",
        name,
        len(result.added),
        len(result.existing),
        len(result.refused),
    )
    await reply(update, render_import_summary(result, name, language))

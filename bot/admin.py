"""Admin commands: feeds, counters, health and statistics. Only `ADMIN_IDS` may use them."""

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
from bot.replies import ADMINS_ONLY, Context, args_of, edit, is_bot_admin, reply, text_after_command
from bot.services import services
from storage.errors import CounterNotFoundError, FeedNotFoundError
from storage.store import DIGEST_THRESHOLD, Stats
from text.counters import validate_template
from text.dates import canonical_zone
from text.feed_status import render_feed_status
from text.markup import esc

log = logging.getLogger(__name__)

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def admin_only(handler: Handler) -> Handler:
    """Refuse, and change nothing, unless the sender is in ADMIN_IDS."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        if not is_bot_admin(update, context):
            user = update.effective_user
            log.info("refused %s from non-admin %s", handler.__name__, user.id if user else None)
            if update.callback_query is not None:
                await update.callback_query.answer(ADMINS_ONLY, show_alert=True)
            else:
                await reply(update, ADMINS_ONLY)
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
    feed_id = _feed_id_arg(context)
    if feed_id is None:
        await reply(update, "Usage: /removefeed FEED_ID — /feedstatus lists the ids.")
        return
    svc = services(context)
    try:
        feed = await svc.store.get_feed(feed_id)
    except FeedNotFoundError:
        await reply(update, f"There is no feed {feed_id}.")
        return
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Remove it", callback_data=f"rf:y:{feed.id}"),
                InlineKeyboardButton("Keep it", callback_data=f"rf:n:{feed.id}"),
            ]
        ]
    )
    await reply(
        update,
        f"Remove feed {feed.id}, <b>{esc(feed.title or feed.url)}</b>? "
        "Its subscribers stop getting it; its statements stay searchable.",
        markup,
    )


@admin_only
async def removefeed_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    if len(parts) != 3 or parts[1] not in ("y", "n") or not parts[2].isdigit():
        await query.answer("That button is no longer valid.")
        return
    feed_id = int(parts[2])
    if parts[1] == "n":
        await query.answer("Kept")
        await edit(query, f"Feed {feed_id} was kept.", None)
        return
    try:
        await services(context).store.remove_feed(feed_id)
    except FeedNotFoundError:
        await query.answer("That feed is already gone.")
        await edit(query, f"Feed {feed_id} is already gone.", None)
        return
    await query.answer("Removed")
    await edit(query, f"Feed {feed_id} was removed. Its statements stay searchable.", None)


async def _pause(update: Update, context: Context, *, paused: bool) -> None:
    verb = "pausefeed" if paused else "resumefeed"
    feed_id = _feed_id_arg(context)
    if feed_id is None:
        await reply(update, f"Usage: /{verb} FEED_ID — /feedstatus lists the ids.")
        return
    try:
        feed = await services(context).store.set_feed_paused(feed_id, paused)
    except FeedNotFoundError:
        await reply(update, f"There is no feed {feed_id}.")
        return
    state = "paused: it is not polled until /resumefeed" if paused else "resumed: polled again"
    await reply(update, f"Feed {feed.id}, {esc(feed.title or feed.url)}, is {state}.")


@admin_only
async def pausefeed(update: Update, context: Context) -> None:
    await _pause(update, context, paused=True)


@admin_only
async def resumefeed(update: Update, context: Context) -> None:
    await _pause(update, context, paused=False)


@admin_only
async def pollnow(update: Update, context: Context) -> None:
    """Poll every feed now."""
    report = await services(context).poller.poll_due(force=True)
    await reply(
        update,
        f"Polled {report.polled} feed(s): {report.changed} changed, "
        f"{report.not_modified} unchanged, {report.failed} failed; "
        f"{report.new_items} new statement(s), {report.queued} deliveries queued"
        f" (one per chat and statement; more than {DIGEST_THRESHOLD} at once reach each"
        " chat as one digest).",
    )


async def _feedstatus_view(context: Context, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    svc = services(context)
    pages = render_feed_status(await svc.store.feed_statuses(), ZoneInfo(svc.settings.timezone))
    page = min(max(page, 0), len(pages) - 1)
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton("◀ Previous", callback_data=f"fs:{page - 1}"))
    if page < len(pages) - 1:
        buttons.append(InlineKeyboardButton("Next ▶", callback_data=f"fs:{page + 1}"))
    return pages[page], InlineKeyboardMarkup([buttons]) if buttons else None


@admin_only
async def feedstatus(update: Update, context: Context) -> None:
    """Health of every feed, paged."""
    text, markup = await _feedstatus_view(context, 0)
    await reply(update, text, markup)


@admin_only
async def feedstatus_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    page = (query.data or "").partition(":")[2]
    if not page.isdigit() or len(page) > 5:
        await query.answer("That button is no longer valid.")
        return
    await query.answer()
    text, markup = await _feedstatus_view(context, int(page))
    await edit(query, text, markup)


# --------------------------------------------------------------------- counters


def parse_addcounter(text: str) -> tuple[date, str | None, str]:
    """`YYYY-MM-DD [Area/City] TEMPLATE` → (start, zone or None, template).

    Raises ValueError with a reply-ready reason.
    """
    parts = text.strip().split(maxsplit=1)
    if len(parts) < 2:
        raise ValueError("give a start date and a template")
    raw_date, rest = parts
    # fromisoformat alone also takes "20180304" and week dates such as "2018-W10-1".
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw_date):
        raise ValueError(f"«{raw_date[:20]}» is not a date as YYYY-MM-DD")
    try:
        start = date.fromisoformat(raw_date)
    except ValueError:
        raise ValueError(f"«{raw_date[:20]}» is not a date as YYYY-MM-DD") from None
    zone: str | None = None
    first, _, remainder = rest.partition(" ")
    if "/" in first and "{" not in first:
        zone = canonical_zone(first)
        if zone is None:
            raise ValueError(
                f"«{first[:40]}» is not a time zone; use an IANA name such as "
                "Europe/Moscow, Europe/London or America/New_York"
            )
        rest = remainder.strip()
    validate_template(rest)
    return start, zone, rest


@admin_only
async def addcounter(update: Update, context: Context) -> None:
    """`/addcounter YYYY-MM-DD [Area/City] TEMPLATE`, TEMPLATE holds {days}."""
    svc = services(context)
    try:
        start, zone, template = parse_addcounter(text_after_command(update))
    except ValueError as exc:
        await reply(
            update,
            f"Usage: /addcounter YYYY-MM-DD [Area/City] TEMPLATE — {esc(str(exc))}.\n"
            "For example: <code>/addcounter 2018-03-04 Europe/Moscow {days} days have passed "
            "since the Salisbury incident</code>",
        )
        return
    zone_name = zone or svc.settings.timezone
    today = svc.clock().astimezone(ZoneInfo(zone_name)).date()
    if start > today:
        # A negative "days have passed" would be nonsense; nothing is stored.
        await reply(
            update,
            f"Not added: {start.isoformat()} is in the future (today is {today.isoformat()} "
            f"in {esc(zone_name)}). A counter counts the days since a date that has passed.",
        )
        return
    counter = await svc.store.add_counter(start, zone_name, template)
    await reply(
        update,
        f"Added counter {counter.id} (from {counter.start_date.isoformat()}, "
        f"{esc(counter.timezone)} calendar). /counters shows the message now.",
    )


@admin_only
async def removecounter(update: Update, context: Context) -> None:
    args = args_of(context)
    if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 9:
        await reply(
            update, "Usage: /removecounter COUNTER_ID — /counters shows them; ids in /stats."
        )
        return
    try:
        await services(context).store.remove_counter(int(args[0]))
    except CounterNotFoundError:
        await reply(update, f"There is no counter {int(args[0])}.")
        return
    await reply(update, f"Counter {int(args[0])} removed.")


# ------------------------------------------------------------------------ stats


def render_stats(stats: Stats, now: datetime, counters: list[tuple[int, str]]) -> str:
    inactive = ", ".join(f"{esc(k)}: {v}" for k, v in sorted(stats.chats_inactive.items()))
    oldest = "none"
    if stats.oldest_pending_at is not None:
        age = max(0, int((now - stats.oldest_pending_at).total_seconds()))
        oldest = f"{age // 60} min {age % 60} s old"
    lines = [
        "<b>Statistics</b>",
        f"Chats: {stats.chats_active} active, "
        f"{sum(stats.chats_inactive.values())} inactive" + (f" ({inactive})" if inactive else ""),
        f"Subscriptions: {stats.subscriptions}",
        f"Feeds: {stats.feeds}; statements: {stats.items}",
        f"Last 24 hours: {stats.sent_24h} sent, {stats.failed_24h} failed, "
        f"{stats.duplicates_24h} possible duplicates",
        *(f"Failed {n} × {esc(error[:200])}" for error, n in stats.failure_reasons),
        f"Outbox: {stats.pending} pending; oldest {oldest}",
        f"Saved searches: {stats.alerts} alert(s), {stats.filters} filter(s)",
        f"Daily digests: {stats.digest_chats} chat(s), {stats.held} statement(s) held for them",
    ]
    if counters:
        lines.append("Counters: " + "; ".join(f"{cid}: {esc(t[:40])}" for cid, t in counters))
    return "\n".join(lines)


@admin_only
async def stats(update: Update, context: Context) -> None:
    svc = services(context)
    counters = [(c.id, c.template) for c in await svc.store.list_counters()]
    await reply(update, render_stats(await svc.store.stats(), svc.clock(), counters))


# ------------------------------------------------------------------------- OPML


@admin_only
async def exportopml(update: Update, context: Context) -> None:
    """`/exportopml`: every feed as an OPML file."""
    svc = services(context)
    feeds = await svc.store.list_feeds()
    chat = update.effective_chat
    if chat is None:
        return
    if not feeds:
        await reply(update, "No feeds yet: nothing to export. Add one with /addfeed URL.")
        return
    day = svc.clock().date().isoformat()
    await chat.get_bot().send_document(
        chat.id,
        InputFile(render_opml(feeds).encode(), filename=f"communique-feeds-{day}.opml"),
        caption=f"{len(feeds)} feed(s). Send this file back to the bot to import it.",
    )


@admin_only
async def importopml_document(update: Update, context: Context) -> None:
    """An OPML file sent by an admin in a private chat: its feeds are added."""
    message = update.effective_message
    document = message.document if message else None
    if document is None:
        return
    name = document.file_name or "the file"
    if document.file_size is not None and document.file_size > MAX_OPML_BYTES:
        await reply(update, f"Not imported: {esc(name)} is over {MAX_OPML_BYTES // 2**20} MB.")
        return
    svc = services(context)
    file = await document.get_file()
    content = bytes(await file.download_as_bytearray())
    try:
        result = await import_opml(
            svc.store, content, allow_private=svc.settings.allow_private_feeds
        )
    except OpmlError as exc:
        await reply(update, f"Not imported: {esc(name)}: {esc(str(exc))}. Nothing changed.")
        return
    log.info(
        "OPML import of %s: %d added, %d already there, %d refused",
        name,
        len(result.added),
        len(result.existing),
        len(result.refused),
    )
    await reply(update, render_import_summary(result, name))

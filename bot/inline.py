"""Inline search: `@YourBot QUERY` in any chat offers the statements that match, to
share there as the bot would push them; an empty query offers the latest.

Everything is in the language of the user's private chat with the bot (their
Telegram language, or DEFAULT_LANGUAGE, when there is none yet): the query comes
from a person, not from the chat it is shared in.

Results come a page at a time (`next_offset`), and Telegram caches each answer for a
short while, so typing a query costs the store a search per pause, not per key.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode

from bot.replies import Context, language_of
from bot.services import services
from storage.errors import InvalidSearchQueryError, StorageError
from storage.models import Item
from text.dates import format_date, zone_or_utc
from text.i18n import translator
from text.markup import truncate_text
from text.statements import UNTITLED, render_item

PAGE = 20  # results per answer (Telegram takes up to 50)
MAX_OFFSET = 200  # deeper than this, /search is the better tool
CACHE_SECONDS = 30
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _result(item: Item, tz: ZoneInfo, language: str) -> InlineQueryResultArticle:
    first_line = " ".join(item.summary.split())
    feed = f" · {item.feed_title}" if item.feed_title else ""
    description = f"{format_date(item.published_at, tz, language)}{feed} — {first_line}"
    title = " ".join(item.title.split()) or translator(language).gettext(UNTITLED)
    return InlineQueryResultArticle(
        id=str(item.id),
        title=truncate_text(title, 200),
        description=truncate_text(description, 250),
        input_message_content=InputTextMessageContent(
            render_item(item, tz, language=language),
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
        ),
        url=item.link or None,
    )


async def inline_query(update: Update, context: Context) -> None:
    """Statements matching what the user typed after the bot's name."""
    query = update.inline_query
    if query is None:
        return
    svc = services(context)
    text = query.query.strip()
    offset = int(query.offset) if query.offset.isdecimal() and len(query.offset) < 5 else 0
    offset = min(offset, MAX_OFFSET)
    chat = await svc.store.find_chat(query.from_user.id)
    tz = zone_or_utc(chat.timezone if chat else svc.settings.timezone)
    language = await language_of(update, context)
    try:
        if text:
            hits = await svc.store.search(text, limit=PAGE + 1, offset=offset)
            items = [hit.item for hit in hits]
        else:
            items = await svc.store.latest_items(PAGE + 1, offset=offset)
    except (InvalidSearchQueryError, StorageError) as exc:
        # Shown above the (empty) results; tapping it opens the bot's help.
        text = translator(language).gettext("Can't search for that: {reason}")
        reason = truncate_text(text.format(reason=exc), 64)
        await query.answer(
            [],
            cache_time=CACHE_SECONDS,
            button=InlineQueryResultsButton(text=reason, start_parameter="help"),
        )
        return
    more = len(items) > PAGE and offset + PAGE < MAX_OFFSET
    await query.answer(
        [_result(item, tz, language) for item in items[:PAGE]],
        cache_time=CACHE_SECONDS,
        # Each user's results are in their language (and their zone's dates).
        is_personal=True,
        next_offset=str(offset + PAGE) if more else "",
    )

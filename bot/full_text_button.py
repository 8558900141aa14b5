"""The "Full text" button under pushes and under /latest and /search entries:
pressing it sends the statement's whole stored text, as plain text in as many
messages as Telegram's limit requires, in the chat (and forum topic) it was
pressed in. Sending is paced in the background (jobs.paced_replies); the press is
answered at once, and every refusal says why."""

from __future__ import annotations

from telegram import Update

from bot.replies import STALE_BUTTON, Context, button_is_genuine, language_of, topic_of
from bot.services import services
from jobs.paced_replies import Destination
from jobs.statement_buttons import has_full_text, parse_full_text_data
from text.full_text import full_text_parts
from text.i18n import N_, translator

# Each press may send up to 30 messages: fewer presses a minute than searches.
FULL_TEXTS_PER_MINUTE = 5

# User-visible strings, translated where they are said (with plural forms by
# ngettext for the two that count).
GONE = N_("That statement is no longer stored, so its full text cannot be sent.")
NOTHING_MORE = N_("The source gave only the summary: there is no more text to send.")
ON_ITS_WAY = N_("The full text of this statement is already on its way.")
SENDING_ONE = N_("Sending the full text.")
NOT_HERE = N_("The full text cannot be sent here. Open a chat with the bot and use /search.")


async def full_text(update: Update, context: Context) -> None:
    """A "Full text" press (`ft:<statement id>`): the whole text, or why not."""
    query = update.callback_query
    assert query is not None
    # The chat's language; a shared inline message (no chat) is answered in the
    # language of whoever pressed.
    language = await language_of(update, context)
    tr = translator(language)
    _ = tr.gettext
    item_id = parse_full_text_data(query.data or "")
    if item_id is None or not button_is_genuine(query):
        await query.answer(_(STALE_BUTTON))
        return
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type == "channel":
        # A shared inline message has no chat to send to, and a channel's readers
        # must not be able to post into it (pushes to channels carry no button).
        await query.answer(_(NOT_HERE), show_alert=True)
        return
    svc = services(context)
    item = await svc.store.get_item(item_id)
    if item is None:
        await query.answer(_(GONE), show_alert=True)
        return
    if not has_full_text(item):
        await query.answer(_(NOTHING_MORE), show_alert=True)
        return
    thread = topic_of(update)
    key = (chat.id, thread, item.id)
    if svc.replies.on_the_way(key):
        await query.answer(_(ON_ITS_WAY))
        return
    wait = svc.full_texts.wait(user.id, svc.clock().timestamp())
    if wait:
        text = tr.ngettext(
            "That is a lot of reading: at most {limit} full texts a minute. "
            "Please try again in {count} second.",
            "That is a lot of reading: at most {limit} full texts a minute. "
            "Please try again in {count} seconds.",
            wait,
        )
        await query.answer(text.format(limit=FULL_TEXTS_PER_MINUTE, count=wait), show_alert=True)
        return
    parts = full_text_parts(item.title, item.content, link=item.link, language=language)
    # Answered first: the parts follow at the chat's pace, which may take a while.
    if len(parts) == 1:
        answer = _(SENDING_ONE)
    else:
        answer = tr.ngettext(
            "Sending the full text in {count} message.",
            "Sending the full text in {count} messages.",
            len(parts),
        ).format(count=len(parts))
    await query.answer(answer)
    svc.replies.send(key, Destination(chat.id, chat.type, thread), parts)

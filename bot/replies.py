"""Small helpers every handler uses: replying in HTML, chat bookkeeping, permissions."""

from __future__ import annotations

import logging

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.services import services
from storage.models import Chat as StoredChat
from text.i18n import N_, Translator, supported, translator

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# The answer to a button press whose data is not (or no longer) understood. These
# shared refusals are marked here and translated where they are said: `_(STALE_BUTTON)`.
STALE_BUTTON = N_("That button is no longer valid. Send the command again.")


async def reply(
    update: Update,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Answer in the chat (and forum topic) the update came from, as Telegram HTML
    without previews."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.get_bot().send_message(
        chat.id,
        text,
        parse_mode=ParseMode.HTML,
        link_preview_options=NO_PREVIEW,
        reply_markup=markup,
        message_thread_id=topic_of(update),
    )


def topic_of(update: Update) -> int | None:
    """The forum topic an update was written in (its message_thread_id), if any; the
    General topic counts as the group itself."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or not chat.is_forum or message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


async def edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit the message a button belongs to; an unchanged message is not an error."""
    try:
        await query.edit_message_text(
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=markup,
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def edit_markup(query: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    """Replace only the buttons of a message; unchanged buttons are not an error."""
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


def button_is_genuine(query: CallbackQuery) -> bool:
    """Whether the pressed data is one of the buttons of the message it came from.

    A modified client can send any callback_data; acting only on data we really put
    under that message keeps a forged press from doing what the message never
    offered. A message Telegram no longer shows us (too old, deleted) cannot be
    checked, and its buttons are taken as they come: every handler still validates
    what the data says.
    """
    message = query.message
    if not isinstance(message, Message):
        return True
    markup = message.reply_markup
    if markup is None:
        return False
    return any(
        button.callback_data == query.data for row in markup.inline_keyboard for button in row
    )


def chat_title(chat: Chat) -> str:
    if chat.type == ChatType.PRIVATE:
        return " ".join(p for p in (chat.first_name, chat.last_name) if p) or (chat.username or "")
    return chat.title or ""


async def remember_chat(update: Update, context: Context, *, reactivate: bool) -> StoredChat:
    """Record the chat and return the subscriber the update speaks for: the chat, or
    the forum topic it was written in (a subscriber of its own, with its own feeds,
    filters, alerts and settings). `/start` (reactivate) brings an inactive one back."""
    chat = update.effective_chat
    assert chat is not None
    store = services(context).store
    thread = topic_of(update)
    if thread is not None:
        await store.touch_chat(chat.id, chat.type, chat_title(chat))
        topic = await store.topic_chat(chat.id, thread, f"{chat_title(chat)} · topic {thread}")
        if reactivate and not topic.active:
            topic, _ = await store.upsert_chat(topic.id, "topic", topic.title)
        return topic
    language = starting_language(update)
    if reactivate:
        stored, came_back = await store.upsert_chat(chat.id, chat.type, chat_title(chat), language)
        if came_back:
            log.info("chat %s is active again", chat.id)
        return stored
    return await store.touch_chat(chat.id, chat.type, chat_title(chat), language)


def starting_language(update: Update) -> str | None:
    """The language a private chat starts in: its user's Telegram language when it is
    one of ours (None: DEFAULT_LANGUAGE, as for groups and channels)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type != ChatType.PRIVATE or user is None:
        return None
    return supported(user.language_code)


async def language_of(update: Update, context: Context) -> str:
    """The interface language to answer this update in: its chat's (or forum topic's),
    as stored; for a chat not seen yet, the one it will start in. An update from no
    chat (an inline query, a press under a shared inline message) is answered in
    the language of the user's private chat with the bot, else their own."""
    store = services(context).store
    chat, user = update.effective_chat, update.effective_user
    if chat is not None:
        thread = topic_of(update)
        if thread is not None:
            stored = await store.topic_chat(chat.id, thread, f"{chat_title(chat)} · topic {thread}")
            return stored.language
        found = await store.find_chat(chat.id)
        if found is not None:
            return found.language
    elif user is not None:
        found = await store.find_chat(user.id)
        if found is not None:
            return found.language
        return supported(user.language_code) or store.default_language
    return starting_language(update) or store.default_language


async def translator_for(update: Update, context: Context) -> Translator:
    """The catalog to answer this update with (see `language_of`)."""
    return translator(await language_of(update, context))


async def subscriber_id(update: Update, context: Context) -> int:
    """The id this chat's subscriptions, filters, alerts and settings are kept under:
    the chat's own, or, in a forum topic, the topic's."""
    chat = update.effective_chat
    assert chat is not None
    thread = topic_of(update)
    if thread is None:
        return chat.id
    title = f"{chat_title(chat)} · topic {thread}"
    return (await services(context).store.topic_chat(chat.id, thread, title)).id


def is_bot_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return services(context).settings.is_admin(user.id if user else None)


async def can_manage_chat(update: Update, context: Context) -> bool:
    """Who may change a chat's subscriptions and settings: anyone in a private chat,
    the group's admins (asked of Telegram) in a group, including one writing
    anonymously as the group (only admins can). Being the bot's admin is not enough
    in someone else's group; channels are managed by the bot's admins from a private
    chat (/settings with the channel's name)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    if chat.type == ChatType.PRIVATE:
        return True
    if chat.type == ChatType.CHANNEL:
        return False
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        # Sent on behalf of a chat: the group itself means an anonymous admin; a
        # channel (a linked one, or a user posting as their channel) is no admin.
        return message.sender_chat.id == chat.id
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        log.warning("could not check the member status of %s in %s: %s", user.id, chat.id, exc)
        return False
    except Exception:
        # An answer this library cannot read (a newer Bot API, a broken proxy): no.
        log.exception("could not read the member status of %s in %s", user.id, chat.id)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


GROUP_ADMINS_ONLY = N_(
    "Only the group's admins can change this group's subscriptions and settings."
)


def args_of(context: Context) -> list[str]:
    return list(context.args or [])


def text_after_command(update: Update) -> str:
    """Everything after the command word, with its original spacing and quotes."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    _, _, rest = text.partition(" ")
    if not rest and "\n" in text:
        _, _, rest = text.partition("\n")
    return rest.strip()

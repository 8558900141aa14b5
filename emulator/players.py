"""Playing the people on the other side: users and chats, what they write and
press, the bot's standing in their chats, and the updates that makes."""

from __future__ import annotations

import re
from collections.abc import Collection

from emulator.models import _DEFAULT_ALLOWED, JSON, Chat, ChatType, MemberStatus, User
from emulator.objects import ObjectsMixin
from emulator.telegram_html import utf16_length

_BOT_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


# Who Telegram says sent a message that a group admin wrote as the group.
GROUP_ANONYMOUS_BOT: JSON = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


class PlayersMixin(ObjectsMixin):
    # ------------------------------------------------------------------ playing users and chats

    def add_user(
        self,
        user_id: int,
        first_name: str = "User",
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> User:
        """A user, with their private chat with the bot (chat id = user id)."""
        user = User(user_id, first_name, username, last_name, language_code)
        self.users[user_id] = user
        if user_id not in self.chats:
            self.chats[user_id] = Chat(
                user_id, "private", first_name=first_name, username=username, members={}
            )
            self.chats[user_id].members[user_id] = "member"
        self._changed()
        return user

    def add_chat(
        self,
        chat_id: int,
        chat_type: ChatType,
        *,
        title: str | None = None,
        username: str | None = None,
        creator: int | None = None,
        admins: Collection[int] = (),
        members: Collection[int] = (),
        bot_status: MemberStatus | None = None,
        bot_can_post: bool = True,
        is_forum: bool = False,
    ) -> Chat:
        """A group, supergroup or channel with its members and the bot's status in it.

        The bot is a member by default, an administrator in channels.
        """
        if bot_status is None:
            bot_status = "administrator" if chat_type == "channel" else "member"
        chat = Chat(
            chat_id,
            chat_type,
            title=title,
            username=username,
            bot_status=bot_status,
            bot_can_post=bot_can_post,
            is_forum=is_forum,
        )
        for user_id in members:
            chat.members[user_id] = "member"
        for user_id in admins:
            chat.members[user_id] = "administrator"
        if creator is not None:
            chat.members[creator] = "creator"
        for user_id in chat.members:
            if user_id not in self.users:
                self.add_user(user_id, f"User{user_id}")
        self.chats[chat_id] = chat
        self._changed()
        return chat

    def set_member_status(self, chat_id: int, user_id: int, status: MemberStatus) -> None:
        """Change a user's status in a chat (what getChatMember reports)."""
        self._chat(chat_id).members[user_id] = status
        self._changed()

    def set_bot_status(
        self, chat_id: int, status: MemberStatus, *, by_user_id: int | None = None
    ) -> JSON:
        """Change the bot's own status in a chat and send the ``my_chat_member`` update."""
        chat = self._chat(chat_id)
        old = chat.bot_status
        chat.bot_status = status
        if chat.type == "private":
            chat.blocked = status == "kicked"
        actor = self.users.get(by_user_id or chat_id) or User(by_user_id or 0, "User")
        return self.enqueue_update(
            {
                "my_chat_member": {
                    "chat": chat.to_dict(),
                    "from": actor.to_dict(),
                    "date": int(self._wall_clock()),
                    "old_chat_member": self._member_dict(chat, self.bot, old),
                    "new_chat_member": self._member_dict(chat, self.bot, status),
                }
            }
        )

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: sends to their chat get 403 until they write again."""
        self.set_bot_status(user_id, "kicked", by_user_id=user_id)

    def delete_chat(self, chat_id: int) -> None:
        """The chat disappears: sends to it get 400 "chat not found"."""
        self.chats.pop(chat_id, None)
        self._changed()

    def migrate_chat(self, chat_id: int, new_chat_id: int) -> Chat:
        """Upgrade a group to a supergroup with a new id, as Telegram does."""
        old = self._chat(chat_id)
        new = Chat(
            new_chat_id,
            "supergroup",
            title=old.title,
            username=old.username,
            members=dict(old.members),
            bot_status=old.bot_status,
            bot_can_post=old.bot_can_post,
        )
        old.migrated_to = new_chat_id
        self.chats[new_chat_id] = new
        self._changed()
        return new

    def send_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to_message_id: int | None = None,
        anonymous: bool = False,
        thread_id: int | None = None,
    ) -> JSON:
        """A user writes ``text`` in a chat; returns the Update (``/commands`` get entities).

        ``anonymous``: a group admin writes as the group, as Telegram shows it: from
        GroupAnonymousBot, with the group as ``sender_chat``. ``thread_id``: written in
        that topic of a forum.
        """
        chat = self._ensure_chat_for(chat_id, user_id)
        if thread_id is not None and thread_id not in chat.topics:
            raise ValueError(f"chat {chat_id} has no open topic {thread_id}")
        entities = _command_entities(text)
        message = self._user_message(chat, user_id, text=text, thread_id=thread_id)
        if anonymous:
            message["from"] = dict(GROUP_ANONYMOUS_BOT)
            message["sender_chat"] = chat.to_dict()
        if entities:
            message["entities"] = entities
        if reply_to_message_id is not None:
            replied = self.message(chat.id, reply_to_message_id)
            if replied is not None:
                message["reply_to_message"] = self._message_dict(replied)
        return self._enqueue_message(chat, message)

    def edit_text(self, chat_id: int, user_id: int, message_id: int, text: str) -> JSON:
        """A user edits a message they wrote; returns the ``edited_message`` Update."""
        chat = self._chat(chat_id)
        original = self.message(chat_id, message_id)
        if original is None or original.sender_id != user_id:
            raise KeyError(f"user {user_id} wrote no message {message_id} in {chat_id}")
        message: JSON = {
            "message_id": message_id,
            "date": original.date,
            "edit_date": int(self._wall_clock()),
            "chat": chat.to_dict(),
            "from": self._user(user_id).to_dict(),
            "text": text,
        }
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        return self.enqueue_update({"edited_message": message})

    def send_document(
        self,
        chat_id: int,
        user_id: int,
        filename: str,
        content: bytes,
        *,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> JSON:
        """A user sends a file; the bot can fetch it with getFile and download it."""
        chat = self._ensure_chat_for(chat_id, user_id)
        stored = self._store_file(filename, content, mime_type)
        message = self._user_message(chat, user_id, caption=caption)
        message["document"] = self._document_dict(stored)
        return self._enqueue_message(chat, message)

    def press_button(
        self, chat_id: int, user_id: int, message_id: int, data: str, *, forge: bool = False
    ) -> JSON:
        """A user presses an inline button; returns the ``callback_query`` Update.

        The message must carry a button with this ``callback_data`` unless
        ``forge=True`` (a modified client can send any data).
        """
        chat = self._chat(chat_id)
        msg = self.message(chat_id, message_id)
        if msg is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        if not forge and not any(b.get("callback_data") == data for b in msg.buttons):
            raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
        user = self._user(user_id)
        query_id = str(next(self._ids) * 7919 + 10**12)
        query: JSON = {
            "id": query_id,
            "from": user.to_dict(),
            "message": self._message_dict(msg),
            "chat_instance": str(abs(chat.id) * 31 + 17),
            "data": data,
        }
        self._callback_queries[query_id] = query
        return self.enqueue_update({"callback_query": query})

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """Someone in the chat deletes a message: editing it fails from now on."""
        history = self._history.get(chat_id, [])
        self._history[chat_id] = [m for m in history if m.message_id != message_id]
        self._changed()

    def create_topic(self, chat_id: int, name: str) -> int:
        """Open a topic in a forum supergroup; returns its message_thread_id (the id of
        the service message that opened it, as Telegram does)."""
        chat = self._chat(chat_id)
        if not chat.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum")
        thread_id = self._new_message_id(chat_id)
        chat.topics[thread_id] = name
        self._changed()
        return thread_id

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """A forum admin deletes a topic: sending there fails from now on."""
        chat = self._chat(chat_id)
        chat.topics.pop(thread_id, None)
        chat.deleted_topics.add(thread_id)
        self._changed()

    def send_inline_query(self, user_id: int, query: str, *, offset: str = "") -> JSON:
        """A user types ``@bot query`` in any chat; returns the Update (the answer
        lands in ``inline_answers`` under ``update["inline_query"]["id"]``)."""
        user = self._user(user_id)
        query_id = str(next(self._ids) * 7907 + 10**13)
        body: JSON = {
            "id": query_id,
            "from": user.to_dict(),
            "query": query,
            "offset": offset,
            "chat_type": "sender",
        }
        self._inline_queries[query_id] = body
        return self.enqueue_update({"inline_query": body})

    def enqueue_update(self, update: JSON) -> JSON:
        """Queue any update body (without ``update_id``) for getUpdates; returns it with its id."""
        full = {"update_id": self._next_update_id, **update}
        self._next_update_id += 1
        self._updates.append(full)
        self._changed()
        return full

    # ------------------------------------------------------------------ webhook delivery

    def take_webhook_updates(self) -> list[JSON]:
        """The queued updates Telegram would now POST to the webhook, taken off the queue.

        The emulator does no HTTP itself: ``tests.fake_bot_api.post_webhook_updates``
        POSTs them to ``webhook_url`` with ``webhook_secret``, as Telegram does.
        """
        allowed = (
            frozenset(self.webhook_allowed_updates)
            if self.webhook_allowed_updates
            else _DEFAULT_ALLOWED
        )
        taken = [u for u in self._updates if self._update_type(u) in allowed]
        self._updates.clear()
        self._changed()
        return taken

    # ------------------------------------------------------------------ helpers

    def _ensure_chat_for(self, chat_id: int, user_id: int) -> Chat:
        if user_id not in self.users:
            self.add_user(user_id, f"User{user_id}")
        chat = self._chat(chat_id)
        if chat.type == "private":
            # A user who writes to the bot has unblocked it.
            chat.blocked = False
            if chat.bot_status == "kicked":
                chat.bot_status = "member"
        elif user_id not in chat.members or chat.members[user_id] in ("left", "kicked"):
            chat.members[user_id] = "member"
        return chat

    def _enqueue_message(self, chat: Chat, message: JSON) -> JSON:
        kind = "channel_post" if chat.type == "channel" else "message"
        return self.enqueue_update({kind: message})


def _command_entities(text: str) -> list[JSON]:
    """The ``bot_command`` entities Telegram marks in a user's text."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_length(text[: m.start()]),
            "length": utf16_length(m.group()),
        }
        for m in _BOT_COMMAND.finditer(text)
    ]

"""The Bot API objects the emulator answers with (messages, documents, chat
members) and the checks a call's chat, text and keyboard must pass."""

from __future__ import annotations

import re

from emulator.faults import _migrated_error
from emulator.models import (
    JSON,
    MAX_CALLBACK_DATA_BYTES,
    ApiError,
    Chat,
    MemberStatus,
    SentMessage,
    StoredFile,
    User,
    _bad_request,
)
from emulator.params import _as_json
from emulator.state import EmulatorState
from emulator.telegram_html import TelegramHTMLError, parse_telegram_html, utf16_length


class ObjectsMixin(EmulatorState):
    def _target_chat(self, params: JSON, *, sending: bool = True) -> Chat:
        """The chat a call addresses, refused as Telegram refuses it."""
        raw = self._raw_chat_id(params)
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        chat_id = self._resolve_chat_id(raw)
        chat = self.chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise _bad_request("chat not found")
        if chat.migrated_to is not None:
            raise _migrated_error(chat.migrated_to)
        if sending:
            if chat.type == "private" and (chat.blocked or chat.bot_status == "kicked"):
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if chat.type in ("group", "supergroup") and chat.bot_status in ("left", "kicked"):
                kind = "supergroup" if chat.type == "supergroup" else "group"
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
            if chat.type == "channel" and (
                chat.bot_status not in ("administrator", "creator") or not chat.bot_can_post
            ):
                if chat.bot_status in ("left", "kicked"):
                    raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
                raise _bad_request("need administrator rights in the channel chat")
        return chat

    def _user_message(
        self,
        chat: Chat,
        user_id: int,
        *,
        text: str | None = None,
        caption: str | None = None,
        thread_id: int | None = None,
    ) -> JSON:
        sent = SentMessage(
            chat_id=chat.id,
            message_id=self._new_message_id(chat.id),
            text=text,
            parse_mode=None,
            plain_text=text,
            entities=[],
            reply_markup=None,
            date=int(self._wall_clock()),
            from_bot=False,
            sender_id=user_id,
            caption=caption,
            thread_id=thread_id,
        )
        self._history.setdefault(chat.id, []).append(sent)
        message: JSON = {
            "message_id": sent.message_id,
            "date": sent.date,
            "chat": chat.to_dict(),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if chat.type == "channel":
            message["sender_chat"] = chat.to_dict()
        else:
            message["from"] = self._user(user_id).to_dict()
        if text is not None:
            message["text"] = text
        if caption is not None:
            message["caption"] = caption
        return message

    def _message_dict(self, msg: SentMessage) -> JSON:
        chat = self.chats.get(msg.chat_id) or Chat(msg.chat_id, "private")
        data: JSON = {"message_id": msg.message_id, "date": msg.date, "chat": chat.to_dict()}
        if msg.from_bot:
            if chat.type == "channel":
                data["sender_chat"] = chat.to_dict()
            else:
                data["from"] = self.bot.to_dict()
        elif msg.sender_id in self.users:
            data["from"] = self.users[msg.sender_id].to_dict()
        if msg.plain_text is not None:
            key = "caption" if msg.document is not None else "text"
            data[key] = msg.plain_text
            if msg.entities:
                data["caption_entities" if key == "caption" else "entities"] = msg.entities
        if msg.document is not None:
            data["document"] = self._document_dict(msg.document)
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        if msg.edits:
            data["edit_date"] = int(self._wall_clock())
        if msg.thread_id is not None:
            data["message_thread_id"] = msg.thread_id
            data["is_topic_message"] = True
        return data

    def _store_file(self, filename: str, content: bytes, mime_type: str) -> StoredFile:
        serial = next(self._ids)
        stored = StoredFile(
            file_id=f"BQACAgIAAx{serial:08d}",
            file_unique_id=f"AgAD{serial:06d}",
            file_name=filename,
            content=content,
            mime_type=mime_type,
            file_path=f"documents/file_{serial}{_suffix(filename)}",
        )
        self.files[stored.file_id] = stored
        return stored

    @staticmethod
    def _document_dict(stored: StoredFile) -> JSON:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "file_size": len(stored.content),
        }

    def _member_dict(self, chat: Chat, user: User, status: MemberStatus) -> JSON:
        data: JSON = {"user": user.to_dict(), "status": status}
        if status == "creator":
            data["is_anonymous"] = False
        elif status == "administrator":
            is_bot_in_channel = user.id == self.bot.id and chat.type == "channel"
            data.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                }
            )
            if chat.type == "channel":
                data["can_post_messages"] = chat.bot_can_post if is_bot_in_channel else True
                data["can_edit_messages"] = True
        elif status == "kicked":
            data["until_date"] = 0
        elif status == "restricted":
            status_fields = (
                "is_member can_send_messages can_send_audios can_send_documents "
                "can_send_photos can_send_videos can_send_video_notes can_send_voice_notes "
                "can_send_polls can_send_other_messages can_add_web_page_previews "
                "can_change_info can_invite_users can_pin_messages can_manage_topics can_edit_tag"
            ).split()
            data.update(dict.fromkeys(status_fields, False))
            data["is_member"] = True
            data["until_date"] = 0
        return data

    def _text_and_entities(
        self, text: str, parse_mode: str | None, *, limit: int, too_long: str
    ) -> tuple[str, list[JSON]]:
        entities: list[JSON] = []
        plain = text
        mode = (parse_mode or "").lower()
        if mode == "html":
            try:
                plain, parsed = parse_telegram_html(text, strict_ampersand=self.strict_html)
            except TelegramHTMLError as error:
                raise _bad_request(f"can't parse entities: {error.description}") from None
            entities = [e.to_dict() for e in parsed]
        elif mode not in ("", "markdown", "markdownv2"):
            raise _bad_request("unsupported parse_mode")
        if utf16_length(plain) > limit:
            raise _bad_request(too_long)
        return plain, entities

    @staticmethod
    def _check_markup(params: JSON) -> JSON | None:
        markup = _as_json(params, "reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is None:
            return markup  # reply keyboards and ForceReply are accepted as they are
        if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array'
            )
        for row in keyboard:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad_request("BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
                    raise _bad_request("BUTTON_URL_INVALID")
        return markup


def _suffix(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:] if dot > 0 and len(filename) - dot <= 10 else ""

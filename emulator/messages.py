"""Bot API methods on chats and messages: sending, editing, answering button
presses, and looking up chats, members and files."""

from __future__ import annotations

from emulator.models import (
    JSON,
    MAX_UPLOAD_BYTES,
    NOT_MODIFIED,
    ApiError,
    MemberStatus,
    SentMessage,
    UploadedFile,
    _bad_request,
)
from emulator.objects import ObjectsMixin
from emulator.params import _as_bool, _as_int, _as_json, _as_str
from emulator.telegram_html import MAX_CAPTION_LENGTH


class MessagesMixin(ObjectsMixin):
    # ------------------------------------------------------------------ method handlers

    async def _send_message(self, params: JSON) -> JSON:
        chat = self._target_chat(params)
        text = _as_str(params, "text")
        if not text or not text.strip():
            raise _bad_request("message text is empty")
        parse_mode = _as_str(params, "parse_mode")
        plain, entities = self._text_and_entities(
            text, parse_mode, limit=self.max_text_length, too_long="message is too long"
        )
        if not plain.strip():
            raise _bad_request("message text is empty")
        if parse_mode is None and params.get("entities") is not None:
            given = _as_json(params, "entities")
            entities = given if isinstance(given, list) else []
        markup = self._check_markup(params)
        preview = _as_json(params, "link_preview_options")
        if preview is None and params.get("disable_web_page_preview") is not None:
            preview = {"is_disabled": _as_bool(params, "disable_web_page_preview")}
        reply_to = _as_int(params, "reply_to_message_id")
        reply_parameters = _as_json(params, "reply_parameters")
        if isinstance(reply_parameters, dict):
            reply_to = int(reply_parameters.get("message_id", 0)) or reply_to
        if reply_to is not None and self.message(chat.id, reply_to) is None:
            raise _bad_request("message to be replied not found")
        thread_id = _as_int(params, "message_thread_id")
        if thread_id is not None and chat.is_forum and thread_id not in chat.topics:
            raise _bad_request("message thread not found")
        if not chat.is_forum:
            thread_id = None  # Telegram ignores it outside forums
        sent = SentMessage(
            chat_id=chat.id,
            message_id=self._new_message_id(chat.id),
            text=text,
            parse_mode=parse_mode,
            plain_text=plain,
            entities=entities,
            reply_markup=markup,
            date=int(self._wall_clock()),
            from_bot=True,
            sender_id=self.bot.id,
            link_preview_options=preview if isinstance(preview, dict) else None,
            params=dict(params),
            thread_id=thread_id,
        )
        self._history.setdefault(chat.id, []).append(sent)
        return self._message_dict(sent)

    async def _send_document(self, params: JSON) -> JSON:
        chat = self._target_chat(params)
        document = params.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            document = params.get(document[len("attach://") :])
        if isinstance(document, UploadedFile):
            if len(document.content) > MAX_UPLOAD_BYTES:
                raise ApiError(413, "Request Entity Too Large")
            if not document.content:
                raise _bad_request("file must be non-empty")
            stored = self._store_file(document.filename, document.content, document.mime_type)
        elif isinstance(document, str) and document in self.files:
            stored = self.files[document]
        elif isinstance(document, str) and document:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise _bad_request("there is no document in the request")
        caption = _as_str(params, "caption")
        parse_mode = _as_str(params, "parse_mode")
        plain: str | None = None
        entities: list[JSON] = []
        if caption:
            plain, entities = self._text_and_entities(
                caption,
                parse_mode,
                limit=MAX_CAPTION_LENGTH,
                too_long="message caption is too long",
            )
        sent = SentMessage(
            chat_id=chat.id,
            message_id=self._new_message_id(chat.id),
            text=None,
            parse_mode=parse_mode,
            plain_text=plain,
            entities=entities,
            reply_markup=self._check_markup(params),
            date=int(self._wall_clock()),
            from_bot=True,
            sender_id=self.bot.id,
            document=stored,
            caption=caption,
            params={k: v for k, v in params.items() if not isinstance(v, UploadedFile)},
        )
        self._history.setdefault(chat.id, []).append(sent)
        return self._message_dict(sent)

    def _message_to_edit(self, params: JSON) -> SentMessage:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        chat = self._target_chat(params, sending=False)
        message_id = _as_int(params, "message_id", required=True)
        assert message_id is not None
        msg = self.message(chat.id, message_id)
        if msg is None:
            raise _bad_request("message to edit not found")
        if not msg.from_bot:
            raise _bad_request("message can't be edited")
        return msg

    async def _edit_message_text(self, params: JSON) -> JSON:
        msg = self._message_to_edit(params)
        text = _as_str(params, "text")
        if not text or not text.strip():
            raise _bad_request("message text is empty")
        parse_mode = _as_str(params, "parse_mode")
        plain, entities = self._text_and_entities(
            text, parse_mode, limit=self.max_text_length, too_long="MESSAGE_TOO_LONG"
        )
        markup = self._check_markup(params)
        if plain == msg.plain_text and entities == msg.entities and markup == msg.reply_markup:
            raise _bad_request(NOT_MODIFIED)
        msg.edits.append(msg.text or "")
        msg.text, msg.parse_mode, msg.plain_text, msg.entities = text, parse_mode, plain, entities
        msg.reply_markup = markup
        return self._message_dict(msg)

    async def _edit_message_reply_markup(self, params: JSON) -> JSON:
        msg = self._message_to_edit(params)
        markup = self._check_markup(params)
        if markup == msg.reply_markup:
            raise _bad_request(NOT_MODIFIED)
        msg.reply_markup = markup
        return self._message_dict(msg)

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = _as_str(params, "callback_query_id") or ""
        if query_id not in self._callback_queries or query_id in self.callback_answers:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = _as_str(params, "text")
        if text is not None and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = {
            "text": text,
            "show_alert": _as_bool(params, "show_alert"),
            "url": _as_str(params, "url"),
        }
        return True

    async def _answer_inline_query(self, params: JSON) -> bool:
        query_id = _as_str(params, "inline_query_id") or ""
        if query_id not in self._inline_queries or query_id in self.inline_answers:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = _as_json(params, "results")
        if not isinstance(results, list):
            raise _bad_request("can't parse inline query results")
        if len(results) > 50:
            raise _bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or not result.get("type"):
                raise _bad_request("can't parse inline query result")
            result_id = str(result.get("id", ""))
            if not result_id or len(result_id.encode()) > 64 or result_id in seen:
                raise _bad_request("RESULT_ID_INVALID")
            seen.add(result_id)
            if result["type"] == "article":
                if not result.get("title"):
                    raise _bad_request("RESULT_TITLE_EMPTY")
                content = result.get("input_message_content")
                if not isinstance(content, dict) or not content.get("message_text"):
                    raise _bad_request("MESSAGE_EMPTY")
                # The text a user would send must be one Telegram accepts.
                self._text_and_entities(
                    str(content["message_text"]),
                    content.get("parse_mode"),
                    limit=self.max_text_length,
                    too_long="MESSAGE_TOO_LONG",
                )
        next_offset = _as_str(params, "next_offset") or ""
        if len(next_offset.encode()) > 64:
            raise _bad_request("NEXT_OFFSET_INVALID")
        self.inline_answers[query_id] = {
            "results": results,
            "cache_time": _as_int(params, "cache_time"),
            "is_personal": _as_bool(params, "is_personal"),
            "next_offset": next_offset,
        }
        return True

    async def _get_chat_member(self, params: JSON) -> JSON:
        chat = self._target_chat(params, sending=False)
        user_id = _as_int(params, "user_id", required=True)
        if user_id == self.bot.id:
            return self._member_dict(chat, self.bot, chat.bot_status)
        user = self.users.get(user_id or 0)
        if user is None:
            raise _bad_request("user not found")
        if chat.type == "private":
            status: MemberStatus = "member" if user.id == chat.id else "left"
        else:
            status = chat.members.get(user.id, "left")
        return self._member_dict(chat, user, status)

    async def _get_chat(self, params: JSON) -> JSON:
        chat = self._target_chat(params, sending=False)
        return {
            **chat.to_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_file(self, params: JSON) -> JSON:
        stored = self.files.get(_as_str(params, "file_id") or "")
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

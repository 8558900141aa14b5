"""An in-memory stand-in for the Telegram Bot API, for tests and console mode.

:class:`BotApiEmulator` answers Bot API methods the way Telegram does (the
same JSON, the same status codes and error descriptions) while keeping every
chat, user, message and pending update in memory. It has no HTTP inside:

* ``tests/fake_bot_api.py`` serves it over real HTTP on 127.0.0.1, so the
  real ``Application`` talks to it through ``TELEGRAM_API_BASE_URL``;
* :class:`EmulatorRequest` plugs it straight into python-telegram-bot as its
  request backend, which is what console mode uses (no network at all).

Tests play users with :meth:`BotApiEmulator.send_text`,
:meth:`~BotApiEmulator.press_button` and :meth:`~BotApiEmulator.send_document`,
break things with :meth:`~BotApiEmulator.inject`,
:meth:`~BotApiEmulator.set_fault_rate` and
:meth:`~BotApiEmulator.enable_rate_limits`, and wait for the bot with
:meth:`~BotApiEmulator.wait_for` / :meth:`~BotApiEmulator.wait_for_messages`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.telegram_html import (
    MAX_CAPTION_LENGTH,
    MAX_MESSAGE_LENGTH,
    TelegramHTMLError,
    parse_telegram_html,
    utf16_length,
)

__all__ = [
    "ApiCall",
    "ApiError",
    "Blocked",
    "BotApiEmulator",
    "Chat",
    "ChatNotFound",
    "ConnectionReset",
    "Delay",
    "EmulatedConnectionReset",
    "EmulatorRequest",
    "Fault",
    "Injection",
    "Kicked",
    "Migrate",
    "RateLimits",
    "RetryAfter",
    "SentMessage",
    "ServerError",
    "StoredFile",
    "UploadedFile",
    "User",
]

JSON: TypeAlias = dict[str, Any]
ChatType = Literal["private", "group", "supergroup", "channel"]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]

MAX_CALLBACK_DATA_BYTES = 64
# Telegram's own upload limit for bots.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

# Methods that put a message into a chat: these are what flood limits count.
SEND_METHODS = frozenset({"sendMessage", "sendDocument"})

# Update types Telegram sends when allowed_updates was never set.
_DEFAULT_ALLOWED = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "my_chat_member",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "chat_join_request",
    }
)

_BOT_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


# --------------------------------------------------------------------------- faults


@dataclass(frozen=True)
class RetryAfter:
    """429 "Too Many Requests: retry after N" with ``parameters.retry_after``."""

    seconds: int = 1


@dataclass(frozen=True)
class Blocked:
    """403 "Forbidden: bot was blocked by the user" (the chat stays blocked)."""


@dataclass(frozen=True)
class Kicked:
    """403 "Forbidden: bot was kicked from the group chat"."""


@dataclass(frozen=True)
class ChatNotFound:
    """400 "Bad Request: chat not found"."""


@dataclass(frozen=True)
class Migrate:
    """400 with ``parameters.migrate_to_chat_id``; the group becomes that supergroup."""

    new_chat_id: int


@dataclass(frozen=True)
class ServerError:
    """A 5xx answer (Telegram sends 500 and, behind its proxies, 502)."""

    status: int = 500
    description: str = "Internal Server Error"


@dataclass(frozen=True)
class Delay:
    """Hold the answer ``seconds`` (real time), past the client's timeout.

    Like Telegram, the request may still take effect: with ``deliver=True`` it
    is carried out at once and only the answer is held; with ``deliver=False``
    it is held and then dropped (answered 504).
    """

    seconds: float
    deliver: bool = True


@dataclass(frozen=True)
class ConnectionReset:
    """The connection is dropped without an answer (and the request not carried out)."""


Fault: TypeAlias = (
    RetryAfter | Blocked | Kicked | ChatNotFound | Migrate | ServerError | Delay | ConnectionReset
)


class EmulatedConnectionReset(Exception):
    """Raised by :meth:`BotApiEmulator.handle` to ask the transport to drop the connection."""


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        """The JSON body Telegram sends for this error."""
        data: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            data["parameters"] = self.parameters
        return data


def _bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class Injection:
    """One armed fault; ``times=None`` means until removed. ``hits`` counts uses."""

    method: str | None
    chat_id: int | str | None
    error: Fault
    times: int | None
    hits: int = 0

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass(frozen=True)
class RateLimits:
    """Telegram's documented flood limits; ``slack`` forgives arrival jitter (seconds)."""

    global_per_second: int = 30
    private_per_second: int = 1
    group_per_minute: int = 20
    slack: float = 0.05


# --------------------------------------------------------------------------- state


@dataclass
class User:
    """A Telegram user the emulator plays."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass
class Chat:
    """A chat, its members' statuses and the bot's standing in it."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    members: dict[int, MemberStatus] = field(default_factory=dict)
    bot_status: MemberStatus = "member"
    bot_can_post: bool = True  # channels: whether the bot, as admin, may post
    blocked: bool = False  # private: the user blocked the bot
    migrated_to: int | None = None

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name or "User"
        else:
            data["title"] = self.title or f"Chat {self.id}"
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class StoredFile:
    """A file users sent or the bot uploaded, downloadable by ``file_path``."""

    file_id: str
    file_unique_id: str
    file_name: str
    content: bytes
    mime_type: str
    file_path: str


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass
class SentMessage:
    """A message in a chat as the emulator keeps it (``text`` as sent, before parsing)."""

    chat_id: int
    message_id: int
    text: str | None
    parse_mode: str | None
    plain_text: str | None
    entities: list[JSON]
    reply_markup: JSON | None
    date: int
    from_bot: bool
    sender_id: int
    link_preview_options: JSON | None = None
    document: StoredFile | None = None
    caption: str | None = None
    edits: list[str] = field(default_factory=list)  # earlier texts, oldest first
    params: JSON = field(default_factory=dict)

    @property
    def buttons(self) -> list[JSON]:
        """All inline buttons, row by row."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass
class ApiCall:
    """One request the bot made, with the answer it got."""

    method: str
    params: JSON
    at: float
    status: int = 0
    description: str | None = None


# --------------------------------------------------------------------------- params


def _as_int(params: JSON, key: str, *, required: bool = False) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise _bad_request(f"{key} is empty")
        return None
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_request(f'invalid {key} specified: "{value}"') from None


def _as_float(params: JSON, key: str, default: float) -> float:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid {key} specified") from None


def _as_bool(params: JSON, key: str) -> bool:
    value = params.get(key)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _as_json(params: JSON, key: str) -> Any:
    """A nested object: PTB sends it JSON-encoded in form data, JSON bodies send it as is."""
    value = params.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {key} JSON object") from None
    return value


def _as_str(params: JSON, key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


# --------------------------------------------------------------------------- emulator


class BotApiEmulator:
    """The Bot API of one bot, in memory.

    ``clock`` (monotonic seconds) drives flood limits and call timestamps;
    ``wall_clock`` (Unix seconds) gives message dates. Both can be replaced
    so tests can move time.
    """

    def __init__(
        self,
        token: str,
        *,
        username: str = "CommuniqueBot",
        bot_id: int | None = None,
        first_name: str = "Communique",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        strict_html: bool = True,
        max_text_length: int = MAX_MESSAGE_LENGTH,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot = User(
            id=bot_id if bot_id is not None else (int(prefix) if prefix.isdigit() else 1000000001),
            first_name=first_name,
            username=username,
            language_code=None,
            is_bot=True,
        )
        self._clock = clock
        self._wall_clock = wall_clock
        self.strict_html = strict_html
        self.max_text_length = max_text_length
        self._handlers: dict[str, tuple[str, Callable[[JSON], Awaitable[Any]]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._ok,
                "close": self._ok,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "sendDocument": self._send_document,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "setMyCommands": self._set_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getMyCommands": self._get_my_commands,
                "getChatMember": self._get_chat_member,
                "getChat": self._get_chat,
                "getFile": self._get_file,
            }.items()
        }
        self._closed = asyncio.Event()
        self._changed_event = asyncio.Event()
        self.reset()

    # ------------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        """Forget every chat, user, message, update, call, fault and limit."""
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.calls: list[ApiCall] = []
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_allowed_updates: list[str] | None = None
        self.count_429 = 0
        self.faults_injected: Counter[str] = Counter()
        self.injections: list[Injection] = []
        self._history: dict[int, list[SentMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: deque[JSON] = deque()
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] = _DEFAULT_ALLOWED
        self._callback_queries: dict[str, JSON] = {}
        self._ids = itertools.count(1)
        self._poll_generation = 0
        self._fault_rate = 0.0
        self._fault_random = random.Random(0)
        self._fault_kinds: list[Fault] = []
        self._fault_methods: frozenset[str] | None = None
        self._limits: RateLimits | None = None
        self._global_sends: deque[float] = deque()
        self._chat_sends: dict[int, deque[float]] = {}
        self._changed()

    def close(self) -> None:
        """Release every held long poll and delayed answer (at server shutdown)."""
        self._closed.set()
        self._changed()

    # ------------------------------------------------------------------ waiting

    def _changed(self) -> None:
        # Waiters sleep on the current event; setting it and swapping in a fresh
        # one wakes them all exactly once per change. (An asyncio.Condition would
        # need its lock, which the synchronous user-playing methods cannot take.)
        event, self._changed_event = self._changed_event, asyncio.Event()
        event.set()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` holds, re-checking on every state change.

        Raises TimeoutError (with what was awaited) after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s: {predicate!r}")
            event = self._changed_event
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                if not predicate():
                    raise TimeoutError(
                        f"condition not met within {timeout} s: {predicate!r}"
                    ) from None

    async def wait_for_messages(
        self, chat_id: int, n: int = 1, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least ``n`` messages to ``chat_id``; return them all."""
        try:
            await self.wait_for(lambda: len(self.messages(chat_id)) >= n, timeout)
        except TimeoutError:
            got = [m.text for m in self.messages(chat_id)]
            raise TimeoutError(
                f"expected {n} bot message(s) in chat {chat_id} within {timeout} s, got {got!r}"
            ) from None
        return self.messages(chat_id)

    async def wait_for_call(self, method: str, n: int = 1, timeout: float = 5.0) -> list[ApiCall]:
        """Wait until ``method`` was called at least ``n`` times; return those calls."""
        await self.wait_for(lambda: len(self.calls_to(method)) >= n, timeout)
        return self.calls_to(method)

    # ------------------------------------------------------------------ reading state

    def messages(self, chat_id: int, *, include_users: bool = False) -> list[SentMessage]:
        """The bot's messages in a chat (and the users' too, if asked), oldest first."""
        history = self._history.get(chat_id, [])
        return list(history) if include_users else [m for m in history if m.from_bot]

    def message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """One message of a chat by id."""
        for msg in self._history.get(chat_id, []):
            if msg.message_id == message_id:
                return msg
        return None

    def message_counts(self) -> dict[int, int]:
        """How many messages the bot has sent to each chat."""
        return {
            chat_id: sum(1 for m in history if m.from_bot)
            for chat_id, history in self._history.items()
        }

    def calls_to(self, method: str) -> list[ApiCall]:
        """The recorded calls of one method (case-insensitive)."""
        lowered = method.lower()
        return [c for c in self.calls if c.method.lower() == lowered]

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by the bot."""
        return list(self._updates)

    def file_content(self, file_path: str) -> bytes | None:
        """The bytes behind a ``getFile`` path (for the file download endpoint)."""
        for stored in self.files.values():
            if stored.file_path == file_path:
                return stored.content
        return None

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
    ) -> JSON:
        """A user writes ``text`` in a chat; returns the Update (``/commands`` get entities)."""
        chat = self._ensure_chat_for(chat_id, user_id)
        entities = [
            {
                "type": "bot_command",
                "offset": utf16_length(text[: m.start()]),
                "length": utf16_length(m.group()),
            }
            for m in _BOT_COMMAND.finditer(text)
        ]
        message = self._user_message(chat, user_id, text=text)
        if entities:
            message["entities"] = entities
        if reply_to_message_id is not None:
            replied = self.message(chat.id, reply_to_message_id)
            if replied is not None:
                message["reply_to_message"] = self._message_dict(replied)
        return self._enqueue_message(chat, message)

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

    # ------------------------------------------------------------------ faults and limits

    def inject(
        self,
        error: Fault,
        *,
        method: str | None = "sendMessage",
        chat_id: int | str | None = None,
        times: int | None = 1,
    ) -> Injection:
        """Answer the next ``times`` matching calls with ``error`` (None: every call)."""
        injection = Injection(method, chat_id, error, times)
        self.injections.append(injection)
        return injection

    def set_fault_rate(
        self,
        rate: float,
        *,
        seed: int = 0,
        kinds: Sequence[Fault] = (RetryAfter(1), ServerError(), ConnectionReset()),
        methods: Collection[str] | None = None,
    ) -> None:
        """Fail a share ``rate`` of calls (to ``methods``, or all) with seeded ``kinds``."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        self._fault_rate = rate
        self._fault_random = random.Random(seed)
        self._fault_kinds = list(kinds)
        self._fault_methods = frozenset(m.lower() for m in methods) if methods else None

    def enable_rate_limits(self, limits: RateLimits | None = None) -> None:
        """Answer 429 like Telegram when sends exceed ``limits`` (counted in ``count_429``)."""
        self._limits = limits or RateLimits()

    def disable_rate_limits(self) -> None:
        """Stop enforcing flood limits."""
        self._limits = None

    def _pick_fault(self, method: str, chat_id: int | str | None) -> Fault | None:
        for injection in self.injections:
            if injection.matches(method, chat_id):
                injection.hits += 1
                return injection.error
        if (
            self._fault_rate
            and self._fault_kinds
            and (self._fault_methods is None or method.lower() in self._fault_methods)
            and self._fault_random.random() < self._fault_rate
        ):
            return self._fault_random.choice(self._fault_kinds)
        return None

    def _fault_error(self, fault: Fault, chat_id: int | str | None) -> ApiError:
        if isinstance(fault, RetryAfter):
            return ApiError(
                429,
                f"Too Many Requests: retry after {fault.seconds}",
                {"retry_after": fault.seconds},
            )
        if isinstance(fault, Blocked):
            if isinstance(chat_id, int) and chat_id in self.chats:
                self.chats[chat_id].blocked = True
            return ApiError(403, "Forbidden: bot was blocked by the user")
        if isinstance(fault, Kicked):
            return ApiError(403, "Forbidden: bot was kicked from the group chat")
        if isinstance(fault, ChatNotFound):
            return _bad_request("chat not found")
        if isinstance(fault, Migrate):
            if isinstance(chat_id, int) and chat_id in self.chats:
                self.migrate_chat(chat_id, fault.new_chat_id)
            return self._migrated_error(fault.new_chat_id)
        if isinstance(fault, ServerError):
            return ApiError(fault.status, fault.description)
        raise AssertionError(f"not an error fault: {fault!r}")

    @staticmethod
    def _migrated_error(new_chat_id: int) -> ApiError:
        return ApiError(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": new_chat_id},
        )

    def _check_rate(self, chat_id: int) -> ApiError | None:
        limits = self._limits
        if limits is None:
            return None
        now = self._clock()
        chat = self.chats.get(chat_id)
        is_private = chat is None or chat.type == "private"
        window = 1.0 if is_private else 60.0
        allowed = limits.private_per_second if is_private else limits.group_per_minute
        per_chat = self._chat_sends.setdefault(chat_id, deque())
        for sends, span, cap in (
            (self._global_sends, 1.0, limits.global_per_second),
            (per_chat, window, allowed),
        ):
            while sends and now - sends[0] >= span - limits.slack:
                sends.popleft()
            if len(sends) >= cap:
                wait = sends[0] + span - limits.slack - now
                seconds = max(1, math.ceil(wait))
                return ApiError(
                    429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
                )
        self._global_sends.append(now)
        per_chat.append(now)
        return None

    # ------------------------------------------------------------------ the API

    async def handle(
        self, method: str, params: JSON, *, token: str | None = None
    ) -> tuple[int, JSON]:
        """Answer one Bot API call: (HTTP status, Telegram's JSON body).

        ``params`` hold form values as strings (nested objects JSON-encoded,
        files as :class:`UploadedFile`) or already-decoded JSON values. With
        ``token`` given, a wrong one is answered 401 as Telegram does. Raises
        :class:`EmulatedConnectionReset` when a fault asks to drop the connection.
        """
        if token is not None and token != self.token:
            return 401, ApiError(401, "Unauthorized").body()
        known = self._handlers.get(method.lower())
        call = ApiCall(known[0] if known else method, dict(params), self._clock())
        self.calls.append(call)
        chat_id = self._raw_chat_id(params)
        fault = self._pick_fault(call.method, chat_id)
        if fault is not None:
            self.faults_injected[type(fault).__name__] += 1
        try:
            if isinstance(fault, ConnectionReset):
                call.status, call.description = 0, "connection reset"
                raise EmulatedConnectionReset(call.method)
            if isinstance(fault, Delay):
                if fault.deliver:
                    status, body = await self._answer(call, known, chat_id)
                    self._record(call, status, body)
                    await self._hold(fault.seconds)
                    return status, body
                await self._hold(fault.seconds)
                error = ApiError(504, "Gateway Timeout")
                self._record(call, error.status, error.body())
                return error.status, error.body()
            if fault is not None:
                error = self._fault_error(fault, chat_id)
                self._record(call, error.status, error.body())
                return error.status, error.body()
            status, body = await self._answer(call, known, chat_id)
            self._record(call, status, body)
            return status, body
        finally:
            self._changed()

    def _record(self, call: ApiCall, status: int, body: JSON) -> None:
        call.status = status
        call.description = body.get("description")
        if status == 429:
            self.count_429 += 1

    async def _answer(
        self,
        call: ApiCall,
        known: tuple[str, Callable[[JSON], Awaitable[Any]]] | None,
        chat_id: int | str | None,
    ) -> tuple[int, JSON]:
        if known is None:
            error = _bad_request(f'the fake Bot API does not implement method "{call.method}"')
            return error.status, error.body()
        try:
            if call.method in SEND_METHODS and self._limits is not None:
                resolved = self._resolve_chat_id(chat_id)
                if resolved is not None:
                    limited = self._check_rate(resolved)
                    if limited is not None:
                        raise limited
            result = await known[1](call.params)
        except ApiError as error:
            return error.status, error.body()
        return 200, {"ok": True, "result": result}

    async def _hold(self, seconds: float) -> None:
        # Held answers end early at close(), so a server shutdown never waits on them.
        try:
            await asyncio.wait_for(self._closed.wait(), seconds)
        except TimeoutError:
            pass

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _raw_chat_id(params: JSON) -> int | str | None:
        value = params.get("chat_id")
        if value is None:
            return None
        if isinstance(value, int):
            return value
        text = str(value)
        try:
            return int(text)
        except ValueError:
            return text

    def _resolve_chat_id(self, raw: int | str | None) -> int | None:
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str) and raw.startswith("@"):
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == raw[1:].lower():
                    return chat.id
        return None

    def _chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise KeyError(f"no chat {chat_id}; add it with add_user or add_chat")
        return chat

    def _user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise KeyError(f"no user {user_id}; add it with add_user")
        return user

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
            raise self._migrated_error(chat.migrated_to)
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

    def _new_message_id(self, chat_id: int) -> int:
        next_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = next_id + 1
        return next_id

    def _user_message(
        self, chat: Chat, user_id: int, *, text: str | None = None, caption: str | None = None
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
        )
        self._history.setdefault(chat.id, []).append(sent)
        message: JSON = {
            "message_id": sent.message_id,
            "date": sent.date,
            "chat": chat.to_dict(),
        }
        if chat.type == "channel":
            message["sender_chat"] = chat.to_dict()
        else:
            message["from"] = self._user(user_id).to_dict()
        if text is not None:
            message["text"] = text
        if caption is not None:
            message["caption"] = caption
        return message

    def _enqueue_message(self, chat: Chat, message: JSON) -> JSON:
        kind = "channel_post" if chat.type == "channel" else "message"
        return self.enqueue_update({kind: message})

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
                "can_change_info can_invite_users can_pin_messages can_manage_topics"
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

    # ------------------------------------------------------------------ method handlers

    async def _ok(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot.to_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params, "offset")
        limit = min(max(_as_int(params, "limit") or 100, 1), 100)
        timeout = _as_float(params, "timeout", 0.0)
        allowed = _as_json(params, "allowed_updates")
        if isinstance(allowed, list):
            # Telegram remembers the last list; an empty one means the default set.
            self._allowed_updates = frozenset(allowed) if allowed else _DEFAULT_ALLOWED
        if offset is not None:
            if offset < 0:
                while len(self._updates) > -offset:
                    self._updates.popleft()
            else:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()
        # A newer getUpdates ends an older one with 409, as Telegram does.
        self._poll_generation += 1
        generation = self._poll_generation
        self._changed()

        def ready() -> bool:
            return (
                bool(self._deliverable())
                or generation != self._poll_generation
                or self._closed.is_set()
            )

        if timeout > 0:
            try:
                await self.wait_for(ready, timeout)
            except TimeoutError:
                pass
        if generation != self._poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        return self._deliverable()[:limit]

    def _deliverable(self) -> list[JSON]:
        # Updates of types not allowed are dropped, as Telegram drops them.
        kept = deque(u for u in self._updates if self._update_type(u) in self._allowed_updates)
        if len(kept) != len(self._updates):
            self._updates = kept
        return list(kept)

    @staticmethod
    def _update_type(update: JSON) -> str:
        return next(key for key in update if key != "update_id")

    async def _set_webhook(self, params: JSON) -> bool:
        url = _as_str(params, "url") or ""
        if url and not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        self.webhook_secret = _as_str(params, "secret_token")
        allowed = _as_json(params, "allowed_updates")
        self.webhook_allowed_updates = allowed if isinstance(allowed, list) else None
        if _as_bool(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, params: JSON) -> bool:
        self.webhook_url = ""
        self.webhook_secret = None
        if _as_bool(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_allowed_updates is not None:
            info["allowed_updates"] = self.webhook_allowed_updates
        return info

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

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = _as_json(params, "scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), _as_str(params, "language_code") or ""

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = _as_json(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand")
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

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


def _suffix(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:] if dot > 0 and len(filename) - dot <= 10 else ""


# --------------------------------------------------------------------------- in-process adapter

_API_URL = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?(?:\?.*)?$")
_FILE_URL = re.compile(r"/file/bot(?P<token>[^/]+)/(?P<path>.+)$")


class EmulatorRequest(BaseRequest):
    """A python-telegram-bot request backend that calls the emulator directly.

    Build the Application with ``.request(EmulatorRequest(em))`` and
    ``.get_updates_request(EmulatorRequest(em))``: every Bot API call then
    goes to ``em.handle`` without any network. Timeouts behave like HTTP
    ones: an answer slower than the read timeout raises ``TimedOut``.
    """

    def __init__(self, emulator: BotApiEmulator, *, read_timeout: float | None = 5.0) -> None:
        self._emulator = emulator
        self._read_timeout = read_timeout
        self._initialized = False

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        self._initialized = True

    async def shutdown(self) -> None:
        self._initialized = False

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | Any | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | Any | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | Any | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | Any | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Route one PTB request to the emulator; see :meth:`BaseRequest.do_request`."""
        file_match = _FILE_URL.search(url)
        if file_match is not None:
            found = None
            if file_match["token"] == self._emulator.token:
                found = self._emulator.file_content(file_match["path"])
            return (200, found) if found is not None else (404, b'{"ok":false}')
        api_match = _API_URL.search(url)
        if api_match is None:
            raise NetworkError(f"EmulatorRequest cannot route {url.split('/bot')[0]}")
        params: JSON = dict(request_data.json_parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            for name, (filename, content, mime) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                params[name] = UploadedFile(filename, data, mime)
        timeout = (
            self._read_timeout
            if isinstance(read_timeout, type(BaseRequest.DEFAULT_NONE))
            else read_timeout
        )
        call = self._emulator.handle(api_match["method"], params, token=api_match["token"])
        try:
            status, body = await asyncio.wait_for(call, timeout)
        except TimeoutError:
            raise TimedOut() from None
        except EmulatedConnectionReset:
            raise NetworkError("httpx.RemoteProtocolError: Server disconnected") from None
        return status, json.dumps(body).encode()

"""The emulator's data: the JSON shapes and limits of the Bot API, its error
answer, and the users, chats, messages, files and calls it keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

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


NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
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
    is_forum: bool = False  # a supergroup with topics
    topics: dict[int, str] = field(default_factory=dict)  # thread id → name, while open
    deleted_topics: set[int] = field(default_factory=set)

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name or "User"
        else:
            data["title"] = self.title or f"Chat {self.id}"
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
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
    thread_id: int | None = None  # the forum topic it is in

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

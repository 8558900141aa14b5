"""What the emulator holds (chats, users, messages, updates, calls) and how
tests read it and wait on it; the base of every part of `BotApiEmulator`."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter, deque
from collections.abc import Callable

from emulator.faults import Fault, Injection, RateLimits
from emulator.models import (
    _DEFAULT_ALLOWED,
    JSON,
    ApiCall,
    Chat,
    SentMessage,
    StoredFile,
    User,
)


class EmulatorState:
    """The emulator's state; `BotApiEmulator.__init__` sets the attributes declared here."""

    token: str
    bot: User
    strict_html: bool
    max_text_length: int
    _clock: Callable[[], float]
    _wall_clock: Callable[[], float]
    _closed: asyncio.Event
    _changed_event: asyncio.Event

    # ------------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        """Forget every chat, user, message, update, call, fault and limit."""
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.calls: list[ApiCall] = []
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.inline_answers: dict[str, JSON] = {}  # by inline query id: what the bot offered
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
        self._inline_queries: dict[str, JSON] = {}
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

    # ------------------------------------------------------------------ lookups

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

    def _new_message_id(self, chat_id: int) -> int:
        next_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = next_id + 1
        return next_id

    @staticmethod
    def _update_type(update: JSON) -> str:
        return next(key for key in update if key != "update_id")

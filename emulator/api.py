"""`BotApiEmulator`: one Bot API call in, Telegram's answer out, with injected
faults and flood limits in front of the method handlers."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

from emulator.faults import (
    Blocked,
    ChatNotFound,
    ConnectionReset,
    Delay,
    Fault,
    Injection,
    Kicked,
    Migrate,
    RateLimits,
    RetryAfter,
    ServerError,
    _migrated_error,
)
from emulator.messages import MessagesMixin
from emulator.models import (
    JSON,
    SEND_METHODS,
    ApiCall,
    ApiError,
    EmulatedConnectionReset,
    User,
    _bad_request,
)
from emulator.players import PlayersMixin
from emulator.telegram_html import MAX_MESSAGE_LENGTH
from emulator.updates import UpdatesMixin


class BotApiEmulator(PlayersMixin, UpdatesMixin, MessagesMixin):
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
                "answerInlineQuery": self._answer_inline_query,
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

    # ------------------------------------------------------------------ faults and limits

    def inject(
        self,
        error: Fault,
        *,
        method: str | None = "sendMessage",
        chat_id: int | str | None = None,
        times: int | None = 1,
        after: int = 0,
    ) -> Injection:
        """Answer the next ``times`` matching calls with ``error`` (None: every call),
        once ``after`` matching calls have been answered as usual."""
        injection = Injection(method, chat_id, error, times, passed=after)
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
                if injection.passed > 0:
                    injection.passed -= 1  # let this one through, as asked
                    continue
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
            return _migrated_error(fault.new_chat_id)
        if isinstance(fault, ServerError):
            return ApiError(fault.status, fault.description)
        raise AssertionError(f"not an error fault: {fault!r}")

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

"""Replies of several messages (a statement's full text), sent at once rather than
through the outbox, paced with delivery's own pacers.

A reader who presses "Full text" should not wait behind a broadcast to thousands of
chats, as an outbox row would; nor should the parts go out in a burst Telegram
answers with 429. So each part takes a slot of the same global rate delivery uses
and waits for the chat's own spacing (1 a second in a private chat, 20 a minute in
a group), which delivery then respects too. What Telegram answers is decided by
delivery's policy table: a 429 pauses everyone, a network error is retried with
backoff, anything final ends this reply (logged). One chat's replies go one after
another, never interleaved; a reply already on its way is not queued twice.

Not crash-safe, as no reply is: a reply cut short by a restart is pressed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from telegram import Bot, LinkPreviewOptions
from telegram.error import TelegramError

from jobs.delivery_policy import DeliveryTuning, PauseAll, Retry, Sent, SoFar, decide
from jobs.pacing import ChatPacer, GlobalPacer, Monotonic
from text.redact import redact

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a reply goes: the Telegram chat, its type (for the chat's pacing) and
    the forum topic, if the button was pressed in one."""

    chat_id: int
    chat_type: str
    thread_id: int | None = None


class PacedReplies:
    """Sends replies of several messages in the background, paced; see the module."""

    def __init__(
        self,
        bot: Bot,
        pacer: GlobalPacer,
        chat_pacer: ChatPacer,
        *,
        monotonic: Monotonic = time.monotonic,
        tuning: DeliveryTuning | None = None,
    ) -> None:
        self._bot = bot
        self._pacer = pacer
        self._chat_pacer = chat_pacer
        self._monotonic = monotonic
        self._tuning = tuning or DeliveryTuning()
        self._closing = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_the_way: set[Hashable] = set()
        # One lock per chat with a reply going or waiting: replies never interleave.
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self.sent = 0

    def on_the_way(self, key: Hashable) -> bool:
        """Whether the reply named `key` is queued or being sent."""
        return key in self._on_the_way

    def send(self, key: Hashable, where: Destination, texts: Sequence[str]) -> bool:
        """Send `texts` in order, in the background. False: the reply named `key`
        (a statement to a chat) is already on its way, or the bot is stopping."""
        if key in self._on_the_way or self._closing.is_set() or not texts:
            return False
        self._on_the_way.add(key)
        task = asyncio.create_task(self._reply(key, where, list(texts)), name="communique-reply")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every reply queued so far is sent (tests, console)."""
        async with asyncio.timeout(timeout):
            while self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        """Stop: the part being sent is finished, the rest is dropped."""
        self._closing.set()
        tasks = list(self._tasks)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=self._tuning.stop_grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def _reply(self, key: Hashable, where: Destination, texts: list[str]) -> None:
        chat = where.chat_id
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        try:
            async with lock:
                for number, text in enumerate(texts, start=1):
                    if not await self._send_one(where, text):
                        if not self._closing.is_set():
                            log.warning(
                                "chat %s: reply stopped at part %d of %d", chat, number, len(texts)
                            )
                        return
        except Exception:
            log.exception("chat %s: reply failed", chat)
        finally:
            self._on_the_way.discard(key)
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat]
                del self._chat_locks[chat]

    async def _send_one(self, where: Destination, text: str) -> bool:
        """One message, retried as delivery would; False: give up on this reply."""
        so_far = SoFar()
        while True:
            if not await self._wait_for_chat(where):
                return False
            if not await self._pacer.acquire(self._closing):
                return False
            self._chat_pacer.record(where.chat_id, where.chat_type)
            answer: Exception | None = None
            try:
                await self._bot.send_message(
                    where.chat_id,
                    text,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    message_thread_id=where.thread_id,
                )
            except Exception as exc:  # every answer is decided on below, bugs included
                answer = exc
            action = decide(answer, so_far, self._tuning)
            if isinstance(action, Sent):
                self.sent += 1
                return True
            if answer is not None and not isinstance(answer, TelegramError):
                log.error("chat %s: unexpected error in a reply", where.chat_id, exc_info=answer)
            if isinstance(action, PauseAll):
                log.warning("Telegram asked to slow down: all sends pause %.0f s", action.seconds)
                self._pacer.pause(action.seconds)
                continue
            if isinstance(action, Retry):
                # A timeout may have delivered the part: it is sent once more rather
                # than lost, as delivery does.
                so_far = SoFar(
                    errors=so_far.errors + int(action.counts),
                    timeouts=so_far.timeouts + int(action.possible_duplicate),
                )
                if not await self._wait(action.after):
                    return False
                continue
            log.warning("chat %s: reply not sent: %s", where.chat_id, redact(str(action)))
            return False

    async def _wait_for_chat(self, where: Destination) -> bool:
        """Wait for the chat's own spacing; False: stopping."""
        while True:
            left = self._chat_pacer.ready_at(where.chat_id, where.chat_type) - self._monotonic()
            if left <= 0:
                return not self._closing.is_set()
            if not await self._wait(left):
                return False

    async def _wait(self, seconds: float) -> bool:
        """Wait `seconds`, or less if the bot stops; False: stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)
        return not self._closing.is_set()

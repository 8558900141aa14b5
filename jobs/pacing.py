"""Pacing before sending: a global rate and per-chat spacing, so Telegram never has
to answer 429; and a global pause when it does anyway."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

Monotonic = Callable[[], float]

# Telegram's documented limits: about 1 message a second in one private chat,
# 20 messages a minute in one group or channel.
PRIVATE_INTERVAL = 1.0
GROUP_WINDOW = 60.0
GROUP_PER_WINDOW = 20


class GlobalPacer:
    """Spaces sends evenly at `rate` per second (None: no pacing); honours pauses."""

    def __init__(self, rate: float | None, *, monotonic: Monotonic = time.monotonic) -> None:
        self._interval = 0.0 if not rate else 1.0 / rate
        self._monotonic = monotonic
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nobody sends until the pause is over."""
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._monotonic())

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._monotonic()
                start = max(now, self._next_slot, self._paused_until)
                if start <= now:
                    break
                await asyncio.sleep(start - now)
            # Slots are claimed back to back, so a late wake-up is made up, not lost,
            # but never by bunching more than one interval's worth at once.
            self._next_slot = max(self._next_slot + self._interval, now)


class ChatPacer:
    """When each chat may next receive a message."""

    def __init__(self, *, enabled: bool = True, monotonic: Monotonic = time.monotonic) -> None:
        self._enabled = enabled
        self._monotonic = monotonic
        self._private_next: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}

    def ready_at(self, chat_id: int, chat_type: str) -> float:
        """Monotonic time at which a send to this chat is allowed (≤ now: now)."""
        if not self._enabled:
            return 0.0
        if chat_type == "private":
            return self._private_next.get(chat_id, 0.0)
        sends = self._group_sends.get(chat_id)
        if not sends or len(sends) < GROUP_PER_WINDOW:
            return 0.0
        return sends[0] + GROUP_WINDOW

    def record(self, chat_id: int, chat_type: str) -> None:
        if not self._enabled:
            return
        now = self._monotonic()
        if chat_type == "private":
            self._private_next[chat_id] = now + PRIVATE_INTERVAL
            if len(self._private_next) > 50_000:
                self._forget_private(now)
            return
        sends = self._group_sends.setdefault(chat_id, deque())
        sends.append(now)
        while sends and sends[0] <= now - GROUP_WINDOW:
            sends.popleft()
        while len(sends) > GROUP_PER_WINDOW:
            sends.popleft()

    def _forget_private(self, now: float) -> None:
        # Keep memory flat over 100,000 chats: entries in the past say nothing.
        self._private_next = {k: v for k, v in self._private_next.items() if v > now}

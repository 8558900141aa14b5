"""Pacing before sending: a global rate and per-chat spacing, so Telegram never has
to answer 429; and a global pause when it does anyway."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable

Monotonic = Callable[[], float]

# Telegram's documented limits: about 1 message a second in one private chat,
# 20 messages a minute in one group or channel.
PRIVATE_INTERVAL = 1.0
GROUP_WINDOW = 60.0
GROUP_PER_WINDOW = 20
# Past this many remembered chats, entries that no longer hold anyone back are
# dropped, so memory stays flat however many chats a broadcast reaches.
PRUNE_AT = 10_000


class GlobalPacer:
    """Spaces sends evenly at `rate` per second (None: no pacing); honours pauses."""

    def __init__(self, rate: float | None, *, monotonic: Monotonic = time.monotonic) -> None:
        self._interval = 0.0 if not rate else 1.0 / rate
        self._monotonic = monotonic
        self._next_slot = float("-inf")
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nobody sends until the pause is over."""
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    async def wait_unpaused(self, cancel: asyncio.Event | None = None) -> bool:
        """Wait until no 429 pause is in force. False: `cancel` was set first."""
        while True:
            if cancel is not None and cancel.is_set():
                return False
            left = self._paused_until - self._monotonic()
            if left <= 0:
                return True
            await _sleep(left, cancel)

    async def acquire(self, cancel: asyncio.Event | None = None) -> bool:
        """Wait for the next send slot. False: `cancel` was set first (nothing claimed)."""
        async with self._lock:
            while True:
                if cancel is not None and cancel.is_set():
                    return False
                now = self._monotonic()
                start = max(now, self._next_slot, self._paused_until)
                if start <= now:
                    break
                await _sleep(start - now, cancel)
            # A slot missed by less than one interval (a late wake-up) is made up, so
            # the long-run rate is the configured one; after an idle spell or a pause
            # the schedule restarts from now, so sends never come in a bunch.
            base = self._next_slot if self._next_slot >= now - self._interval else now
            self._next_slot = base + self._interval
            return True


async def _sleep(seconds: float, cancel: asyncio.Event | None) -> None:
    if cancel is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(cancel.wait(), seconds)


class ChatPacer:
    """When each chat may next receive a message."""

    def __init__(self, *, enabled: bool = True, monotonic: Monotonic = time.monotonic) -> None:
        self._enabled = enabled
        self._monotonic = monotonic
        self._private_next: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}
        self._prune_at = PRUNE_AT

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
            if len(self._private_next) > self._prune_at:
                self._private_next = {k: v for k, v in self._private_next.items() if v > now}
                self._grow_prune_threshold()
            return
        sends = self._group_sends.setdefault(chat_id, deque())
        sends.append(now)
        while sends and sends[0] <= now - GROUP_WINDOW:
            sends.popleft()
        while len(sends) > GROUP_PER_WINDOW:
            sends.popleft()
        if len(self._group_sends) > self._prune_at:
            self._group_sends = {
                k: v for k, v in self._group_sends.items() if v and v[-1] > now - GROUP_WINDOW
            }
            self._grow_prune_threshold()

    def _grow_prune_threshold(self) -> None:
        # If most entries are still live, prune less often: never a full scan per send.
        live = max(len(self._private_next), len(self._group_sends))
        self._prune_at = max(PRUNE_AT, 2 * live)

    def __len__(self) -> int:
        """Chats remembered (for memory checks)."""
        return len(self._private_next) + len(self._group_sends)

"""How updates are run: one chat's updates one after another, in the order Telegram
sent them; different chats at the same time.

Fully concurrent updates let `/subscribe 1` and `/unsubscribe 1` sent together (a
batch after downtime, quick taps) finish in either order and leave the opposite of
what the user asked. Fully sequential ones would make every chat wait for one
admin's slow `/addfeed`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates running at once (each its own chat). The limit is ours, taken once a
# chat's turn has come: PTB's own limit, taken before, is set so high that updates
# waiting for their chat never hold the slots that other chats need.
MAX_CONCURRENT_UPDATES = 256
_UNBOUNDED = 1_000_000


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(_UNBOUNDED)
        self._running = asyncio.Semaphore(max_concurrent_updates)
        # A lock per chat with updates in hand, and how many hold or wait for it; the
        # entry goes when the last one is done, so memory follows activity only.
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_of(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        # Tasks reach this point in the order the updates arrived, and an asyncio
        # lock hands itself to its waiters first come, first served.
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock, self._running:
                await coroutine
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _chat_of(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None

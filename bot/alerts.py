"""Alerts for admins: feeds that break or recover, deliveries that fail for good,
unhandled errors. They go through the outbox like everything else (paced, kept
across restarts) to `ADMIN_CHAT_ID`, else to each admin's private chat.

Alerts of one kind are grouped: the first is sent at once, the rest within the
next window are summed up in one message, so a storm of errors sends a few
messages, not thousands.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.config import Settings
from storage.api import StoreAPI
from storage.models import Feed
from text.dates import Clock
from text.markup import esc
from text.redact import redact

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=10)
MAX_LISTED = 10  # lines kept and shown in a summary; the rest are only counted
MAX_SUMMARY = 3500  # characters of listed lines: a summary stays one Telegram message

TITLES = {
    "feed_failing": "⚠️ Feed failing",
    "feed_recovered": "✅ Feed recovered",
    "feed_gone": "⛔ Feed gone, paused",
    "page_layout_changed": "🔀 Page layout changed",
    "delivery_failed": "⚠️ Delivery failed",
    "error": "🐞 Unexpected error",
}


@dataclass(slots=True)
class _Kind:
    last_sent: datetime | None = None
    held: list[str] = field(default_factory=list)  # the first MAX_LISTED held lines
    held_count: int = 0  # all held since the last message, so a storm costs no memory


class Alerts:
    def __init__(
        self, store: StoreAPI, settings: Settings, *, clock: Clock, window: timedelta = WINDOW
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._window = window
        self._kinds: dict[str, _Kind] = {}

    def targets(self) -> list[int]:
        if self._settings.admin_chat_id is not None:
            return [self._settings.admin_chat_id]
        return sorted(self._settings.admin_ids)

    async def feed_alert(self, kind: str, feed: Feed, text: str) -> None:
        name = esc((feed.title or feed.url)[:100])
        await self.raise_alert(kind, f"feed {feed.id}, <b>{name}</b>: {esc(redact(text)[:500])}")

    async def delivery_failed(self, chat_id: int, error: str) -> None:
        if chat_id in self.targets():
            return  # an alert about failing to alert would loop
        await self.raise_alert("delivery_failed", f"chat {chat_id}: {esc(redact(error)[:300])}")

    async def error(self, exc: BaseException | None) -> None:
        text = redact(f"{type(exc).__name__}: {exc}") if exc else "unknown error"
        await self.raise_alert("error", esc(text[:500]) + " (details in the bot's log)")

    async def raise_alert(self, kind: str, line: str) -> None:
        state = self._kinds.setdefault(kind, _Kind())
        now = self._clock()
        if state.last_sent is not None and now - state.last_sent < self._window:
            state.held_count += 1
            if len(state.held) < MAX_LISTED:
                state.held.append(line)
            return
        state.last_sent = now
        await self._send(f"<b>{TITLES.get(kind, kind)}</b>\n{line}")

    async def flush(self) -> None:
        """Send what was held back, once its kind's window is over (called each minute)."""
        now = self._clock()
        for kind, state in self._kinds.items():
            if not state.held_count:
                continue
            if state.last_sent is not None and now - state.last_sent < self._window:
                continue
            held, count = state.held, state.held_count
            state.held, state.held_count = [], 0
            state.last_sent = now
            await self._send(render_summary(kind, held, count, self._window))

    async def _send(self, text: str) -> None:
        for chat_id in self.targets():
            try:
                chat = await self._store.find_chat(chat_id)
                if chat is None:
                    chat = await self._store.touch_chat(
                        chat_id, "private" if chat_id > 0 else "supergroup", "admin"
                    )
                if not chat.active:
                    continue
                await self._store.enqueue_text(chat_id, text, kind="alert")
            except Exception:
                log.exception("could not queue an alert for chat %s", chat_id)


def render_summary(kind: str, held: list[str], count: int, window: timedelta) -> str:
    """One message for `count` alerts of a kind held back; `held` are the first lines."""
    listed: list[str] = []
    size = 0
    for line in held:
        if size + len(line) > MAX_SUMMARY:
            break
        listed.append(f"• {line}")
        size += len(line) + 3
    more = f"\n…and {count - len(listed)} more" if count > len(listed) else ""
    minutes = int(window.total_seconds() // 60)
    body = "\n".join(listed)
    return f"<b>{TITLES.get(kind, kind)} ×{count}</b> (in the last {minutes} min)\n{body}{more}"

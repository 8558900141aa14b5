"""Alerts for admins: feeds that break or recover, deliveries that fail for good,
unhandled errors. They go through the outbox like everything else (paced, kept
across restarts) to `ADMIN_CHAT_ID`, else to each admin's private chat, each in
its chat's language: an alert is kept as a line that can be said in any language
and rendered once per target chat when it is queued. The servers' and parsers'
own words quoted in an alert (an HTTP status, an exception) stay as they came.

Alerts of one kind are grouped: the first is sent at once, the rest within the
next window are summed up in one message, so a storm of errors sends a few
messages, not thousands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.config import Settings
from storage.models import Feed
from storage.store import Store
from text.dates import Clock
from text.i18n import N_, Translator, translator
from text.markup import esc
from text.phrase import say
from text.redact import redact

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=10)
MAX_LISTED = 10  # lines kept and shown in a summary; the rest are only counted
MAX_SUMMARY = 3500  # characters of listed lines: a summary stays one Telegram message

TITLES = {
    "feed_failing": N_("⚠️ Feed failing"),
    "feed_recovered": N_("✅ Feed recovered"),
    "feed_gone": N_("⛔ Feed gone, paused"),
    "page_layout_changed": N_("🔀 Page layout changed"),
    "delivery_failed": N_("⚠️ Delivery failed"),
    "error": N_("🐞 Unexpected error"),
}

# An alert's line, as Telegram HTML in the language of the catalog it is given.
Line = Callable[[Translator], str]


def _title(kind: str, tr: Translator) -> str:
    return tr.gettext(TITLES[kind]) if kind in TITLES else kind


@dataclass(slots=True)
class _Kind:
    last_sent: datetime | None = None
    held: list[Line] = field(default_factory=list)  # the first MAX_LISTED held lines
    held_count: int = 0  # all held since the last message, so a storm costs no memory


class Alerts:
    def __init__(
        self, store: Store, settings: Settings, *, clock: Clock, window: timedelta = WINDOW
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

        def line(tr: Translator) -> str:
            return tr.gettext("feed {id}, <b>{name}</b>: {text}").format(
                id=feed.id, name=name, text=esc(redact(say(text, tr))[:500])
            )

        await self.raise_alert(kind, line)

    async def delivery_failed(self, chat_id: int, error: str) -> None:
        if chat_id in self.targets():
            return  # an alert about failing to alert would loop
        quoted = esc(redact(error)[:300])

        def line(tr: Translator) -> str:
            return tr.gettext("chat {id}: {error}").format(id=chat_id, error=quoted)

        await self.raise_alert("delivery_failed", line)

    async def error(self, exc: BaseException | None) -> None:
        quoted = esc(redact(f"{type(exc).__name__}: {exc}")[:500]) if exc else None

        def line(tr: Translator) -> str:
            if quoted is None:
                return tr.gettext("unknown error (details in the bot's log)")
            return tr.gettext("{error} (details in the bot's log)").format(error=quoted)

        await self.raise_alert("error", line)

    async def raise_alert(self, kind: str, line: Line) -> None:
        state = self._kinds.setdefault(kind, _Kind())
        now = self._clock()
        if state.last_sent is not None and now - state.last_sent < self._window:
            state.held_count += 1
            if len(state.held) < MAX_LISTED:
                state.held.append(line)
            return
        state.last_sent = now
        await self._send(lambda tr: f"<b>{_title(kind, tr)}</b>\n{line(tr)}")

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
            await self._send(self._summary(kind, held, count))

    def _summary(self, kind: str, held: list[Line], count: int) -> Line:
        def summary(tr: Translator) -> str:
            return render_summary(kind, [line(tr) for line in held], count, self._window, tr)

        return summary

    async def _send(self, render: Line) -> None:
        """Queue the alert for every target chat, said in that chat's language."""
        for chat_id in self.targets():
            try:
                chat = await self._store.find_chat(chat_id)
                if chat is None:
                    chat = await self._store.touch_chat(
                        chat_id, "private" if chat_id > 0 else "supergroup", "admin"
                    )
                if not chat.active:
                    continue
                text = render(translator(chat.language))
                await self._store.enqueue_text(chat_id, text, kind="alert")
            except Exception:
                log.exception("could not queue an alert for chat %s", chat_id)


def render_summary(
    kind: str,
    held: list[str],
    count: int,
    window: timedelta,
    tr: Translator | None = None,
) -> str:
    """One message for `count` alerts of a kind held back; `held` are the first lines
    (already in `tr`'s language)."""
    tr = tr or translator("en")
    listed: list[str] = []
    size = 0
    for line in held:
        if size + len(line) > MAX_SUMMARY:
            break
        listed.append(f"• {line}")
        size += len(line) + 3
    left = count - len(listed)
    more = (
        "\n" + tr.ngettext("…and {count} more", "…and {count} more", left).format(count=left)
        if left > 0
        else ""
    )
    minutes = int(window.total_seconds() // 60)
    heading = tr.gettext("<b>{title} ×{count}</b> (in the last {minutes} min)").format(
        title=_title(kind, tr), count=count, minutes=minutes
    )
    body = "\n".join(listed)
    return f"{heading}\n{body}{more}"

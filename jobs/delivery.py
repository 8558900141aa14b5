"""Delivery: one long-lived task that sends the outbox to Telegram.

Rows are read oldest first and kept per chat in order; a chat is handed to one
worker at a time, so each chat gets its messages in publication order while many
chats are served at once. Every send is paced before it happens (a global rate and
per-chat spacing); a 429 pauses everyone for the time Telegram asked. A row is
claimed (committed as in flight) before the send and marked sent after it, so a
crash can only ever leave a possible duplicate for the request that was in flight,
and that is counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.htmltext import html_to_plain
from bot.render import render_digest, render_item
from jobs.pacing import ChatPacer, GlobalPacer, Monotonic
from storage.models import Item, OutboxRow
from storage.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # network errors and 5xx before a row is marked failed
TIMEOUT_PAUSE = 5.0  # seconds before resending after a timeout
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0
BATCH = 2000  # rows read into memory at once

FailureHook = Callable[[int, str], Awaitable[None]]


@dataclass(slots=True)
class _ChatQueue:
    chat_id: int
    chat_type: str
    timezone: str
    rows: deque[OutboxRow] = field(default_factory=deque)
    # Row id -> attempts in this process (backoff) and timeouts seen.
    errors: dict[int, int] = field(default_factory=dict)
    timeouts: dict[int, int] = field(default_factory=dict)
    plain: set[int] = field(default_factory=set)  # rows to resend without HTML


@dataclass(slots=True)
class DeliveryCounters:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    rate_limited: int = 0
    possible_duplicates: int = 0
    deactivated: int = 0
    migrated: int = 0


class Deliverer:
    """Sends pending outbox rows until stopped."""

    def __init__(
        self,
        store: Store,
        bot: Bot,
        *,
        rate: float | None = 30.0,
        chat_pacing: bool = True,
        workers: int = 16,
        monotonic: Monotonic = time.monotonic,
        on_failure: FailureHook | None = None,
        timeout_pause: float = TIMEOUT_PAUSE,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._store = store
        self._bot = bot
        self._pacer = GlobalPacer(rate, monotonic=monotonic)
        self._chat_pacer = ChatPacer(enabled=chat_pacing, monotonic=monotonic)
        self._monotonic = monotonic
        self._workers = workers
        self._on_failure = on_failure
        self._timeout_pause = timeout_pause
        self._max_attempts = max_attempts
        self.counters = DeliveryCounters()

        self._queues: dict[int, _ChatQueue] = {}
        self._ready: deque[int] = deque()  # chats with a sendable row, in arrival order
        self._ready_set: set[int] = set()
        self._delayed: list[tuple[float, int]] = []  # (monotonic time, chat id) heap
        self._busy: set[int] = set()
        self._loaded_ids: set[int] = set()
        self._cursor = 0
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="communique-delivery")

    async def stop(self) -> None:
        """Finish the sends in flight; what is pending stays pending."""
        self._stopping = True
        self._wake.set()
        self._store.outbox_changed.set()
        if self._task is not None:
            task, self._task = self._task, None
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def poke(self) -> None:
        self._wake.set()

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until nothing sendable is left (tests and `poll --once`)."""
        await asyncio.wait_for(self._wait_idle(), timeout)

    async def _wait_idle(self) -> None:
        while True:
            self._idle.clear()
            self._store.outbox_changed.set()
            self._wake.set()
            await self._idle.wait()
            if not self._busy and not self._queues:
                return

    # -------------------------------------------------------------------- loop

    async def run(self) -> None:
        recovered = await self._store.recover_in_flight()
        if recovered:
            log.warning("%d message(s) were in flight at the last stop: sending again", recovered)
            self.counters.possible_duplicates += recovered
        running: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping:
                if self._store.outbox_changed.is_set() or not self._queues:
                    self._store.outbox_changed.clear()
                    await self._load()
                self._promote_delayed()
                while self._ready and len(running) < self._workers and not self._stopping:
                    chat_id = self._ready.popleft()
                    self._ready_set.discard(chat_id)
                    self._busy.add(chat_id)
                    task = asyncio.create_task(self._serve(chat_id))
                    running.add(task)
                    task.add_done_callback(running.discard)
                    task.add_done_callback(lambda _t: self._wake.set())
                if not running and not self._queues:
                    self._idle.set()
                await self._sleep_until_needed()
        finally:
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _sleep_until_needed(self) -> None:
        timeout: float | None = None
        if self._delayed:
            timeout = max(0.0, self._delayed[0][0] - self._monotonic())
        retry_at = await self._store.next_retry_at() if not self._queues else None
        if retry_at is not None:
            until = (retry_at - self._store.now()).total_seconds()
            timeout = max(0.0, until) if timeout is None else min(timeout, max(0.0, until))
        if timeout is None:
            # Nothing scheduled: a periodic look keeps rows queued by another process
            # (the CLI) from waiting for the next poll.
            timeout = 5.0
        waiters = [
            asyncio.create_task(self._wake.wait()),
            asyncio.create_task(self._store.outbox_changed.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._wake.clear()
        if timeout is not None and not self._queues:
            # Rows waiting for a retry time are only visible to a fresh read.
            self._cursor = 0

    async def _load(self) -> None:
        rows = await self._store.pending_outbox(BATCH, after_id=self._cursor)
        if not rows and self._cursor:
            # Rows behind the cursor whose retry time has come.
            self._cursor = 0
            rows = await self._store.pending_outbox(BATCH, after_id=0)
        for row in rows:
            self._cursor = max(self._cursor, row.id)
            if row.id in self._loaded_ids:
                continue
            self._loaded_ids.add(row.id)
            queue = self._queues.get(row.chat_id)
            if queue is None:
                queue = _ChatQueue(row.chat_id, row.chat_type, row.chat_timezone)
                self._queues[row.chat_id] = queue
            queue.rows.append(row)
            self._schedule(row.chat_id)
        if len(rows) == BATCH:
            # More is waiting: read again after this round.
            self._store.outbox_changed.set()

    def _schedule(self, chat_id: int) -> None:
        if chat_id in self._busy or chat_id in self._ready_set:
            return
        queue = self._queues.get(chat_id)
        if queue is None or not queue.rows:
            return
        ready_at = self._chat_pacer.ready_at(chat_id, queue.chat_type)
        if ready_at > self._monotonic():
            heapq.heappush(self._delayed, (ready_at, chat_id))
            return
        self._ready.append(chat_id)
        self._ready_set.add(chat_id)

    def _delay(self, chat_id: int, seconds: float) -> None:
        heapq.heappush(self._delayed, (self._monotonic() + seconds, chat_id))

    def _promote_delayed(self) -> None:
        now = self._monotonic()
        while self._delayed and self._delayed[0][0] <= now:
            _, chat_id = heapq.heappop(self._delayed)
            if chat_id in self._busy or chat_id in self._ready_set:
                continue
            queue = self._queues.get(chat_id)
            if queue is None or not queue.rows:
                continue
            if self._chat_pacer.ready_at(chat_id, queue.chat_type) > now:
                self._schedule(chat_id)
                continue
            self._ready.append(chat_id)
            self._ready_set.add(chat_id)

    # ------------------------------------------------------------------ sending

    async def _serve(self, chat_id: int) -> None:
        """Send the next message of one chat, then hand the chat back."""
        requeue_after: float | None = None
        try:
            requeue_after = await self._send_next(chat_id)
        except Exception:
            log.exception("delivery to chat %s failed unexpectedly", chat_id)
            requeue_after = BACKOFF_CAP
        finally:
            self._busy.discard(chat_id)
            queue = self._queues.get(chat_id)
            if queue is not None and not queue.rows:
                del self._queues[chat_id]
            elif queue is not None:
                if requeue_after:
                    self._delay(chat_id, requeue_after)
                else:
                    self._schedule(chat_id)
            self._wake.set()

    def _take_batch(self, queue: _ChatQueue) -> list[OutboxRow]:
        """The next message's rows: one row, or every queued row of the same digest."""
        head = queue.rows[0]
        if head.digest_key is None:
            return [head]
        return [r for r in queue.rows if r.digest_key == head.digest_key]

    def _drop(self, queue: _ChatQueue, rows: list[OutboxRow]) -> None:
        ids = {r.id for r in rows}
        queue.rows = deque(r for r in queue.rows if r.id not in ids)
        for row_id in ids:
            self._loaded_ids.discard(row_id)
            queue.errors.pop(row_id, None)
            queue.timeouts.pop(row_id, None)
            queue.plain.discard(row_id)

    async def _send_next(self, chat_id: int) -> float | None:
        queue = self._queues[chat_id]
        batch = self._take_batch(queue)
        claimed = set(await self._store.mark_in_flight([r.id for r in batch]))
        stale = [r for r in batch if r.id not in claimed]
        if stale:
            # Cancelled or sent elsewhere since it was read: never send it.
            self._drop(queue, stale)
            batch = [r for r in batch if r.id in claimed]
            if not batch:
                return None
        texts = await self._render(queue, batch)
        if not texts:
            await self._store.mark_failed([r.id for r in batch], "nothing left to send")
            self._drop(queue, batch)
            return None
        head = batch[0].id
        plain = head in queue.plain
        message_id: int | None = None
        try:
            for text in texts:
                await self._pacer.acquire()
                self._chat_pacer.record(chat_id, queue.chat_type)
                message = await self._send(chat_id, text, plain=plain)
                message_id = message.message_id
        except RetryAfter as exc:
            seconds = _seconds(exc.retry_after)
            log.warning("Telegram asked to slow down: pausing all sends for %.0f s", seconds)
            self.counters.rate_limited += 1
            self._pacer.pause(seconds)
            await self._store.mark_retry([r.id for r in batch], str(exc), self._store.now())
            return None
        except TimedOut as exc:
            seen = queue.timeouts.get(head, 0) + 1
            queue.timeouts[head] = seen
            # It may have arrived; send once more, and count the row either way.
            await self._store.mark_possible_duplicate([r.id for r in batch])
            self.counters.possible_duplicates += 1
            if seen >= 2:
                return await self._retry_or_fail(queue, batch, f"timed out twice: {exc}")
            await self._store.mark_retry(
                [r.id for r in batch],
                f"timed out: {exc}",
                self._store.now() + timedelta(seconds=self._timeout_pause),
            )
            return self._timeout_pause
        except ChatMigrated as exc:
            new_id = int(exc.new_chat_id)
            log.info("chat %s moved to %s", chat_id, new_id)
            await self._store.migrate_chat(chat_id, new_id)
            self.counters.migrated += 1
            await self._store.mark_retry([r.id for r in batch], "chat migrated", self._store.now())
            self._move_queue(queue, new_id)
            return None
        except Forbidden as exc:
            await self._deactivate(queue, _reason(exc))
            return None
        except BadRequest as exc:
            text = exc.message.lower()
            if "chat not found" in text or "chat_id is empty" in text or "user not found" in text:
                await self._deactivate(queue, "chat not found")
                return None
            if "can't parse entities" in text or "can't find end" in text:
                if not plain:
                    log.warning(
                        "chat %s: Telegram could not parse a message; resending as plain text",
                        chat_id,
                    )
                    queue.plain.update(r.id for r in batch)
                    await self._store.mark_retry([r.id for r in batch], str(exc), self._store.now())
                    return None
            await self._fail(queue, batch, f"refused by Telegram: {exc.message}")
            return None
        except NetworkError as exc:
            return await self._retry_or_fail(queue, batch, str(exc))
        await self._store.mark_sent(
            [r.id for r in batch],
            message_id,
            possible_duplicate=head in queue.timeouts,
        )
        self.counters.sent += 1
        self._drop(queue, batch)
        return None

    async def _send(self, chat_id: int, text: str, *, plain: bool) -> Message:
        if plain:
            return await self._bot.send_message(
                chat_id,
                html_to_plain(text),
                parse_mode=None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        return await self._bot.send_message(
            chat_id,
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    async def _render(self, queue: _ChatQueue, batch: list[OutboxRow]) -> list[str]:
        if batch[0].kind != "item":
            return [batch[0].text] if batch[0].text else []
        items = await self._store.items_by_ids(r.item_id for r in batch if r.item_id is not None)
        ordered: list[Item] = [items[r.item_id] for r in batch if r.item_id in items]
        if not ordered:
            return []
        tz = _zone(queue.timezone)
        if len(batch) == 1:
            return [render_item(ordered[0], tz)]
        return render_digest(ordered, ordered[0].feed_title, tz)

    async def _retry_or_fail(
        self, queue: _ChatQueue, batch: list[OutboxRow], error: str
    ) -> float | None:
        head = batch[0].id
        attempts = queue.errors.get(head, 0) + 1
        queue.errors[head] = attempts
        if attempts >= self._max_attempts:
            await self._fail(queue, batch, f"gave up after {attempts} attempts: {error}")
            return None
        delay = min(BACKOFF_CAP, BACKOFF_BASE**attempts)
        self.counters.retried += 1
        log.warning("chat %s: send failed (%s); retrying in %.0f s", queue.chat_id, error, delay)
        await self._store.mark_retry(
            [r.id for r in batch], error, self._store.now() + timedelta(seconds=delay)
        )
        return delay

    async def _fail(self, queue: _ChatQueue, batch: list[OutboxRow], error: str) -> None:
        log.error("chat %s: message failed for good: %s", queue.chat_id, error)
        await self._store.mark_failed([r.id for r in batch], error)
        self.counters.failed += 1
        self._drop(queue, batch)
        if self._on_failure is not None:
            try:
                await self._on_failure(queue.chat_id, error)
            except Exception:
                log.exception("failure hook raised")

    async def _deactivate(self, queue: _ChatQueue, reason: str) -> None:
        log.info("chat %s is unreachable (%s): marked inactive", queue.chat_id, reason)
        await self._store.deactivate_chat(queue.chat_id, reason)
        self.counters.deactivated += 1
        self._drop(queue, list(queue.rows))

    def _move_queue(self, queue: _ChatQueue, new_id: int) -> None:
        old_id = queue.chat_id
        self._queues.pop(old_id, None)
        moved = [
            OutboxRow(
                id=r.id,
                chat_id=new_id,
                kind=r.kind,
                item_id=r.item_id,
                text=r.text,
                digest_key=r.digest_key,
                state=r.state,
                attempts=r.attempts,
                created_at=r.created_at,
                chat_type="supergroup",
                chat_timezone=r.chat_timezone,
                possible_duplicate=r.possible_duplicate,
            )
            for r in queue.rows
        ]
        target = self._queues.get(new_id)
        if target is None:
            target = _ChatQueue(new_id, "supergroup", queue.timezone)
            self._queues[new_id] = target
        target.rows = deque(sorted([*target.rows, *moved], key=lambda r: r.id))
        target.plain |= queue.plain
        queue.rows = deque()
        self._schedule(new_id)


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _reason(exc: Forbidden) -> str:
    text = exc.message.lower()
    if "blocked" in text:
        return "blocked the bot"
    if "kicked" in text or "not a member" in text:
        return "removed the bot"
    if "deactivated" in text:
        return "user deactivated"
    return exc.message[:200]


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    zone = _ZONES.get(name)
    if zone is None:
        try:
            zone = ZoneInfo(name)
        except Exception:
            zone = ZoneInfo("UTC")
        _ZONES[name] = zone
    return zone

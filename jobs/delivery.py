"""Delivery: one long-lived task that sends the outbox to Telegram.

Rows are read oldest first, a bounded window at a time, and kept per chat in id
order; a chat is handed to one worker at a time, so each chat gets its messages in
publication order while many chats are served at once, round robin. Every send is
paced before it happens (a global rate and per-chat spacing); a 429 pauses everyone
for the time Telegram asked. A row is claimed (committed as in flight) before the
send and marked sent after it, so a crash can only ever leave a possible duplicate
for the request that was in flight, and that is counted at the next start.

A retry time (`not_before`) is kept in the database as well as in memory, so backoff
and Telegram's pauses survive a restart; a chat whose first row waits, waits whole,
so order is never broken by a retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import NamedTuple

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError

from jobs.delivery_policy import (
    Deactivate,
    DeliveryTuning,
    Drop,
    Fail,
    Migrate,
    PauseAll,
    ResendPlain,
    Sent,
    Setback,
    SoFar,
    decide,
)
from jobs.pacing import ChatPacer, GlobalPacer, Monotonic
from jobs.statement_buttons import full_text_markup, has_full_text
from storage.api import StoreAPI
from storage.models import Item, OutboxRow
from text.dates import zone_or_utc
from text.plain import telegram_html_to_plain
from text.redact import redact
from text.statements import render_day_digest, render_digest_parts, render_item

log = logging.getLogger(__name__)

BATCH = 2000  # rows read from the database at once
LOW_WATER = 1000  # read more when fewer rows than this are in memory …
MAX_LOADED = 20_000  # … or when no chat in memory may be sent to now, up to this many
LOOK_INTERVAL = 5.0  # a periodic look for rows queued by another process (the CLI)
ERROR_PAUSE = 5.0  # after an unexpected error outside a send
RENDER_CACHE = 256  # rendered messages kept: one statement goes to many chats

FailureHook = Callable[[int, str], Awaitable[None]]


class _Message(NamedTuple):
    """One message to send: its text, what it accounts for (row ids; in the render
    cache, the indexes of the statements it shows) and its buttons."""

    text: str
    shows: list[int]
    # A single statement's "Full text" button. Kept with the text, so a plain resend
    # and a correction (an edit would drop buttons it is not given) keep it too.
    markup: InlineKeyboardMarkup | None = None


@dataclass(slots=True)
class _Attempt:
    """What this process learnt trying to send one message (keyed by its first row)."""

    errors: int = 0
    timeouts: int = 0
    plain: bool = False  # Telegram could not parse the HTML: send as plain text
    # A digest that takes several messages, as first rendered: each part's text and
    # the rows it shows. A part sent is confirmed at once; a retry goes on with the
    # parts whose rows are still waiting, under the same "(part i of n)" headers.
    parts: list[_Message] | None = None


@dataclass(slots=True)
class _ChatQueue:
    chat_id: int  # the subscriber: a chat, or a forum topic (a chat row of its own)
    chat_type: str
    timezone: str
    rows: deque[OutboxRow] = field(default_factory=deque)
    send_to: int | None = None  # a topic: the supergroup Telegram knows
    thread_id: int | None = None  # a topic: its message_thread_id
    language: str = "en"  # what the chat reads: messages are rendered in it
    not_before: float = 0.0  # monotonic: a retry holds the whole chat, keeping order
    # By the message: its row id, or its digest key (a digest's head changes).
    attempts: dict[int | str, _Attempt] = field(default_factory=dict)


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
        store: StoreAPI,
        bot: Bot,
        *,
        rate: float | None = 30.0,
        chat_pacing: bool = True,
        monotonic: Monotonic = time.monotonic,
        on_failure: FailureHook | None = None,
        workers: int | None = None,
        tuning: DeliveryTuning | None = None,
    ) -> None:
        self._store = store
        self._bot = bot
        self._pacer = GlobalPacer(rate, monotonic=monotonic)
        self._chat_pacer = ChatPacer(enabled=chat_pacing, monotonic=monotonic)
        self._monotonic = monotonic
        self._on_failure = on_failure
        tuning = tuning or DeliveryTuning()
        # The operator's setting (DELIVERY_CONCURRENCY) wins over the tuning default.
        self._tuning = tuning if workers is None else replace(tuning, workers=workers)
        self.counters = DeliveryCounters()

        self._queues: dict[int, _ChatQueue] = {}
        self._ready: deque[int] = deque()  # chats that may be sent to now, oldest first
        self._ready_set: set[int] = set()
        self._delayed: list[tuple[float, int]] = []  # (monotonic time, chat id) heap
        self._delayed_at: dict[int, float] = {}  # the live heap entry of each chat
        self._busy: set[int] = set()
        self._loaded_ids: set[int] = set()
        self._cursor = 0  # highest row id read; new rows always have higher ids
        self._more = True  # the database may hold rows not read yet
        self._last_look = 0.0
        # Rendered messages by (kind, statements, zone, alert): one statement goes to
        # many chats. Each part with the indexes of the statements it shows.
        self._texts: OrderedDict[_RenderKey, list[_Message]] = OrderedDict()
        self._items_version = store.items_version
        self._recovered = False
        self._wake = asyncio.Event()
        self._stop_event = asyncio.Event()
        # Sends that Telegram confirmed, not yet marked sent: they are confirmed in
        # the same statement that claims the next row (one commit per message), or
        # as soon as nothing else is ready to go.
        self._unconfirmed: list[tuple[list[int], int | None, bool]] = []
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._stop_event.clear()
            self._task = asyncio.create_task(self.run(), name="communique-delivery")

    async def stop(self) -> None:
        """Let the requests in flight finish (up to `stop_grace`); the rest stays pending.

        A send waiting for its pacing slot is abandoned without being claimed, so it
        is not counted as a possible duplicate at the next start.
        """
        self._stopping = True
        self._stop_event.set()
        self._wake.set()
        if self._task is not None:
            task, self._task = self._task, None
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def pacer(self) -> GlobalPacer:
        """The global rate every send to Telegram shares (replies too)."""
        return self._pacer

    @property
    def chat_pacer(self) -> ChatPacer:
        """Each chat's own spacing, which replies respect and record too."""
        return self._chat_pacer

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until nothing is left to send, nor waiting for a retry (tests, CLI)."""
        await asyncio.wait_for(self._wait_idle(), timeout)

    async def _wait_idle(self) -> None:
        while True:
            task = self._task
            if task is None or task.done():
                raise RuntimeError("delivery is not running")
            self._idle.clear()
            # Make the loop look at the database once more before it says "idle".
            self._store.outbox_changed.set()
            self._wake.set()
            idle = asyncio.ensure_future(self._idle.wait())
            try:
                await asyncio.wait({idle, task}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                idle.cancel()
            if task.done():
                task.result()  # raises what killed it
                raise RuntimeError("delivery stopped while waiting for it to be idle")
            if not self._busy and not self._queues:
                return

    # -------------------------------------------------------------------- loop

    async def run(self) -> None:
        running: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping:
                try:
                    await self._step(running)
                except Exception:
                    # One bad moment (a locked database, a bug) must not end delivery.
                    log.exception("delivery loop failed; trying again in %.0f s", ERROR_PAUSE)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop_event.wait(), ERROR_PAUSE)
        finally:
            await self._finish(running)

    async def _step(self, running: set[asyncio.Task[None]]) -> None:
        store = self._store
        if not self._recovered:
            recovered = await store.recover_in_flight()
            self._recovered = True
            if recovered:
                log.warning(
                    "%d message(s) were in flight at the last stop: sending again", recovered
                )
                self.counters.possible_duplicates += recovered
        if store.outbox_changed.is_set():
            store.outbox_changed.clear()
            self._more = True
        if self._more and self._wants_rows():
            await self._load()
        self._promote_delayed()
        if self._unconfirmed and not running and not self._ready:
            await self._confirm()
        while self._ready and len(running) < self._tuning.workers and not self._stopping:
            chat_id = self._ready.popleft()
            self._ready_set.discard(chat_id)
            self._busy.add(chat_id)
            task = asyncio.create_task(self._serve(chat_id))
            running.add(task)
            task.add_done_callback(running.discard)
            task.add_done_callback(lambda _t: self._wake.set())
        if not running and not self._queues and not self._more and not self._unconfirmed:
            self._idle.set()
        await self._sleep_until_needed()

    def _wants_rows(self) -> bool:
        loaded = len(self._loaded_ids)
        # A window of rows, not the whole outbox: memory stays flat over 100,000 chats.
        # When every chat in the window must wait (per-chat pacing, a retry), read
        # further so other chats are not starved behind them.
        return loaded < LOW_WATER or (not self._ready and loaded < MAX_LOADED)

    async def _sleep_until_needed(self) -> None:
        now = self._monotonic()
        if now - self._last_look >= LOOK_INTERVAL:
            # Rows queued by another process (the CLI) set no event here; and a
            # statement edited since it was rendered should be rendered afresh.
            self._last_look = now
            self._more = True
            self._texts.clear()
            if not self._queues:
                self._cursor = 0  # also finds ids SQLite reused after a deletion
        if self._wake.is_set() or self._store.outbox_changed.is_set():
            self._wake.clear()
            return
        timeout = max(0.0, self._last_look + LOOK_INTERVAL - now)
        if self._delayed:
            timeout = min(timeout, max(0.0, self._delayed[0][0] - now))
        waiters = [
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(self._store.outbox_changed.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        # Cleared after waking and before the next look at the state, so a wake-up
        # that comes while the loop works is never lost.
        self._wake.clear()

    async def _confirm(self) -> None:
        """Mark every confirmed send sent now (nothing else is about to be claimed)."""
        sent, self._unconfirmed = self._unconfirmed, []
        try:
            await self._store.confirm_and_claim(sent, [])
        except BaseException:
            self._unconfirmed = sent + self._unconfirmed
            raise

    async def _claim(self, ids: list[int]) -> list[int]:
        sent, self._unconfirmed = self._unconfirmed, []
        try:
            return await self._store.confirm_and_claim(sent, ids)
        except BaseException:
            self._unconfirmed = sent + self._unconfirmed
            raise

    async def _finish(self, running: set[asyncio.Task[None]]) -> None:
        try:
            await self._finish_sends(running)
        finally:
            if self._unconfirmed:
                await self._confirm()

    async def _finish_sends(self, running: set[asyncio.Task[None]]) -> None:
        if not running:
            return
        _, late = await asyncio.wait(set(running), timeout=self._tuning.stop_grace)
        for task in late:
            # Its result is unknown: the row stays in flight, a possible duplicate.
            task.cancel()
        if late:
            log.warning("%d send(s) still in flight at stop were abandoned", len(late))
            await asyncio.gather(*late, return_exceptions=True)

    async def _load(self) -> None:
        rows = await self._store.deliverable_outbox(BATCH, after_id=self._cursor)
        self._more = len(rows) == BATCH
        now_wall = self._store.now()
        now = self._monotonic()
        for row in rows:
            self._cursor = max(self._cursor, row.id)
            if row.id in self._loaded_ids:
                continue
            self._loaded_ids.add(row.id)
            queue = self._queues.get(row.chat_id)
            if queue is None:
                queue = _ChatQueue(
                    row.chat_id,
                    row.chat_type,
                    row.chat_timezone,
                    send_to=row.send_to,
                    thread_id=row.thread_id,
                    language=row.chat_language or self._store.default_language,
                )
                self._queues[row.chat_id] = queue
            _insert_in_order(queue.rows, row)
            if row.not_before is not None:
                # A retry time set before a restart (backoff, Telegram's pause).
                wait = (row.not_before - now_wall).total_seconds()
                if wait > 0:
                    queue.not_before = max(queue.not_before, now + wait)
            self._schedule(row.chat_id)

    def _schedule(self, chat_id: int) -> None:
        if chat_id in self._busy or chat_id in self._ready_set:
            return
        queue = self._queues.get(chat_id)
        if queue is None or not queue.rows:
            return
        # Telegram's limits are per chat: a forum's topics share their group's.
        paced = self._chat_pacer.ready_at(_telegram_id(queue), queue.chat_type)
        at = max(queue.not_before, paced)
        if at > self._monotonic():
            current = self._delayed_at.get(chat_id)
            if current is None or at < current:
                self._delayed_at[chat_id] = at
                heapq.heappush(self._delayed, (at, chat_id))
            # else: the earlier entry comes first and schedules the chat again then
            return
        self._ready.append(chat_id)
        self._ready_set.add(chat_id)

    def _promote_delayed(self) -> None:
        now = self._monotonic()
        while self._delayed and self._delayed[0][0] <= now:
            at, chat_id = heapq.heappop(self._delayed)
            if self._delayed_at.get(chat_id) != at:
                continue  # superseded by an earlier entry
            del self._delayed_at[chat_id]
            self._schedule(chat_id)

    # ------------------------------------------------------------------ sending

    async def _serve(self, chat_id: int) -> None:
        """Send the next message of one chat; then, while other chats are ready, go
        on with them here instead of through the scheduling loop, which saves a task
        and a wake-up per message. Back to the loop when rows run low, new rows
        arrive, or nothing is ready."""
        try:
            while True:
                await self._serve_one(chat_id)
                self._promote_delayed()
                if (
                    self._stopping
                    or not self._ready
                    or self._store.outbox_changed.is_set()
                    or (self._more and self._wants_rows())
                ):
                    return
                chat_id = self._ready.popleft()
                self._ready_set.discard(chat_id)
                self._busy.add(chat_id)
        finally:
            self._wake.set()

    async def _serve_one(self, chat_id: int) -> None:
        """Send the next message of one chat, then hand the chat back."""
        queue = self._queues.get(chat_id)
        try:
            if queue is not None and queue.rows:
                await self._send_next(queue)
        except Exception:
            # A database error around the send: the row stays pending; try later.
            log.exception("delivery to chat %s failed unexpectedly", chat_id)
            if queue is not None:
                queue.not_before = self._monotonic() + ERROR_PAUSE
        finally:
            self._busy.discard(chat_id)
            # After a migration the rows live under the new id and this queue is empty.
            current = self._queues.get(chat_id)
            if current is not None and not current.rows:
                del self._queues[chat_id]
            elif current is not None:
                self._schedule(chat_id)

    async def _take_batch(self, queue: _ChatQueue) -> list[OutboxRow]:
        """The next message's rows: one row, or every pending row of the same digest."""
        head = queue.rows[0]
        key = head.digest_key
        if key is None:
            return [head]
        # A digest's rows lie far apart in id order (one statement for every chat,
        # then the next), so they may not all be in the window read so far.
        known = {r.id for r in queue.rows}
        for row in await self._store.pending_digest_rows(queue.chat_id, key):
            if row.id not in known and row.id not in self._loaded_ids:
                self._loaded_ids.add(row.id)
                _insert_in_order(queue.rows, row)
        return [r for r in queue.rows if r.digest_key == key]

    def _attempt(self, queue: _ChatQueue, head: OutboxRow) -> _Attempt:
        # A digest is one message to retry even as its parts go and its head changes.
        key = head.digest_key or head.id
        attempt = queue.attempts.get(key)
        if attempt is None:
            attempt = queue.attempts[key] = _Attempt()
        return attempt

    def _drop(self, queue: _ChatQueue, rows: list[OutboxRow]) -> None:
        ids = {r.id for r in rows}
        queue.rows = deque(r for r in queue.rows if r.id not in ids)
        for row_id in ids:
            self._loaded_ids.discard(row_id)
            queue.attempts.pop(row_id, None)
        keys = {r.digest_key for r in rows if r.digest_key is not None}
        for key in keys - {r.digest_key for r in queue.rows}:
            queue.attempts.pop(key, None)

    async def _send_next(self, queue: _ChatQueue) -> None:
        """Send the chat's next message: a statement, a digest (part by part), a
        correction or a ready text; then record what Telegram answered."""
        batch = await self._take_batch(queue)
        attempt = self._attempt(queue, batch[0])
        if attempt.parts is None:
            attempt.parts = await self._render(queue, batch)
        by_id = {r.id: r for r in batch}
        # Parts whose rows are all still waiting (a part sent is confirmed and gone).
        parts = [part for part in attempt.parts if all(i in by_id for i in part.shows)]
        if not parts:
            await self._store.mark_failed(list(by_id), "nothing left to send")
            self._drop(queue, batch)
            return
        # Wait out Telegram's pause before claiming: a crash during a long pause then
        # leaves nothing wrongly counted as a possible duplicate.
        if not await self._pacer.wait_unpaused(self._stop_event):
            return
        for part in parts:
            rows = [by_id[i] for i in part.shows]
            if not await self._send_part(queue, rows, part, attempt):
                return

    async def _send_part(
        self, queue: _ChatQueue, rows: list[OutboxRow], part: _Message, attempt: _Attempt
    ) -> bool:
        """Claim, send and account for one message. False: stop sending this batch."""
        store = self._store
        chat_id = queue.chat_id
        ids = [r.id for r in rows]
        claimed = await self._claim(ids)
        if len(claimed) < len(ids):
            # Cancelled or sent elsewhere since it was read: never send it.
            gone = set(ids) - set(claimed)
            self._drop(queue, [r for r in rows if r.id in gone])
            queue.attempts.pop(rows[0].digest_key or rows[0].id, None)
            if claimed:
                # The rest is rendered again without them on the next turn.
                await store.release_in_flight(claimed)
            return False
        editing: int | None = None
        if rows[0].kind == "edit" and rows[0].edit_of is not None:
            editing = await store.sent_message(rows[0].edit_of)
            if editing is None:
                # The message to correct failed or was cancelled: nothing to edit.
                await store.mark_cancelled(ids, "the message to correct was not sent")
                self._drop(queue, rows)
                return False
        if not await self._pacer.acquire(self._stop_event):
            # Stopping before this request started: nothing is in doubt.
            await store.release_in_flight(ids)
            return False
        self._chat_pacer.record(_telegram_id(queue), queue.chat_type)
        answer: Exception | None = None
        message_id: int | None = None
        try:
            message_id = await self._send(
                _telegram_id(queue),
                part.text,
                # A channel's readers would post its full texts into the channel.
                markup=part.markup if queue.chat_type != "channel" else None,
                plain=attempt.plain,
                editing=editing,
                thread_id=queue.thread_id,
            )
        except Exception as exc:  # every answer is decided on below, bugs included
            answer = exc
        so_far = SoFar(errors=attempt.errors, timeouts=attempt.timeouts, plain=attempt.plain)
        action = decide(answer, so_far, self._tuning)
        if isinstance(action, Sent):
            self._unconfirmed.append((ids, message_id or editing, attempt.timeouts > 0))
            self.counters.sent += 1
            self._drop(queue, rows)
            return True
        if answer is not None and not isinstance(answer, TelegramError):
            log.error("chat %s: unexpected error while sending", chat_id, exc_info=answer)
        await self._carry_out(action, queue, rows, attempt)
        return False

    async def _carry_out(
        self, action: Setback, queue: _ChatQueue, batch: list[OutboxRow], attempt: _Attempt
    ) -> None:
        """Do what the policy decided about a send that did not simply succeed."""
        store = self._store
        ids = [r.id for r in batch]
        chat_id = queue.chat_id
        if isinstance(action, PauseAll):
            log.warning("Telegram asked to slow down: pausing all sends for %.0f s", action.seconds)
            self.counters.rate_limited += 1
            self._pacer.pause(action.seconds)
            await store.mark_retry(
                ids, redact(action.error), store.now() + timedelta(seconds=action.seconds)
            )
        elif isinstance(action, Migrate):
            log.info("chat %s moved to %s", chat_id, action.new_chat_id)
            await store.migrate_chat(chat_id, action.new_chat_id)
            self.counters.migrated += 1
            await store.mark_retry(ids, "chat migrated", store.now())
            self._move_queue(queue, action.new_chat_id)
        elif isinstance(action, Deactivate):
            await self._deactivate(queue, action.reason)
        elif isinstance(action, Drop):
            log.info("chat %s: %s; nothing to send", chat_id, action.reason)
            await store.mark_cancelled(ids, action.reason)
            self._drop(queue, batch)
        elif isinstance(action, ResendPlain):
            log.warning(
                "chat %s: Telegram could not parse a message; resending as plain text", chat_id
            )
            attempt.plain = True
            await store.mark_retry(ids, redact(action.error), store.now())
        else:
            if action.possible_duplicate:
                attempt.timeouts += 1
                await store.mark_possible_duplicate(ids)
                self.counters.possible_duplicates += 1
            if isinstance(action, Fail):
                await self._fail(queue, batch, action.error)
                return
            # Kept in the database and shown in /stats: no secret an error echoed stays in it.
            error = redact(action.error)
            if action.counts:
                attempt.errors += 1
                self.counters.retried += 1
                log.warning(
                    "chat %s: send failed (%s); retrying in %.2f s", chat_id, error, action.after
                )
            else:
                log.warning("chat %s: no answer in time; sending once more", chat_id)
            await store.mark_retry(ids, error, store.now() + timedelta(seconds=action.after))
            queue.not_before = self._monotonic() + action.after

    async def _send(
        self,
        chat_id: int,
        text: str,
        *,
        markup: InlineKeyboardMarkup | None,
        plain: bool,
        editing: int | None,
        thread_id: int | None,
    ) -> int | None:
        """Send `text` with `markup` (or, `editing` a message id, put both in that
        message's place); returns Telegram's message id."""
        body = telegram_html_to_plain(text) if plain else text
        mode = None if plain else ParseMode.HTML
        preview = LinkPreviewOptions(is_disabled=True)
        if editing is not None:
            await self._bot.edit_message_text(
                body, chat_id=chat_id, message_id=editing, parse_mode=mode,
                link_preview_options=preview, reply_markup=markup,
            )  # fmt: skip
            return editing
        message = await self._bot.send_message(
            chat_id,
            body,
            parse_mode=mode,
            link_preview_options=preview,
            message_thread_id=thread_id,
            reply_markup=markup,
        )
        return message.message_id

    async def _render(self, queue: _ChatQueue, batch: list[OutboxRow]) -> list[_Message]:
        """The messages for these rows, each with the row ids it accounts for."""
        head = batch[0]
        if head.kind not in ("item", "edit"):
            return [_Message(head.text, [head.id])] if head.text else []
        if self._items_version != self._store.items_version:
            # A statement's text changed in this process: what was rendered may be stale.
            self._items_version = self._store.items_version
            self._texts.clear()
        rows = [r for r in batch if r.item_id is not None]
        kind = "edit" if head.kind == "edit" else ("day" if _is_day_digest(head) else "item")
        alerts = tuple(r.alert_query for r in rows)
        ids = tuple(r.item_id or 0 for r in rows)
        key: _RenderKey = (kind, ids, queue.timezone, alerts, queue.language)
        cached = self._texts.get(key)
        if cached is None:
            cached = await self._render_items(key)
            self._texts[key] = cached
            if len(self._texts) > RENDER_CACHE:
                self._texts.popitem(last=False)
        else:
            self._texts.move_to_end(key)
        return [m._replace(shows=[rows[i].id for i in m.shows]) for m in cached]

    async def _render_items(self, key: _RenderKey) -> list[_Message]:
        kind, ids, zone, alerts, language = key
        found = await self._store.items_by_ids(ids)
        # A statement no longer stored is left out; the rest still go.
        present = [i for i, item_id in enumerate(ids) if item_id in found]
        if not present:
            return []
        items: list[Item] = [found[ids[i]] for i in present]
        tz = zone_or_utc(zone)
        if kind == "day":
            parts = render_day_digest(
                items, tz, alerts=[alerts[i] for i in present], language=language
            )
        elif len(items) == 1:
            # One statement: its "Full text" button, or, when its source gave no more
            # than the summary, a note saying so. Digests list many statements and
            # carry no buttons: each title links the statement, and /latest or
            # /search shows it with its button.
            item = items[0]
            more = has_full_text(item)
            only = render_item(
                item,
                tz,
                alert=alerts[present[0]],
                updated=kind == "edit",
                summary_only=not more,
                language=language,
            )
            markup = full_text_markup(item.id, language) if more else None
            return [_Message(only, present, markup)]
        else:
            parts = render_digest_parts(items, items[0].feed_title, tz, language=language)
        return [_Message(part.text, [present[i] for i in part.shows]) for part in parts]

    async def _fail(self, queue: _ChatQueue, batch: list[OutboxRow], error: str) -> None:
        error = redact(error)
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
        moved = [replace(r, chat_id=new_id, chat_type="supergroup") for r in queue.rows]
        target = self._queues.get(new_id)
        if target is None:
            target = _ChatQueue(new_id, "supergroup", queue.timezone, language=queue.language)
            self._queues[new_id] = target
        target.rows = deque(sorted([*target.rows, *moved], key=lambda r: r.id))
        target.attempts.update(queue.attempts)
        queue.rows = deque()
        queue.attempts = {}
        self._schedule(new_id)


# (kind: 'item', 'edit' or 'day'; statement ids; chat's zone; alert per statement;
# the chat's language)
_RenderKey = tuple[str, tuple[int, ...], str, tuple[str | None, ...], str]


def _telegram_id(queue: _ChatQueue) -> int:
    """The chat Telegram knows: the supergroup of a forum topic, else the chat itself."""
    return queue.chat_id if queue.send_to is None else queue.send_to


def _is_day_digest(row: OutboxRow) -> bool:
    """The statements a chat in digest mode gets once a day (storage's release)."""
    return row.digest_key is not None and row.digest_key.startswith("day:")


def _insert_in_order(rows: deque[OutboxRow], row: OutboxRow) -> None:
    """Rows arrive almost always in id order; the rare late one is put in its place."""
    if not rows or rows[-1].id < row.id:
        rows.append(row)
        return
    index = len(rows)
    while index > 0 and rows[index - 1].id > row.id:
        index -= 1
    rows.insert(index, row)

"""The one store API: what the bot and the jobs may ask of the store, whichever
backend holds the data (`storage.store.Store` on SQLite, `storage.postgres.store.
PgStore` on PostgreSQL). `open_store` picks the backend from the settings.

Code outside storage/ types its store as `StoreAPI` and so cannot come to rely on
one backend; mypy checks that both classes satisfy it (the assignments at the end
of this module), and tests/storage runs the same contract tests on both. A method
added to one backend is added here and to the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from storage._chats import Channel
from storage._feeds import FailureOutcome, FeedStatus
from storage._items import PollOutcome
from storage._stats import Stats
from storage._summaries import StoredSummary, SummaryChange
from storage.models import (
    Alert,
    Chat,
    Counter,
    Detection,
    Feed,
    FeedKind,
    Filter,
    Item,
    NewFeed,
    NewItem,
    OutboxRow,
    SearchHit,
)

__all__ = ["StoreAPI", "open_store"]


class StoreAPI(Protocol):
    """Every read and write of the bot's state (see each backend for the how)."""

    # Woken whenever rows are queued in this process, so delivery need not poll.
    outbox_changed: asyncio.Event
    # Counts changes to stored statements' texts, so a renderer's cache can tell.
    items_version: int
    default_timezone: str
    default_daily_time: time
    default_language: str

    async def add_alert(self, chat_id: int, query: str, canonical: str) -> Alert:
        """Save an alert; `canonical` is the parsed query written out, so the same search
        typed differently is refused as a duplicate."""
        ...

    async def add_channel(
        self, chat_id: int, title: str, username: str | None, added_by: int
    ) -> Chat:
        """Record a channel as a subscriber (active again if it was removed)."""
        ...

    async def add_counter(
        self, start_date: date, timezone: str, template: str, language: str = "en"
    ) -> Counter:
        """A counter; `language` is the one `template` is written in."""
        ...

    async def add_feed(
        self,
        url: str,
        title: str | None = None,
        *,
        kind: FeedKind = "feed",
        selectors: str | None = None,
    ) -> Feed:
        """Add a source (a feed, or a web page read as a list); one removed earlier comes
        back with its statements, as the kind given now."""
        ...

    async def add_feeds(
        self, feeds: Sequence[NewFeed | tuple[str, str | None]]
    ) -> tuple[list[Feed], list[tuple[str, int]]]:
        """Add many sources (NewFeed, or (url, title) for a feed) in one transaction, as
        `add_feed` adds one."""
        ...

    async def chat_alerts(self, chat_id: int) -> list[Alert]: ...

    async def chat_filters(self, chat_id: int) -> dict[int, Filter]:
        """The chat's filters by feed id."""
        ...

    async def close(self) -> None: ...

    async def confirm_and_claim(
        self, sent: Sequence[tuple[Sequence[int], int | None, bool]], claim: Sequence[int]
    ) -> list[int]:
        """Mark the rows of finished sends sent and claim the next rows, in one statement
        (one commit, one trip to SQLite's thread)."""
        ...

    async def count_items(self) -> int: ...

    async def count_items_after(self, after_id: int) -> int:
        """How many statements have an id above `after_id` (what is left to do)."""
        ...

    async def daily_groups(self) -> list[tuple[str, time, int, int]]:
        """(zone, daily time, chats, of those in digest mode) for every active chat that
        gets something daily: the daily message (subscribed, daily on) or its digest
        (digest mode), grouped so one tick costs a query per distinct setting, not per
        chat."""
        ...

    async def daily_sent(self, chat_id: int, local_date: date) -> bool: ...

    async def deactivate_chat(self, chat_id: int, reason: str) -> int:
        """Stop sending to a chat (and a forum's topics with it); pending rows are
        cancelled (kept) with the reason. Returns how many."""
        ...

    async def deliverable_outbox(self, limit: int = 1000, *, after_id: int = 0) -> list[OutboxRow]:
        """Pending rows with id > after_id, oldest first, including rows waiting for a
        retry (`not_before` says until when): delivery keeps each chat in order."""
        ...

    async def due_feeds(self, now: datetime, limit: int = 10000) -> list[Feed]: ...

    async def enqueue_daily(
        self, due: Sequence[tuple[str, time, date]], texts: Mapping[str, str]
    ) -> int:
        """Queue the daily message, in each chat's language (`texts` by language; a
        language without a text gets the default language's), for every eligible chat
        whose (zone, daily time) is in `due` and that has no record yet for that group's
        local date. Returns how many."""
        ...

    async def enqueue_text(self, chat_id: int, text: str, kind: str = "daily") -> int: ...

    async def feed_by_url(self, url: str) -> Feed | None: ...

    async def feed_item_count(self, feed_id: int) -> int: ...

    async def feed_statuses(self) -> list[FeedStatus]:
        """Every feed with its counts, in id order, in one query."""
        ...

    async def find_channel(self, ref: int | str) -> Channel | None:
        """A channel by chat id, or by @name (with or without the @)."""
        ...

    async def find_chat(self, chat_id: int) -> Chat | None: ...

    async def get_chat(self, chat_id: int) -> Chat: ...

    async def get_feed(self, feed_id: int) -> Feed: ...

    async def get_filter(self, chat_id: int, feed_id: int) -> Filter | None: ...

    async def get_item(self, item_id: int) -> Item | None: ...

    async def integrity_check(self) -> str: ...

    async def items_by_ids(self, ids: Iterable[int]) -> dict[int, Item]: ...

    async def latest_items(
        self, limit: int, *, offset: int = 0, feed_id: int | None = None
    ) -> list[Item]: ...

    async def list_channels(self) -> list[Channel]: ...

    async def list_counters(self) -> list[Counter]: ...

    async def list_feeds(self) -> list[Feed]: ...

    async def mark_cancelled(self, row_ids: Sequence[int], reason: str) -> None:
        """Nothing to send any more (a correction whose message is gone); not a failure."""
        ...

    async def mark_failed(self, row_ids: Sequence[int], error: str) -> None: ...

    async def mark_in_flight(self, row_ids: Sequence[int]) -> list[int]:
        """Committed before a send: a crash after this leaves a possible duplicate."""
        ...

    async def mark_possible_duplicate(self, row_ids: Sequence[int]) -> None: ...

    async def mark_retry(
        self, row_ids: Sequence[int], error: str, not_before: datetime
    ) -> None: ...

    async def mark_sent(
        self, row_ids: Sequence[int], message_id: int | None, *, possible_duplicate: bool = False
    ) -> None: ...

    async def matcher_version(self) -> int:
        """Changes whenever any filter or alert changes, in any process."""
        ...

    async def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Group → supergroup: subscriptions, settings and pending rows move to new_id."""
        ...

    def now(self) -> datetime: ...

    async def outbox_rows_for_chat(self, chat_id: int) -> list[OutboxRow]: ...

    async def pending_digest_rows(self, chat_id: int, digest_key: str) -> list[OutboxRow]:
        """Every pending row of one chat's digest, oldest first."""
        ...

    async def pending_outbox(
        self, limit: int = 1000, *, after_id: int = 0, now: datetime | None = None
    ) -> list[OutboxRow]:
        """Pending rows with id > after_id, oldest first, skipping rows waiting for a
        retry."""
        ...

    async def record_failure(
        self, feed_id: int, error: str, *, next_poll_at: datetime, pause: bool = False
    ) -> FailureOutcome:
        """Count a failed poll; the feed is never disabled (except a 410, `pause`)."""
        ...

    async def record_not_modified(
        self,
        feed_id: int,
        *,
        etag: str | None,
        last_modified: str | None,
        next_poll_at: datetime,
        url: str | None = None,
    ) -> bool:
        """A 304 or an identical body. Returns True when a failing feed recovered."""
        ...

    async def record_poll(
        self,
        feed_id: int,
        entries: Sequence[NewItem],
        *,
        feed_title: str | None,
        etag: str | None,
        last_modified: str | None,
        content_hash: str | None,
        next_poll_at: datetime,
        url: str | None = None,
        push: bool = True,
        ttl_seconds: int | None = None,
        language: str | None = None,
        detection: Detection | None = None,
    ) -> PollOutcome:
        """Store a successful poll in one transaction: new statements, updated texts,
        outbox rows for every active subscriber, validators, the feed's <ttl>
        (`ttl_seconds`, None when it has none) and the next poll time; the source's
        `language` and, for a page, what reading it found (`detection`), when given."""
        ...

    async def recover_in_flight(self) -> int:
        """At start: rows whose send began before a crash may have arrived. They stay
        pending (they may not have arrived either) and are counted as possible
        duplicates."""
        ...

    async def release_digests(self, due: Sequence[tuple[str, time, date]]) -> int:
        """Send the day's digest to every chat in digest mode whose (zone, daily time) is
        in `due`: the statements held for it become one digest message, queued now, so
        it goes out just before the daily message queued after it. Once per local date
        (a record), however often the tick comes. Returns the statements released."""
        ...

    async def release_in_flight(self, row_ids: Sequence[int]) -> None:
        """The send was never started (delivery stopped first): not a possible duplicate."""
        ...

    async def remove_alert(self, chat_id: int, alert_id: int) -> Alert:
        """Remove one of the chat's alerts (another chat's id is "not found")."""
        ...

    async def remove_channel(self, chat_id: int) -> int:
        """Forget a channel: its subscriptions go, queued messages are cancelled, the chat
        stays (inactive) so delivery history and /stats still explain it. Returns how
        many subscriptions it had."""
        ...

    async def remove_counter(self, counter_id: int) -> None: ...

    async def remove_feed(self, feed_id: int) -> None:
        """Stop polling and forget subscriptions; its statements stay searchable."""
        ...

    async def remove_filter(self, chat_id: int, feed_id: int) -> bool:
        """True when there was a filter to remove."""
        ...

    async def replace_summaries(self, changes: Sequence[SummaryChange]) -> int:
        """Write new summaries, with their stems, in one transaction; returns how many were
        written. A summary that is no longer the one read (a poll stored an edit of the
        statement meanwhile) is left as the poll wrote it."""
        ...

    async def saved_searches(self) -> tuple[list[Filter], list[Alert]]:
        """Every filter and alert of an active chat, to build the matcher from."""
        ...

    async def schema_version(self) -> int: ...

    async def search(
        self, query: str, *, limit: int = 5, offset: int = 0, marks: tuple[str, str] = ("", "")
    ) -> list[SearchHit]:
        """Best matches first (bm25, title weighted above the text), with snippets in which
        each matched word stands, as written, between `marks` (the renderer's markers).
        Words match any of their forms, "phrases" and prefix* the forms as written, and
        -terms exclude (storage/query.py)."""
        ...

    async def search_count(self, query: str, *, cap: int = 1000) -> int:
        """How many statements match `query`, counting no further than `cap`."""
        ...

    async def sent_message(self, row_id: int) -> int | None:
        """Telegram's id of the message a row was sent as; None when it was not sent."""
        ...

    async def set_counter_text(self, counter_id: int, language: str, template: str) -> Counter:
        """The counter's text in `language` (replacing one it had)."""
        ...

    async def set_feed_paused(self, feed_id: int, paused: bool) -> Feed: ...

    async def set_feed_url(self, feed_id: int, url: str) -> Feed:
        """A source never polled successfully turned out to be a page that names its feed
        (an OPML outline of a site's home page): poll the feed instead. Raises
        FeedExistsError when another source (even a removed one) has that URL."""
        ...

    async def set_filter(self, chat_id: int, feed_id: int, query: str) -> Filter:
        """Set (or replace) the chat's filter on a feed it follows."""
        ...

    async def set_page_source(self, feed_id: int) -> Feed:
        """A source added as a feed turned out to be a web page with a list of statements
        and no feed: from now on it is read as a page."""
        ...

    async def stats(self) -> Stats: ...

    async def stored_identities(self, feed_id: int, identities: Sequence[str]) -> set[str]:
        """Those of `identities` already stored for the feed: a page source fetches the own
        page of the others only (they are new)."""
        ...

    async def subscribe(self, chat_id: int, feed_ids: Iterable[int]) -> list[int]:
        """Subscribe to feeds; returns the ids newly subscribed."""
        ...

    async def subscriptions(self, chat_id: int) -> set[int]: ...

    async def summaries_after(self, after_id: int, limit: int) -> list[StoredSummary]:
        """The next `limit` statements with an id above `after_id`, in id order."""
        ...

    async def topic_chat(self, parent_id: int, thread_id: int, title: str) -> Chat:
        """The subscriber a forum topic is: its own chat row, made on first use, with an id
        below -2^60 (no Telegram id is that low) and its own settings."""
        ...

    async def touch_chat(
        self, chat_id: int, chat_type: str, title: str, language: str | None = None
    ) -> Chat:
        """Like upsert_chat, but a read-only command does not reactivate a chat."""
        ...

    async def unsubscribe(self, chat_id: int, feed_ids: Iterable[int]) -> list[int]: ...

    async def update_chat_settings(
        self,
        chat_id: int,
        *,
        timezone: str | None = None,
        daily_time: time | None = None,
        daily_enabled: bool | None = None,
        pushes: str | None = None,
        language: str | None = None,
    ) -> Chat:
        """Change what is given; `pushes` is 'instant' or 'digest'. Back to instant, the
        statements held for today's digest go at once, as one digest."""
        ...

    async def upsert_chat(
        self, chat_id: int, chat_type: str, title: str, language: str | None = None
    ) -> tuple[Chat, bool]:
        """Record a chat we heard from; a chat that was inactive becomes active again.
        `language`: the interface language it starts in (kept once it has one)."""
        ...

    async def backup_to(self, target: str | Path) -> None:
        """A consistent copy of the database (SQLite only; PostgreSQL refuses)."""
        ...


async def open_store(
    *,
    path: str | Path,
    url: str | None = None,
    clock: Callable[[], datetime] | None = None,
    default_timezone: str = "Europe/London",
    default_daily_time: time = time(9, 0),
    default_language: str = "en",
    migrate: bool = True,
) -> StoreAPI:
    """The store the settings name: PostgreSQL at `url` when given, else SQLite at
    `path`. Raises StorageError (never showing a password) when it cannot be used."""
    options = {
        "default_timezone": default_timezone,
        "default_daily_time": default_daily_time,
        "default_language": default_language,
        "migrate": migrate,
    }
    if url is not None:
        from storage.postgres import require_driver

        require_driver()
        from storage.postgres.store import PgStore

        if clock is not None:
            return await PgStore.open(url, clock=clock, **options)  # type: ignore[arg-type]
        return await PgStore.open(url, **options)  # type: ignore[arg-type]
    from storage.store import Store

    if clock is not None:
        return await Store.open(path, clock=clock, **options)  # type: ignore[arg-type]
    return await Store.open(path, **options)  # type: ignore[arg-type]


if TYPE_CHECKING:
    from storage.postgres.store import PgStore
    from storage.store import Store

    def _both_backends_conform(sqlite: Store, postgres: PgStore) -> list[StoreAPI]:
        return [sqlite, postgres]

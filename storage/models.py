"""Plain dataclasses for what the store holds; every layer passes these around."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

# What a source is: a feed (RSS, Atom, JSON Feed), or a web page read as a list.
FeedKind = Literal["feed", "page"]


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    url: str
    title: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    next_poll_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    paused: bool
    failure_alerted: bool
    created_at: datetime
    ttl_seconds: int | None = None  # the feed's own <ttl>, from its last parsed body
    kind: FeedKind = "feed"
    selectors: str | None = None  # a page: the admin's selectors, as /addpage words
    language: str | None = None  # the source's own language tag ("en-GB"), if it says
    detected_signature: str | None = None  # a page: where its list was last found
    detected_items: int | None = None  # a page: how many statements that list held

    @property
    def is_page(self) -> bool:
        return self.kind == "page"


@dataclass(frozen=True, slots=True)
class NewFeed:
    """A source to add (OPML import adds many at once)."""

    url: str
    title: str | None = None
    kind: FeedKind = "feed"
    selectors: str | None = None


@dataclass(frozen=True, slots=True)
class Detection:
    """What reading a page found: where its list is, and how many statements it held."""

    signature: str
    items: int


@dataclass(frozen=True, slots=True)
class NewItem:
    """One parsed entry, ready to store (what `jobs.parse` yields)."""

    identity: str
    guid: str | None
    link: str | None
    title: str
    summary: str
    content: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    feed_id: int
    identity: str
    guid: str | None
    link: str | None
    title: str
    summary: str
    content: str
    published_at: datetime
    first_seen_at: datetime
    updated_at: datetime
    feed_title: str = ""


@dataclass(frozen=True, slots=True)
class Chat:
    id: int
    type: str
    title: str
    timezone: str
    daily_time: time
    daily_enabled: bool
    active: bool
    inactive_reason: str | None
    pushes: str = "instant"  # or "digest": the day's statements in one message a day
    language: str = "en"  # the interface language the chat reads
    parent_id: int | None = None  # a forum topic: the supergroup it is in
    thread_id: int | None = None  # a forum topic: its message_thread_id

    @property
    def telegram_id(self) -> int:
        """Where Telegram knows it: the supergroup, for a topic."""
        return self.id if self.parent_id is None else self.parent_id


@dataclass(frozen=True, slots=True)
class Counter:
    id: int
    start_date: date
    timezone: str
    template: str
    position: int
    language: str = "en"  # the language `template` is written in
    texts: Mapping[str, str] = field(default_factory=dict)  # its text in other languages


@dataclass(frozen=True, slots=True)
class SearchHit:
    item: Item
    snippet: str


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One message to send: a statement (item_id set) or a ready text (daily message)."""

    id: int
    chat_id: int
    kind: str  # 'item' (a statement), 'daily', 'alert' (to admins) or 'edit' (a correction)
    item_id: int | None
    text: str | None
    digest_key: str | None
    state: str  # 'pending', 'held' (for a daily digest), 'sent', 'failed', 'cancelled'
    attempts: int
    created_at: datetime
    chat_type: str = "private"
    chat_timezone: str = "UTC"
    chat_language: str | None = None  # the chat's interface language; None: the default
    send_to: int | None = None  # the Telegram chat, when not `chat_id` (a forum topic)
    thread_id: int | None = None  # a forum topic's message_thread_id
    possible_duplicate: bool = False
    not_before: datetime | None = None  # a retry waits until then (kept over restarts)
    alert_query: str | None = None  # the saved search that brought the statement, if any
    edit_of: int | None = None  # kind 'edit': the row whose sent message it corrects


@dataclass(frozen=True, slots=True)
class Alert:
    """A saved search: new statements from any feed that match go to the chat."""

    id: int
    chat_id: int
    query: str


@dataclass(frozen=True, slots=True)
class Filter:
    """A chat gets only the statements of a feed it follows that match the query."""

    id: int
    chat_id: int
    feed_id: int
    query: str

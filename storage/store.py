"""The one store: every read and write of the bot's state goes through `Store`.

SQLite through aiosqlite, one connection per process, in autocommit mode with
explicit `BEGIN IMMEDIATE` transactions for every write. Deduplication is the
database's job: unique keys decide what is new.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from storage.errors import (
    ChatNotFoundError,
    CounterNotFoundError,
    DatabaseCorruptError,
    DatabaseLockedError,
    DatabaseTooNewError,
    FeedExistsError,
    FeedNotFoundError,
    StorageError,
)
from storage.models import Chat, Counter, Feed, Item, NewItem, OutboxRow, SearchHit
from storage.schema import LATEST_VERSION, MIGRATIONS
from storage.search import build_match_query

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# An item more than this much older than the newest one already stored for its
# feed is an old statement sliding back in, not news.
STALE_AFTER = timedelta(days=7)
# More new statements than this from one feed in one poll go as one digest per chat.
DIGEST_THRESHOLD = 5
# A search ranks at most this many of the most recent matching statements.
SEARCH_WINDOW = 2000
# SQLite limits host parameters per statement; stay well below.
_CHUNK = 500
# A feed follows a permanent redirect unless another feed (even a removed one,
# whose row keeps its URL) already has the new URL: then it keeps its own.
_MOVED_URL = (
    "CASE WHEN :url IS NULL OR EXISTS"
    " (SELECT 1 FROM feeds other WHERE other.url = :url AND other.id != :id)"
    " THEN url ELSE :url END"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(value: datetime) -> float:
    return value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _dt_required(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What storing one successful poll did."""

    new_items: list[Item]  # stored for the first time, in publication order
    pushed_items: list[Item]  # of those, the ones queued for subscribers
    outbox_rows: int  # rows queued
    recovered: bool  # the feed was failing and admins had been told
    backlog: bool  # the feed's first successful poll: stored, nothing pushed


@dataclass(frozen=True, slots=True)
class FailureOutcome:
    consecutive_failures: int
    should_alert: bool  # crossed the alert threshold just now


@dataclass(frozen=True, slots=True)
class Stats:
    chats_active: int
    chats_inactive: dict[str, int]
    subscriptions: int
    feeds: int
    items: int
    sent_24h: int
    failed_24h: int
    duplicates_24h: int
    pending: int
    oldest_pending_at: datetime | None


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel an admin made a subscriber; its settings live in its chat row."""

    chat: Chat
    username: str | None
    feed_ids: frozenset[int]


FAILURE_ALERT_THRESHOLD = 3


class Store:
    """All of Communique's state, in one SQLite file."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        clock: Clock = utcnow,
        default_timezone: str = "Europe/London",
        default_daily_time: time = time(9, 0),
    ) -> None:
        self._conn = conn
        self._clock = clock
        self._lock = asyncio.Lock()
        self.default_timezone = default_timezone
        self.default_daily_time = default_daily_time
        # Woken whenever rows are queued, so the delivery task need not poll.
        self.outbox_changed = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        clock: Clock = utcnow,
        default_timezone: str = "Europe/London",
        default_daily_time: time = time(9, 0),
        migrate: bool = True,
    ) -> Store:
        """Open (creating if needed) the database and bring its schema up to date."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA busy_timeout = 10000")
            await conn.execute("PRAGMA foreign_keys = ON")
            version = await _user_version(conn)
            if version > LATEST_VERSION:
                raise DatabaseTooNewError(version, LATEST_VERSION)
            await _use_wal(conn)
            await conn.execute("PRAGMA synchronous = NORMAL")
            if migrate:
                await apply_migrations(conn)
        except sqlite3.DatabaseError as exc:
            await conn.close()
            if isinstance(exc, sqlite3.OperationalError) and "database is locked" in str(exc):
                # Another process (a sqlite3 shell, a script) holds a transaction open.
                raise DatabaseLockedError(
                    f"the database {path} is locked by another process (a sqlite3 shell or"
                    " a script holding a transaction); it was left as it is, end that"
                    " transaction and start again"
                ) from exc
            raise DatabaseCorruptError(
                f"cannot use the database {path}: it is damaged or not a Communique"
                f" database (SQLite says: {exc}); it was left as it is, restore a backup"
                " or set DATABASE_PATH to another file"
            ) from exc
        except BaseException:
            await conn.close()
            raise
        return cls(
            conn,
            clock=clock,
            default_timezone=default_timezone,
            default_daily_time=default_daily_time,
        )

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    async def schema_version(self) -> int:
        return await _user_version(self._conn)

    async def integrity_check(self) -> str:
        row = await self._fetchone("PRAGMA integrity_check")
        return str(row[0]) if row else "no answer"

    async def backup_to(self, target: str | Path) -> None:
        """A consistent copy through SQLite's online backup, safe while the bot runs.

        The copy is one self-contained file (no -wal beside it), written under a
        temporary name and renamed when complete: an interrupted backup never leaves
        a half-written file under the target's name.
        """
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        dest = await aiosqlite.connect(str(partial), isolation_level=None)
        try:
            # The lock keeps out this connection's own half-done transactions, which
            # the copy would otherwise see; all pages go in one step, so the copy is
            # one point in time even while other connections write.
            async with self._lock:
                await self._conn.backup(dest)
            await dest.execute("PRAGMA journal_mode = DELETE")
        except BaseException:
            await dest.close()
            partial.unlink(missing_ok=True)
            raise
        await dest.close()
        os.replace(partial, target)

    def now(self) -> datetime:
        return self._clock()

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One `BEGIN IMMEDIATE` transaction; the lock keeps other tasks' statements out."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")

    # Reads run statement and fetch in one call on the connection's thread. A cursor
    # left open across an await holds a read transaction; another task's
    # `BEGIN IMMEDIATE` on this connection would then fail at once with "database is
    # locked" whenever another connection writes, without waiting the busy timeout.

    async def _fetchone(self, sql: str, params: Any = ()) -> aiosqlite.Row | None:
        rows = await self._conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def _fetchall(self, sql: str, params: Any = ()) -> list[aiosqlite.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    # ---------------------------------------------------------------------- feeds

    async def add_feed(self, url: str, title: str | None = None) -> Feed:
        """Add a feed; a feed removed earlier comes back with its statements."""
        now = _ts(self.now())
        async with self._write() as db:
            async with db.execute(
                "SELECT id, removed FROM feeds WHERE url = :url", {"url": url}
            ) as cur:
                row = await cur.fetchone()
            if row is not None and not row["removed"]:
                raise FeedExistsError(url, int(row["id"]))
            if row is not None:
                feed_id = int(row["id"])
                await db.execute(
                    "UPDATE feeds SET removed = 0, paused = 0, next_poll_at = NULL,"
                    " title = COALESCE(:title, title), title_locked = :locked WHERE id = :id",
                    {"id": feed_id, "title": title, "locked": int(title is not None)},
                )
            else:
                async with db.execute(
                    "INSERT INTO feeds (url, title, title_locked, created_at)"
                    " VALUES (:url, :title, :locked, :now) RETURNING id",
                    {
                        "url": url,
                        "title": title or "",
                        "locked": int(title is not None),
                        "now": now,
                    },
                ) as cur:
                    inserted = await cur.fetchone()
                    assert inserted is not None
                    feed_id = int(inserted[0])
        return await self.get_feed(feed_id)

    async def get_feed(self, feed_id: int) -> Feed:
        row = await self._fetchone(
            "SELECT * FROM feeds WHERE id = :id AND removed = 0", {"id": feed_id}
        )
        if row is None:
            raise FeedNotFoundError(feed_id)
        return _feed(row)

    async def feed_by_url(self, url: str) -> Feed | None:
        row = await self._fetchone(
            "SELECT * FROM feeds WHERE url = :url AND removed = 0", {"url": url}
        )
        return None if row is None else _feed(row)

    async def list_feeds(self) -> list[Feed]:
        rows = await self._fetchall("SELECT * FROM feeds WHERE removed = 0 ORDER BY id")
        return [_feed(r) for r in rows]

    async def due_feeds(self, now: datetime, limit: int = 10_000) -> list[Feed]:
        rows = await self._fetchall(
            "SELECT * FROM feeds WHERE removed = 0 AND paused = 0"
            " AND (next_poll_at IS NULL OR next_poll_at <= :now)"
            " ORDER BY COALESCE(next_poll_at, 0), id LIMIT :limit",
            {"now": _ts(now), "limit": limit},
        )
        return [_feed(r) for r in rows]

    async def next_poll_due(self) -> datetime | None:
        row = await self._fetchone(
            "SELECT MIN(COALESCE(next_poll_at, 0)) FROM feeds WHERE removed = 0 AND paused = 0"
        )
        return None if row is None or row[0] is None else _dt(row[0])

    async def remove_feed(self, feed_id: int) -> None:
        """Stop polling and forget subscriptions; its statements stay searchable."""
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE feeds SET removed = 1 WHERE id = :id AND removed = 0", {"id": feed_id}
            )
            if cur.rowcount == 0:
                raise FeedNotFoundError(feed_id)
            await db.execute("DELETE FROM subscriptions WHERE feed_id = :id", {"id": feed_id})

    async def set_feed_paused(self, feed_id: int, paused: bool) -> Feed:
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE feeds SET paused = :p, next_poll_at = CASE WHEN :p THEN next_poll_at"
                " ELSE NULL END WHERE id = :id AND removed = 0",
                {"id": feed_id, "p": int(paused)},
            )
            if cur.rowcount == 0:
                raise FeedNotFoundError(feed_id)
        return await self.get_feed(feed_id)

    async def schedule_feed(self, feed_id: int, when: datetime | None) -> None:
        async with self._write() as db:
            await db.execute(
                "UPDATE feeds SET next_poll_at = :t WHERE id = :id",
                {"id": feed_id, "t": None if when is None else _ts(when)},
            )

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
        now = _ts(self.now())
        async with self._write() as db:
            recovered = await self._mark_success(db, feed_id, now)
            await db.execute(
                "UPDATE feeds SET etag = COALESCE(:etag, etag),"
                " last_modified = COALESCE(:lm, last_modified),"
                f" next_poll_at = :next, url = {_MOVED_URL} WHERE id = :id",
                {
                    "id": feed_id,
                    "etag": etag,
                    "lm": last_modified,
                    "next": _ts(next_poll_at),
                    "url": url,
                },
            )
        return recovered

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
    ) -> PollOutcome:
        """Store a successful poll in one transaction: new statements, updated texts,
        outbox rows for every active subscriber, validators and the next poll time.

        Only statements whose identity is new are pushed, and not on the feed's first
        successful poll (its backlog), nor when more than `STALE_AFTER` older than the
        newest statement already stored for the feed. `push=False` stores silently.
        """
        now_dt = self.now()
        now = _ts(now_dt)
        async with self._write() as db:
            async with db.execute(
                "SELECT last_success_at, title_locked FROM feeds WHERE id = :id AND removed = 0",
                {"id": feed_id},
            ) as cur:
                feed_row = await cur.fetchone()
            if feed_row is None:
                raise FeedNotFoundError(feed_id)
            backlog = feed_row["last_success_at"] is None
            async with db.execute(
                "SELECT MAX(published_at) FROM items WHERE feed_id = :id", {"id": feed_id}
            ) as cur:
                newest_row = await cur.fetchone()
            newest = newest_row[0] if newest_row is not None else None

            existing = await _existing_identities(db, feed_id, [e.identity for e in entries])
            fresh: list[NewItem] = []
            seen: set[str] = set()
            for entry in entries:
                if entry.identity in seen:
                    continue
                seen.add(entry.identity)
                if entry.identity in existing:
                    await db.execute(
                        "UPDATE items SET title = :title, summary = :summary,"
                        " content = :content, link = COALESCE(:link, link), updated_at = :now"
                        " WHERE feed_id = :feed AND identity = :identity"
                        " AND (title != :title OR summary != :summary OR content != :content)",
                        {
                            "feed": feed_id,
                            "identity": entry.identity,
                            "title": entry.title,
                            "summary": entry.summary,
                            "content": entry.content,
                            "link": entry.link,
                            "now": now,
                        },
                    )
                else:
                    fresh.append(entry)
            # Oldest first, so outbox ids follow publication order within every chat.
            fresh.sort(key=lambda e: _ts(e.published_at) if e.published_at else now)
            new_items: list[Item] = []
            for entry in fresh:
                published = _ts(entry.published_at) if entry.published_at else now
                async with db.execute(
                    "INSERT INTO items (feed_id, identity, guid, link, title, summary, content,"
                    " published_at, first_seen_at, updated_at) VALUES (:feed, :identity, :guid,"
                    " :link, :title, :summary, :content, :published, :now, :now) RETURNING id",
                    {
                        "feed": feed_id,
                        "identity": entry.identity,
                        "guid": entry.guid,
                        "link": entry.link,
                        "title": entry.title,
                        "summary": entry.summary,
                        "content": entry.content,
                        "published": published,
                        "now": now,
                    },
                ) as cur:
                    inserted = await cur.fetchone()
                    assert inserted is not None
                new_items.append(
                    Item(
                        id=int(inserted[0]),
                        feed_id=feed_id,
                        identity=entry.identity,
                        guid=entry.guid,
                        link=entry.link,
                        title=entry.title,
                        summary=entry.summary,
                        content=entry.content,
                        published_at=_dt_required(published),
                        first_seen_at=now_dt,
                        updated_at=now_dt,
                    )
                )
            pushed: list[Item] = []
            if push and not backlog:
                floor = None if newest is None else newest - STALE_AFTER.total_seconds()
                pushed = [i for i in new_items if floor is None or _ts(i.published_at) >= floor]
            digest = len(pushed) > DIGEST_THRESHOLD
            queued = 0
            if pushed:
                # One statement for every (subscriber, item) pair. A digest is queued
                # chat by chat: its rows then sit together in the outbox and the
                # (chat_id, item_id) index grows at one end instead of being swept once
                # per item, which made 10,000 items x 1,000 chats quadratic. A few
                # single messages stay item by item, so every chat gets the first soon.
                order = "s.chat_id, j.key" if digest else "j.key, s.chat_id"
                cur = await db.execute(
                    "INSERT INTO outbox (chat_id, kind, item_id, digest_key, created_at)"
                    " SELECT s.chat_id, 'item', j.value, :digest, :now"
                    " FROM subscriptions s JOIN chats c ON c.id = s.chat_id AND c.active = 1"
                    " CROSS JOIN json_each(:items) j"
                    f" WHERE s.feed_id = :feed ORDER BY {order}"
                    " ON CONFLICT DO NOTHING",
                    {
                        "items": json.dumps([i.id for i in pushed]),
                        "digest": f"{feed_id}:{now:.6f}" if digest else None,
                        "now": now,
                        "feed": feed_id,
                    },
                )
                queued = max(cur.rowcount, 0)
            recovered = await self._mark_success(db, feed_id, now)
            await db.execute(
                "UPDATE feeds SET etag = :etag, last_modified = :lm, content_hash = :hash,"
                f" next_poll_at = :next, url = {_MOVED_URL},"
                " title = CASE WHEN title_locked = 0 AND :title IS NOT NULL AND :title != ''"
                " THEN :title ELSE title END WHERE id = :id",
                {
                    "id": feed_id,
                    "etag": etag,
                    "lm": last_modified,
                    "hash": content_hash,
                    "next": _ts(next_poll_at),
                    "url": url,
                    "title": feed_title,
                },
            )
        if queued:
            self.outbox_changed.set()
        return PollOutcome(
            new_items=new_items,
            pushed_items=pushed,
            outbox_rows=queued,
            recovered=recovered,
            backlog=backlog,
        )

    async def _mark_success(self, db: aiosqlite.Connection, feed_id: int, now: float) -> bool:
        async with db.execute(
            "SELECT failure_alerted FROM feeds WHERE id = :id", {"id": feed_id}
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise FeedNotFoundError(feed_id)
        await db.execute(
            "UPDATE feeds SET consecutive_failures = 0, failure_alerted = 0,"
            " last_success_at = :now WHERE id = :id",
            {"id": feed_id, "now": now},
        )
        return bool(row["failure_alerted"])

    async def record_failure(
        self, feed_id: int, error: str, *, next_poll_at: datetime, pause: bool = False
    ) -> FailureOutcome:
        """Count a failed poll; the feed is never disabled (except a 410, `pause`)."""
        now = _ts(self.now())
        async with self._write() as db:
            async with db.execute(
                "UPDATE feeds SET consecutive_failures = consecutive_failures + 1,"
                " last_error = :error, last_error_at = :now, next_poll_at = :next,"
                " paused = MAX(paused, :pause) WHERE id = :id"
                " RETURNING consecutive_failures, failure_alerted",
                {
                    "id": feed_id,
                    "error": error[:1000],
                    "now": now,
                    "next": _ts(next_poll_at),
                    "pause": int(pause),
                },
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                raise FeedNotFoundError(feed_id)
            failures = int(row[0])
            alert = failures >= FAILURE_ALERT_THRESHOLD and not row[1]
            if alert:
                await db.execute(
                    "UPDATE feeds SET failure_alerted = 1 WHERE id = :id", {"id": feed_id}
                )
        return FailureOutcome(consecutive_failures=failures, should_alert=alert)

    async def feed_item_count(self, feed_id: int) -> int:
        row = await self._fetchone(
            "SELECT COUNT(*) FROM items WHERE feed_id = :id", {"id": feed_id}
        )
        return int(row[0]) if row else 0

    async def feed_subscriber_count(self, feed_id: int) -> int:
        row = await self._fetchone(
            "SELECT COUNT(*) FROM subscriptions s JOIN chats c ON c.id = s.chat_id"
            " WHERE s.feed_id = :id AND c.active = 1",
            {"id": feed_id},
        )
        return int(row[0]) if row else 0

    # ---------------------------------------------------------------------- items

    async def latest_items(
        self, limit: int, *, offset: int = 0, feed_id: int | None = None
    ) -> list[Item]:
        rows = await self._fetchall(
            "SELECT i.*, f.title AS feed_title FROM items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE (:feed IS NULL OR i.feed_id = :feed)"
            " ORDER BY i.published_at DESC, i.id DESC LIMIT :limit OFFSET :offset",
            {"feed": feed_id, "limit": limit, "offset": offset},
        )
        return [_item(r) for r in rows]

    async def get_item(self, item_id: int) -> Item | None:
        row = await self._fetchone(
            "SELECT i.*, f.title AS feed_title FROM items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE i.id = :id",
            {"id": item_id},
        )
        return None if row is None else _item(row)

    async def items_by_ids(self, ids: Iterable[int]) -> dict[int, Item]:
        out: dict[int, Item] = {}
        id_list = list(ids)
        for start in range(0, len(id_list), _CHUNK):
            chunk = id_list[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = await self._fetchall(
                "SELECT i.*, f.title AS feed_title FROM items i JOIN feeds f ON f.id = i.feed_id"
                f" WHERE i.id IN ({marks})",
                chunk,
            )
            for r in rows:
                item = _item(r)
                out[item.id] = item
        return out

    async def count_items(self) -> int:
        row = await self._fetchone("SELECT COUNT(*) FROM items")
        return int(row[0]) if row else 0

    async def search(self, query: str, *, limit: int = 5, offset: int = 0) -> list[SearchHit]:
        """Best matches first (bm25, title weighted above the text), with snippets.

        A word found in most statements would have every one of them scored; so the
        best matches are picked among the `SEARCH_WINDOW` most recent statements that
        match, which keeps a search fast however large the archive grows (and a
        statements archive is read newest first anyway). Rarer queries are ranked in
        full. Raises `InvalidSearchQueryError` for a query that cannot be searched.
        """
        match = build_match_query(query)
        try:
            floor_row = await self._fetchone(
                "SELECT rowid FROM items_fts WHERE items_fts MATCH :match"
                " ORDER BY rowid DESC LIMIT 1 OFFSET :window",
                {"match": match, "window": SEARCH_WINDOW - 1},
            )
            floor = int(floor_row[0]) if floor_row is not None else 0
            ranked = await self._fetchall(
                "SELECT rowid FROM items_fts WHERE items_fts MATCH :match"
                " AND rowid >= :floor"
                # The id breaks ties, so pages never repeat or skip a statement.
                " ORDER BY bm25(items_fts, 10.0, 3.0, 1.0), rowid DESC"
                " LIMIT :limit OFFSET :offset",
                {"match": match, "floor": floor, "limit": limit, "offset": offset},
            )
            ids = [int(r[0]) for r in ranked]
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            # Snippets and rows only for the page, not for every match.
            rows = await self._fetchall(
                "SELECT i.*, f.title AS feed_title,"
                " snippet(items_fts, -1, char(2), char(3), '…', 24) AS snippet"
                " FROM items_fts JOIN items i ON i.id = items_fts.rowid"
                " JOIN feeds f ON f.id = i.feed_id"
                f" WHERE items_fts MATCH ? AND items_fts.rowid IN ({marks})",
                [match, *ids],
            )
        except sqlite3.OperationalError as exc:
            # build_match_query quotes everything, so this is a bug, not the user's.
            log.error("search query %r failed as %r: %s", query, match, exc)
            raise StorageError("that search could not be run") from exc
        by_id = {int(r["id"]): r for r in rows}
        return [
            SearchHit(item=_item(by_id[i]), snippet=str(by_id[i]["snippet"] or ""))
            for i in ids
            if i in by_id
        ]

    async def search_count(self, query: str, *, cap: int = 1000) -> int:
        """How many statements match `query`, counting no further than `cap`.

        The cap keeps a very common word cheap to count over a large archive; a
        result equal to `cap` means "at least that many". Raises like `search`.
        """
        match = build_match_query(query)
        try:
            row = await self._fetchone(
                "SELECT COUNT(*) FROM (SELECT 1 FROM items_fts"
                " WHERE items_fts MATCH :match LIMIT :cap)",
                {"match": match, "cap": cap},
            )
        except sqlite3.OperationalError as exc:
            log.error("search count %r failed as %r: %s", query, match, exc)
            raise StorageError("that search could not be run") from exc
        return int(row[0]) if row else 0

    # ---------------------------------------------------------------------- chats

    async def upsert_chat(self, chat_id: int, chat_type: str, title: str) -> tuple[Chat, bool]:
        """Record a chat we heard from; a chat that was inactive becomes active again.

        Returns the chat and whether it was reactivated.
        """
        now = _ts(self.now())
        async with self._write() as db:
            async with db.execute(
                "SELECT active FROM chats WHERE id = :id", {"id": chat_id}
            ) as cur:
                row = await cur.fetchone()
            reactivated = row is not None and not row["active"]
            await db.execute(
                "INSERT INTO chats (id, type, title, created_at) VALUES (:id, :type, :title, :now)"
                " ON CONFLICT (id) DO UPDATE SET type = :type, title = :title, active = 1,"
                " inactive_reason = NULL",
                {"id": chat_id, "type": chat_type, "title": title[:200], "now": now},
            )
        return await self.get_chat(chat_id), reactivated

    async def touch_chat(self, chat_id: int, chat_type: str, title: str) -> Chat:
        """Like upsert_chat, but a read-only command does not reactivate a chat."""
        chat = await self.find_chat(chat_id)
        if chat is not None:
            return chat
        created, _ = await self.upsert_chat(chat_id, chat_type, title)
        return created

    async def find_chat(self, chat_id: int) -> Chat | None:
        row = await self._fetchone("SELECT * FROM chats WHERE id = :id", {"id": chat_id})
        return None if row is None else self._chat(row)

    async def get_chat(self, chat_id: int) -> Chat:
        chat = await self.find_chat(chat_id)
        if chat is None:
            raise ChatNotFoundError(chat_id)
        return chat

    async def update_chat_settings(
        self,
        chat_id: int,
        *,
        timezone: str | None = None,
        daily_time: time | None = None,
        daily_enabled: bool | None = None,
    ) -> Chat:
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE chats SET timezone = COALESCE(:tz, timezone),"
                " daily_time = COALESCE(:t, daily_time),"
                " daily_enabled = COALESCE(:on, daily_enabled) WHERE id = :id",
                {
                    "id": chat_id,
                    "tz": timezone,
                    "t": None if daily_time is None else daily_time.strftime("%H:%M"),
                    "on": None if daily_enabled is None else int(daily_enabled),
                },
            )
            if cur.rowcount == 0:
                raise ChatNotFoundError(chat_id)
            if daily_enabled is False:
                # Turned off is honoured at once, even for a message still in the queue.
                await db.execute(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'daily turned off'"
                    " WHERE chat_id = :id AND kind = 'daily' AND state = 'pending'",
                    {"id": chat_id},
                )
        return await self.get_chat(chat_id)

    async def deactivate_chat(self, chat_id: int, reason: str) -> int:
        """Stop sending to a chat; its pending rows are cancelled (kept) with the reason."""
        now = _ts(self.now())
        async with self._write() as db:
            await db.execute(
                "UPDATE chats SET active = 0, inactive_reason = :r WHERE id = :id",
                {"id": chat_id, "r": reason},
            )
            cur = await db.execute(
                "UPDATE outbox SET state = 'cancelled', last_error = :r, finished_at = :now"
                " WHERE chat_id = :id AND state = 'pending'",
                {"id": chat_id, "r": reason, "now": now},
            )
            return max(cur.rowcount, 0)

    async def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Group → supergroup: subscriptions, settings and pending rows move to new_id."""
        async with self._write() as db:
            async with db.execute("SELECT * FROM chats WHERE id = :id", {"id": old_id}) as cur:
                old = await cur.fetchone()
            if old is None or old_id == new_id:
                return
            async with db.execute("SELECT 1 FROM chats WHERE id = :id", {"id": new_id}) as cur:
                new_exists = await cur.fetchone() is not None
            if not new_exists:
                # ON UPDATE CASCADE carries subscriptions, outbox and daily records along.
                await db.execute(
                    "UPDATE chats SET id = :new, type = 'supergroup' WHERE id = :old",
                    {"old": old_id, "new": new_id},
                )
                return
            params = {"old": old_id, "new": new_id}
            await db.execute(
                "INSERT OR IGNORE INTO subscriptions (chat_id, feed_id, created_at)"
                " SELECT :new, feed_id, created_at FROM subscriptions WHERE chat_id = :old",
                params,
            )
            await db.execute(
                "UPDATE OR IGNORE outbox SET chat_id = :new WHERE chat_id = :old", params
            )
            await db.execute(
                "UPDATE chats SET timezone = (SELECT timezone FROM chats WHERE id = :old),"
                " daily_time = (SELECT daily_time FROM chats WHERE id = :old),"
                " daily_enabled = (SELECT daily_enabled FROM chats WHERE id = :old),"
                " active = 1, inactive_reason = NULL WHERE id = :new",
                params,
            )
            await db.execute(
                "UPDATE OR IGNORE daily_sends SET chat_id = :new WHERE chat_id = :old", params
            )
            await db.execute("DELETE FROM chats WHERE id = :old", params)

    def _chat(self, row: aiosqlite.Row) -> Chat:
        daily = row["daily_time"]
        return Chat(
            id=int(row["id"]),
            type=str(row["type"]),
            title=str(row["title"]),
            timezone=row["timezone"] or self.default_timezone,
            daily_time=time.fromisoformat(daily) if daily else self.default_daily_time,
            daily_enabled=bool(row["daily_enabled"]),
            active=bool(row["active"]),
            inactive_reason=row["inactive_reason"],
        )

    # -------------------------------------------------------------- subscriptions

    async def subscribe(self, chat_id: int, feed_ids: Iterable[int]) -> list[int]:
        """Subscribe to feeds; returns the ids newly subscribed."""
        now = _ts(self.now())
        added: list[int] = []
        async with self._write() as db:
            for feed_id in feed_ids:
                async with db.execute(
                    "SELECT 1 FROM feeds WHERE id = :id AND removed = 0", {"id": feed_id}
                ) as cur:
                    if await cur.fetchone() is None:
                        raise FeedNotFoundError(feed_id)
                cur2 = await db.execute(
                    "INSERT OR IGNORE INTO subscriptions (chat_id, feed_id, created_at)"
                    " VALUES (:chat, :feed, :now)",
                    {"chat": chat_id, "feed": feed_id, "now": now},
                )
                if cur2.rowcount > 0:
                    added.append(feed_id)
        return added

    async def unsubscribe(self, chat_id: int, feed_ids: Iterable[int]) -> list[int]:
        removed: list[int] = []
        async with self._write() as db:
            for feed_id in feed_ids:
                cur = await db.execute(
                    "DELETE FROM subscriptions WHERE chat_id = :chat AND feed_id = :feed",
                    {"chat": chat_id, "feed": feed_id},
                )
                if cur.rowcount > 0:
                    removed.append(feed_id)
            # What is still queued for those feeds would now be unwanted.
            if removed:
                marks = ",".join("?" * len(removed))
                await db.execute(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'unsubscribed'"
                    " WHERE chat_id = ? AND state = 'pending' AND item_id IN"
                    f" (SELECT id FROM items WHERE feed_id IN ({marks}))",
                    [chat_id, *removed],
                )
                # The daily message goes to subscribers: the last unsubscribe stops it too.
                await db.execute(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'unsubscribed'"
                    " WHERE chat_id = :id AND kind = 'daily' AND state = 'pending'"
                    " AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE chat_id = :id)",
                    {"id": chat_id},
                )
        return removed

    async def subscriptions(self, chat_id: int) -> set[int]:
        rows = await self._fetchall(
            "SELECT feed_id FROM subscriptions WHERE chat_id = :id", {"id": chat_id}
        )
        return {int(r[0]) for r in rows}

    # --------------------------------------------------------------------- outbox

    async def pending_outbox(
        self, limit: int = 1000, *, after_id: int = 0, now: datetime | None = None
    ) -> list[OutboxRow]:
        """Pending rows with id > after_id, oldest first, skipping rows waiting for a retry."""
        when = _ts(now or self.now())
        rows = await self._fetchall(
            "SELECT o.*, c.type AS chat_type, c.timezone AS chat_timezone FROM outbox o"
            " JOIN chats c ON c.id = o.chat_id"
            " WHERE o.state = 'pending' AND o.id > :after"
            " AND (o.not_before IS NULL OR o.not_before <= :now)"
            " ORDER BY o.id LIMIT :limit",
            {"now": when, "limit": limit, "after": after_id},
        )
        return [_outbox(r, self.default_timezone) for r in rows]

    async def deliverable_outbox(self, limit: int = 1000, *, after_id: int = 0) -> list[OutboxRow]:
        """Pending rows with id > after_id, oldest first, including rows waiting for a
        retry (`not_before` says until when): delivery keeps each chat in order."""
        rows = await self._fetchall(
            "SELECT o.*, c.type AS chat_type, c.timezone AS chat_timezone FROM outbox o"
            " JOIN chats c ON c.id = o.chat_id"
            " WHERE o.state = 'pending' AND o.id > :after ORDER BY o.id LIMIT :limit",
            {"limit": limit, "after": after_id},
        )
        return [_outbox(r, self.default_timezone) for r in rows]

    async def pending_digest_rows(self, chat_id: int, digest_key: str) -> list[OutboxRow]:
        """Every pending row of one chat's digest, oldest first."""
        rows = await self._fetchall(
            "SELECT o.*, c.type AS chat_type, c.timezone AS chat_timezone FROM outbox o"
            " JOIN chats c ON c.id = o.chat_id"
            " WHERE o.chat_id = :chat AND o.state = 'pending' AND o.digest_key = :key"
            " ORDER BY o.id",
            {"chat": chat_id, "key": digest_key},
        )
        return [_outbox(r, self.default_timezone) for r in rows]

    async def release_in_flight(self, row_ids: Sequence[int]) -> None:
        """The send was never started (delivery stopped first): not a possible duplicate."""
        async with self._write() as db:
            await db.executemany(
                "UPDATE outbox SET in_flight_at = NULL, attempts = MAX(attempts - 1, 0)"
                " WHERE id = :id AND state = 'pending'",
                [{"id": i} for i in row_ids],
            )

    async def next_retry_at(self) -> datetime | None:
        row = await self._fetchone(
            "SELECT MIN(not_before) FROM outbox WHERE state = 'pending' AND not_before IS NOT NULL"
        )
        return None if row is None or row[0] is None else _dt(row[0])

    async def mark_in_flight(self, row_ids: Sequence[int]) -> list[int]:
        """Committed before a send: a crash after this leaves a possible duplicate.

        Returns the ids that are still pending (a row cancelled meanwhile is not sent).
        """
        marks = ",".join("?" * len(row_ids))
        rows = await self._write_statement(
            "UPDATE outbox SET in_flight_at = ?, attempts = attempts + 1"
            f" WHERE state = 'pending' AND id IN ({marks}) RETURNING id",
            [_ts(self.now()), *row_ids],
        )
        claimed = {int(r[0]) for r in rows}
        return [i for i in row_ids if i in claimed]

    async def mark_sent(
        self, row_ids: Sequence[int], message_id: int | None, *, possible_duplicate: bool = False
    ) -> None:
        marks = ",".join("?" * len(row_ids))
        await self._write_statement(
            "UPDATE outbox SET state = 'sent', message_id = ?, finished_at = ?,"
            " in_flight_at = NULL, last_error = NULL,"
            f" possible_duplicate = MAX(possible_duplicate, ?) WHERE id IN ({marks})",
            [message_id, _ts(self.now()), int(possible_duplicate), *row_ids],
        )

    async def confirm_and_claim(
        self, sent: Sequence[tuple[Sequence[int], int | None, bool]], claim: Sequence[int]
    ) -> list[int]:
        """Mark the rows of finished sends sent and claim the next rows, in one
        statement (one commit, one trip to SQLite's thread).

        `sent` holds (row ids, Telegram's message id, possibly duplicated) per send.
        Delivery confirms a send no later than it claims the next one, so the rows in
        doubt after a crash are never more than the sends really in flight (or one
        confirmed late). Returns the claimed ids that were still pending.
        """
        if not sent:
            return await self.mark_in_flight(claim) if claim else []
        now = _ts(self.now())
        sent_ids = [i for ids, _, _ in sent for i in ids]
        dup_ids = [i for ids, _, dup in sent if dup for i in ids]
        s_marks = ",".join("?" * len(sent_ids))
        c_marks = ",".join("?" * len(claim)) or "NULL"
        d_marks = ",".join("?" * len(dup_ids)) or "NULL"
        message_case = " ".join("WHEN ? THEN ?" for _ in sent_ids)
        message_params: list[Any] = []
        for ids, message_id, _ in sent:
            for i in ids:
                message_params += [i, message_id]
        rows = await self._write_statement(
            "UPDATE outbox SET"
            f" state = CASE WHEN id IN ({s_marks}) THEN 'sent' ELSE state END,"
            f" message_id = CASE id {message_case} ELSE message_id END,"
            f" finished_at = CASE WHEN id IN ({s_marks}) THEN ? ELSE finished_at END,"
            f" last_error = CASE WHEN id IN ({s_marks}) THEN NULL ELSE last_error END,"
            f" possible_duplicate = CASE WHEN id IN ({d_marks})"
            " THEN MAX(possible_duplicate, 1) ELSE possible_duplicate END,"
            f" in_flight_at = CASE WHEN id IN ({s_marks}) THEN NULL ELSE ? END,"
            f" attempts = CASE WHEN id IN ({s_marks}) THEN attempts ELSE attempts + 1 END"
            f" WHERE id IN ({s_marks}) OR (state = 'pending' AND id IN ({c_marks}))"
            " RETURNING id",
            [
                *sent_ids,
                *message_params,
                *sent_ids,
                now,
                *sent_ids,
                *dup_ids,
                *sent_ids,
                now,
                *sent_ids,
                *sent_ids,
                *claim,
            ],
        )
        claimed = {int(r[0]) for r in rows} - set(sent_ids)
        return [i for i in claim if i in claimed]

    async def _write_statement(self, sql: str, params: Sequence[Any]) -> list[aiosqlite.Row]:
        """One statement as its own (autocommit) transaction: one trip to SQLite's
        thread instead of three, on delivery's path. The lock keeps it out of another
        task's open transaction."""
        async with self._lock:
            return list(await self._conn.execute_fetchall(sql, params))

    async def mark_retry(self, row_ids: Sequence[int], error: str, not_before: datetime) -> None:
        async with self._write() as db:
            await db.executemany(
                "UPDATE outbox SET not_before = :nb, last_error = :err, in_flight_at = NULL"
                " WHERE id = :id",
                [{"id": i, "nb": _ts(not_before), "err": error[:500]} for i in row_ids],
            )

    async def mark_possible_duplicate(self, row_ids: Sequence[int]) -> None:
        async with self._write() as db:
            await db.executemany(
                "UPDATE outbox SET possible_duplicate = possible_duplicate + 1 WHERE id = :id",
                [{"id": i} for i in row_ids],
            )

    async def mark_failed(self, row_ids: Sequence[int], error: str) -> None:
        now = _ts(self.now())
        async with self._write() as db:
            await db.executemany(
                "UPDATE outbox SET state = 'failed', last_error = :err, finished_at = :now,"
                " in_flight_at = NULL WHERE id = :id",
                [{"id": i, "err": error[:500], "now": now} for i in row_ids],
            )

    async def recover_in_flight(self) -> int:
        """At start: rows whose send began before a crash may have arrived. They stay
        pending (they may not have arrived either) and are counted as possible duplicates."""
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE outbox SET possible_duplicate = possible_duplicate + 1, in_flight_at = NULL"
                " WHERE state = 'pending' AND in_flight_at IS NOT NULL"
            )
            count = max(cur.rowcount, 0)
        if count:
            self.outbox_changed.set()
        return count

    async def outbox_rows_for_chat(self, chat_id: int) -> list[OutboxRow]:
        rows = await self._fetchall(
            "SELECT * FROM outbox WHERE chat_id = :id ORDER BY id", {"id": chat_id}
        )
        return [_outbox(r) for r in rows]

    async def enqueue_text(self, chat_id: int, text: str, kind: str = "daily") -> int:
        now = _ts(self.now())
        async with self._write() as db:
            async with db.execute(
                "INSERT INTO outbox (chat_id, kind, text, created_at)"
                " VALUES (:chat, :kind, :text, :now) RETURNING id",
                {"chat": chat_id, "kind": kind, "text": text, "now": now},
            ) as cur:
                row = await cur.fetchone()
                assert row is not None
        self.outbox_changed.set()
        return int(row[0])

    # ------------------------------------------------------------------- counters

    async def add_counter(self, start_date: date, timezone: str, template: str) -> Counter:
        now = _ts(self.now())
        async with self._write() as db:
            async with db.execute(
                "INSERT INTO counters (start_date, timezone, template, position, created_at)"
                " VALUES (:d, :tz, :tpl, (SELECT COALESCE(MAX(position), 0) + 1 FROM counters),"
                " :now) RETURNING id",
                {"d": start_date.isoformat(), "tz": timezone, "tpl": template, "now": now},
            ) as cur:
                row = await cur.fetchone()
                assert row is not None
        counters = {c.id: c for c in await self.list_counters()}
        return counters[int(row[0])]

    async def remove_counter(self, counter_id: int) -> None:
        async with self._write() as db:
            cur = await db.execute("DELETE FROM counters WHERE id = :id", {"id": counter_id})
            if cur.rowcount == 0:
                raise CounterNotFoundError(counter_id)

    async def list_counters(self) -> list[Counter]:
        rows = await self._fetchall("SELECT * FROM counters ORDER BY position, id")
        return [
            Counter(
                id=int(r["id"]),
                start_date=date.fromisoformat(r["start_date"]),
                timezone=str(r["timezone"]),
                template=str(r["template"]),
                position=int(r["position"]),
            )
            for r in rows
        ]

    # ---------------------------------------------------------------------- daily

    async def daily_groups(self) -> list[tuple[str, time, int]]:
        """(zone, daily time, chats) for every active, subscribed chat with the daily
        message on, grouped so one tick costs a query per distinct setting, not per chat."""
        rows = await self._fetchall(
            "SELECT COALESCE(c.timezone, :tz) AS zone, COALESCE(c.daily_time, :t) AS at,"
            " COUNT(*) AS n FROM chats c WHERE c.active = 1 AND c.daily_enabled = 1"
            " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.chat_id = c.id)"
            " GROUP BY zone, at",
            {"tz": self.default_timezone, "t": self.default_daily_time.strftime("%H:%M")},
        )
        return [(str(r["zone"]), time.fromisoformat(r["at"]), int(r["n"])) for r in rows]

    async def enqueue_daily(self, due: Sequence[tuple[str, time, date]], text: str) -> int:
        """Queue `text` for every eligible chat whose (zone, daily time) is in `due` and
        that has no record yet for that group's local date. Returns how many.

        One transaction and a fixed number of statements, however many chats and
        groups are due: 100,000 chats cost three set-based statements, not 100,000.
        The (chat, local date) key makes it once a day: a chat that already had today's
        message (at another time, or before a restart) is skipped.
        """
        if not due:
            return 0
        now = _ts(self.now())
        params = {
            "tz": self.default_timezone,
            "t": self.default_daily_time.strftime("%H:%M"),
            "due": json.dumps([[z, at.strftime("%H:%M"), d.isoformat()] for z, at, d in due]),
            "text": text,
            "now": now,
        }
        # A subquery, not a WITH clause: sqlite3 reports no rowcount for a statement
        # that does not begin with INSERT.
        in_due_group = (
            " JOIN (SELECT json_extract(value, '$[0]') AS zone, json_extract(value, '$[1]') AS at,"
            " json_extract(value, '$[2]') AS local_date FROM json_each(:due)) d"
            " ON d.zone = COALESCE(c.timezone, :tz) AND d.at = COALESCE(c.daily_time, :t)"
        )
        async with self._write() as db:
            async with db.execute("SELECT COALESCE(MAX(id), 0) FROM outbox") as cur:
                row = await cur.fetchone()
                params["before"] = int(row[0]) if row else 0
            cur = await db.execute(
                "INSERT INTO outbox (chat_id, kind, text, created_at)"
                " SELECT c.id, 'daily', :text, :now FROM chats c"
                + in_due_group
                + " WHERE c.active = 1 AND c.daily_enabled = 1"
                " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.chat_id = c.id)"
                " AND NOT EXISTS (SELECT 1 FROM daily_sends ds"
                " WHERE ds.chat_id = c.id AND ds.local_date = d.local_date)"
                " ORDER BY c.id",
                params,
            )
            added = max(cur.rowcount, 0)
            if added:
                # The rows just queued are exactly those past the old maximum id: the
                # write lock and BEGIN IMMEDIATE keep every other writer out meanwhile.
                await db.execute(
                    "INSERT INTO daily_sends (chat_id, local_date, outbox_id,"
                    " created_at) SELECT o.chat_id, d.local_date, o.id, :now FROM outbox o"
                    " JOIN chats c ON c.id = o.chat_id" + in_due_group + " WHERE o.id > :before",
                    params,
                )
        if added:
            self.outbox_changed.set()
        return added

    async def daily_sent(self, chat_id: int, local_date: date) -> bool:
        row = await self._fetchone(
            "SELECT 1 FROM daily_sends WHERE chat_id = :id AND local_date = :d",
            {"id": chat_id, "d": local_date.isoformat()},
        )
        return row is not None

    # ------------------------------------------------------------------- channels

    async def add_channel(
        self, chat_id: int, title: str, username: str | None, added_by: int
    ) -> Chat:
        """Record a channel as a subscriber (active again if it was removed)."""
        now = _ts(self.now())
        async with self._write() as db:
            await db.execute(
                "INSERT INTO chats (id, type, title, created_at)"
                " VALUES (:id, 'channel', :title, :now)"
                " ON CONFLICT (id) DO UPDATE SET type = 'channel', title = :title, active = 1,"
                " inactive_reason = NULL",
                {"id": chat_id, "title": title[:200], "now": now},
            )
            # A username moves when a channel is renamed: the old holder gives it up.
            await db.execute(
                "UPDATE channels SET username = NULL"
                " WHERE username = :u COLLATE NOCASE AND chat_id != :id",
                {"u": username, "id": chat_id},
            )
            await db.execute(
                "INSERT INTO channels (chat_id, username, added_by, added_at)"
                " VALUES (:id, :u, :by, :now) ON CONFLICT (chat_id) DO UPDATE SET"
                " username = :u, added_by = :by, added_at = :now",
                {"id": chat_id, "u": username, "by": added_by, "now": now},
            )
        return await self.get_chat(chat_id)

    async def find_channel(self, ref: int | str) -> Channel | None:
        """A channel by chat id, or by @name (with or without the @)."""
        params: dict[str, int | str]
        if isinstance(ref, int):
            where, params = "ch.chat_id = :ref", {"ref": ref}
        else:
            where, params = "ch.username = :ref COLLATE NOCASE", {"ref": ref.lstrip("@")}
        row = await self._fetchone(
            f"SELECT c.*, ch.username AS channel_username FROM channels ch"
            f" JOIN chats c ON c.id = ch.chat_id WHERE {where}",
            params,
        )
        if row is None:
            return None
        return Channel(
            chat=self._chat(row),
            username=row["channel_username"],
            feed_ids=frozenset(await self.subscriptions(int(row["id"]))),
        )

    async def list_channels(self) -> list[Channel]:
        rows = await self._fetchall(
            "SELECT c.*, ch.username AS channel_username FROM channels ch"
            " JOIN chats c ON c.id = ch.chat_id ORDER BY c.title COLLATE NOCASE, c.id"
        )
        return [
            Channel(
                chat=self._chat(r),
                username=r["channel_username"],
                feed_ids=frozenset(await self.subscriptions(int(r["id"]))),
            )
            for r in rows
        ]

    async def remove_channel(self, chat_id: int) -> int:
        """Forget a channel: its subscriptions go, queued messages are cancelled, the
        chat stays (inactive) so delivery history and /stats still explain it.
        Returns how many subscriptions it had."""
        now = _ts(self.now())
        reason = "removed by an admin"
        async with self._write() as db:
            cur = await db.execute("DELETE FROM channels WHERE chat_id = :id", {"id": chat_id})
            if cur.rowcount == 0:
                raise ChatNotFoundError(chat_id)
            cur = await db.execute("DELETE FROM subscriptions WHERE chat_id = :id", {"id": chat_id})
            subscriptions = max(cur.rowcount, 0)
            await db.execute(
                "UPDATE chats SET active = 0, inactive_reason = :r WHERE id = :id",
                {"id": chat_id, "r": reason},
            )
            await db.execute(
                "UPDATE outbox SET state = 'cancelled', last_error = :r, finished_at = :now"
                " WHERE chat_id = :id AND state = 'pending'",
                {"id": chat_id, "r": reason, "now": now},
            )
        return subscriptions

    # ------------------------------------------------------------------ bulk feeds

    async def add_feeds(
        self, feeds: Sequence[tuple[str, str | None]]
    ) -> tuple[list[Feed], list[tuple[str, int]]]:
        """Add many feeds (url, title) in one transaction, as `add_feed` adds one.

        Returns (feeds added or brought back, (url, feed id) of those already there).
        """
        now = _ts(self.now())
        added_ids: list[int] = []
        existing: list[tuple[str, int]] = []
        async with self._write() as db:
            for url, title in feeds:
                async with db.execute(
                    "SELECT id, removed FROM feeds WHERE url = :url", {"url": url}
                ) as cur:
                    row = await cur.fetchone()
                if row is not None and not row["removed"]:
                    existing.append((url, int(row["id"])))
                    continue
                params = {"url": url, "title": title, "locked": int(title is not None)}
                if row is not None:
                    await db.execute(
                        "UPDATE feeds SET removed = 0, paused = 0, next_poll_at = NULL,"
                        " title = COALESCE(:title, title), title_locked = :locked"
                        " WHERE id = :id",
                        {**params, "id": int(row["id"])},
                    )
                    added_ids.append(int(row["id"]))
                    continue
                async with db.execute(
                    "INSERT INTO feeds (url, title, title_locked, created_at)"
                    " VALUES (:url, COALESCE(:title, ''), :locked, :now) RETURNING id",
                    {**params, "now": now},
                ) as cur:
                    inserted = await cur.fetchone()
                    assert inserted is not None
                    added_ids.append(int(inserted[0]))
        added: list[Feed] = []
        for start in range(0, len(added_ids), _CHUNK):
            chunk = added_ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = await self._fetchall(f"SELECT * FROM feeds WHERE id IN ({marks})", chunk)
            added.extend(_feed(r) for r in rows)
        added.sort(key=lambda f: f.id)
        return added, existing

    # ---------------------------------------------------------------------- stats

    async def stats(self) -> Stats:
        now = _ts(self.now())
        since = now - 86400
        chats = await self._fetchall(
            "SELECT active, COALESCE(inactive_reason, '') AS reason, COUNT(*) AS n"
            " FROM chats GROUP BY active, reason"
        )
        active = sum(int(r["n"]) for r in chats if r["active"])
        inactive = {str(r["reason"]) or "unknown": int(r["n"]) for r in chats if not r["active"]}
        subs = await self._fetchone("SELECT COUNT(*) FROM subscriptions")
        feeds = await self._fetchone("SELECT COUNT(*) FROM feeds WHERE removed = 0")
        items = await self._fetchone("SELECT COUNT(*) FROM items")
        deliveries = await self._fetchone(
            "SELECT SUM(state = 'sent'), SUM(state = 'failed'), SUM(possible_duplicate)"
            " FROM outbox WHERE finished_at >= :since",
            {"since": since},
        )
        pending = await self._fetchone(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending'"
        )
        assert subs and feeds and items and deliveries and pending
        return Stats(
            chats_active=active,
            chats_inactive=inactive,
            subscriptions=int(subs[0]),
            feeds=int(feeds[0]),
            items=int(items[0]),
            sent_24h=int(deliveries[0] or 0),
            failed_24h=int(deliveries[1] or 0),
            duplicates_24h=int(deliveries[2] or 0),
            pending=int(pending[0]),
            oldest_pending_at=_dt(pending[1]),
        )


async def _use_wal(conn: aiosqlite.Connection) -> None:
    # Turning a new file to WAL needs it alone for a moment, and SQLite answers
    # "locked" at once there (no busy wait): two processes opening a new file together
    # would fail. A short retry covers that race; a real lock still fails after it.
    for attempt in range(50):
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 49:
                raise
            await asyncio.sleep(0.1)


async def _user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def apply_migrations(conn: aiosqlite.Connection, *, target: int = LATEST_VERSION) -> int:
    """Apply pending migrations up to `target`, each with its version bump in one
    transaction. Returns the version reached."""
    while True:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            # Read under the write lock: another process may have migrated meanwhile.
            version = await _user_version(conn)
            if version > LATEST_VERSION:
                raise DatabaseTooNewError(version, LATEST_VERSION)
            if version >= target:
                await conn.execute("COMMIT")
                return version
            # Statement by statement: executescript would commit this transaction.
            for statement in _statements(MIGRATIONS[version]):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")
        log.info("database migrated to schema version %d", version + 1)


def _statements(script: str) -> list[str]:
    """Split a migration into statements; a trigger body holds semicolons of its own."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        # Unfinished SQL: let SQLite name the error.
        statements.append(pending.strip())
    return statements


async def _existing_identities(
    db: aiosqlite.Connection, feed_id: int, identities: Sequence[str]
) -> set[str]:
    found: set[str] = set()
    unique = list(dict.fromkeys(identities))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        async with db.execute(
            f"SELECT identity FROM items WHERE feed_id = ? AND identity IN ({marks})",
            [feed_id, *chunk],
        ) as cur:
            found.update(str(r[0]) for r in await cur.fetchall())
    return found


def _feed(row: aiosqlite.Row) -> Feed:
    return Feed(
        id=int(row["id"]),
        url=str(row["url"]),
        title=str(row["title"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        content_hash=row["content_hash"],
        next_poll_at=_dt(row["next_poll_at"]),
        consecutive_failures=int(row["consecutive_failures"]),
        last_error=row["last_error"],
        last_error_at=_dt(row["last_error_at"]),
        last_success_at=_dt(row["last_success_at"]),
        paused=bool(row["paused"]),
        failure_alerted=bool(row["failure_alerted"]),
        created_at=_dt_required(row["created_at"]),
    )


def _item(row: aiosqlite.Row) -> Item:
    keys = row.keys()
    return Item(
        id=int(row["id"]),
        feed_id=int(row["feed_id"]),
        identity=str(row["identity"]),
        guid=row["guid"],
        link=row["link"],
        title=str(row["title"]),
        summary=str(row["summary"]),
        content=str(row["content"]),
        published_at=_dt_required(row["published_at"]),
        first_seen_at=_dt_required(row["first_seen_at"]),
        updated_at=_dt_required(row["updated_at"]),
        feed_title=str(row["feed_title"]) if "feed_title" in keys else "",
    )


def _outbox(row: aiosqlite.Row, default_timezone: str = "UTC") -> OutboxRow:
    keys = row.keys()
    return OutboxRow(
        id=int(row["id"]),
        chat_id=int(row["chat_id"]),
        kind=str(row["kind"]),
        item_id=row["item_id"],
        text=row["text"],
        digest_key=row["digest_key"],
        state=str(row["state"]),
        attempts=int(row["attempts"]),
        created_at=_dt_required(row["created_at"]),
        chat_type=str(row["chat_type"]) if "chat_type" in keys else "private",
        chat_timezone=(row["chat_timezone"] if "chat_timezone" in keys else None)
        or default_timezone,
        possible_duplicate=bool(row["possible_duplicate"]),
        not_before=_dt(row["not_before"]) if "not_before" in keys else None,
    )

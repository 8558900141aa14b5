"""What every part of the store shares: the connection, its lock, the clock,
the transaction and read helpers, and the conversions between rows and models.

The logic of each entity is written once, in a mixin over `CoreBase` (storage/_feeds.py
and the others), against `Tx`: SQL with `:name` parameters (or `?`), rows read by
name. `StoreCore` runs it on SQLite as written; storage/postgres/_core.py's
`PgStoreCore` runs the same SQL on PostgreSQL, and storage/postgres/'s mixins
override only what the dialects do differently (search, claims, set-based SQL).
SQL both run keeps to what both understand: `CAST(:x AS TEXT)` where PostgreSQL
needs a NULL parameter's type, `excluded.` in upserts, `COUNT(*) FILTER (...)`.

`Store` (storage/store.py) is assembled from one mixin per entity over `StoreCore`,
so every mixin sees these attributes with their types.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, time
from typing import Any, ClassVar, Protocol

import aiosqlite

from storage.models import Feed, Item, OutboxRow

# A feed follows a permanent redirect unless another feed (even a removed one,
# whose row keeps its URL) already has the new URL: then it keeps its own.
_MOVED_URL = (
    "CASE WHEN CAST(:url AS TEXT) IS NULL OR EXISTS"
    " (SELECT 1 FROM feeds other WHERE other.url = :url AND other.id != :id)"
    " THEN url ELSE :url END"
)
# The columns of a statement that `_item` reads, with its feed's title (`f`): not
# `i.*`, which would read its search index too.
_ITEM_COLUMNS = (
    "i.id, i.feed_id, i.identity, i.guid, i.link, i.title, i.summary, i.content,"
    " i.published_at, i.first_seen_at, i.updated_at, f.title AS feed_title"
)


class RowLike(Protocol):
    """A row read by name: sqlite3's Row, or a dict from PostgreSQL's driver."""

    def __getitem__(self, key: str, /) -> Any: ...

    def keys(self) -> Any: ...


class Tx(Protocol):
    """A transaction's connection as the shared logic sees it: SQL with `:name`
    parameters (a mapping) or `?` (a sequence), rows read by name."""

    async def execute(self, sql: str, params: Any = None) -> int:
        """Run one statement; returns its rowcount."""
        ...

    async def executemany(self, sql: str, params: Iterable[Any]) -> int:
        """Run one statement for each set of parameters; returns the rows changed."""
        ...

    async def fetchone(self, sql: str, params: Any = None) -> RowLike | None: ...

    async def fetchall(self, sql: str, params: Any = None) -> Sequence[RowLike]: ...


class SqliteTx:
    """`Tx` on aiosqlite: the SQL goes to SQLite as it is written. A row is read in
    the statement's own trip to aiosqlite's thread (see StoreCore's reads)."""

    __slots__ = ("conn",)

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Any = None) -> int:
        cur = await self.conn.execute(sql, params)
        return cur.rowcount

    async def executemany(self, sql: str, params: Iterable[Any]) -> int:
        cur = await self.conn.executemany(sql, params)
        return cur.rowcount

    async def fetchone(self, sql: str, params: Any = None) -> aiosqlite.Row | None:
        rows = await self.conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Any = None) -> list[aiosqlite.Row]:
        return list(await self.conn.execute_fetchall(sql, params))


def _system_clock() -> datetime:
    return datetime.now(UTC)


def _ts(value: datetime) -> float:
    return value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _dt_required(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


class CoreBase:
    """What the entity mixins use, on either backend: the clock, the defaults, the
    transaction and read helpers, and the few pieces of SQL the dialects write
    differently. `StoreCore` (SQLite) and `PgStoreCore` (PostgreSQL) provide them."""

    default_timezone: str
    default_daily_time: time
    default_language: str
    # Woken whenever rows are queued, so the delivery task need not poll.
    outbox_changed: asyncio.Event
    # Counts changes to stored statements' texts, so a renderer's cache can tell.
    items_version: int
    _clock: Callable[[], datetime]
    # What inserting a row that names a missing row (a foreign key) raises.
    _FOREIGN_KEY_ERRORS: ClassVar[tuple[type[Exception], ...]]

    def now(self) -> datetime:
        return self._clock()

    def _write(self) -> AbstractAsyncContextManager[Tx]:
        """One write transaction, serialised with every other writer's."""
        raise NotImplementedError

    async def _fetchone(self, sql: str, params: Any = ()) -> RowLike | None:
        raise NotImplementedError

    async def _fetchall(self, sql: str, params: Any = ()) -> Sequence[RowLike]:
        raise NotImplementedError

    async def _claim(self, sql: str, params: Any) -> Sequence[RowLike]:
        """One statement claiming or confirming outbox rows, committed at once (on
        PostgreSQL, on the leader's lock session: a lost leadership cannot claim)."""
        raise NotImplementedError

    def _in_list(self, column: str, param: str) -> str:
        """SQL: `column` is one of the values passed as `:param` (`_list_param`)."""
        raise NotImplementedError

    def _list_param(self, values: Iterable[Any]) -> Any:
        raise NotImplementedError


class StoreCore(CoreBase):
    """The SQLite connection and the helpers every entity's methods use."""

    _FOREIGN_KEY_ERRORS = (sqlite3.IntegrityError,)

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        # Any aware-datetime source; tests pass one they move.
        clock: Callable[[], datetime] = _system_clock,
        default_timezone: str = "Europe/London",
        default_daily_time: time = time(9, 0),
        default_language: str = "en",
    ) -> None:
        self._conn = conn
        self._tx = SqliteTx(conn)
        self._clock = clock
        self._lock = asyncio.Lock()
        self.default_timezone = default_timezone
        self.default_daily_time = default_daily_time
        self.default_language = default_language
        self.outbox_changed = asyncio.Event()
        self.items_version = 0
        # A second connection for delivery's one-statement writes; see _write_statement.
        self._fast: sqlite3.Connection | None = None

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[SqliteTx]:
        """One `BEGIN IMMEDIATE` transaction; the lock keeps other tasks' statements out."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._tx
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

    def _in_list(self, column: str, param: str) -> str:
        # One statement whatever the number of values, and no limit on host parameters.
        return f"{column} IN (SELECT value FROM json_each(:{param}))"

    def _list_param(self, values: Iterable[Any]) -> str:
        return json.dumps(list(values))

    async def _write_statement(self, sql: str, params: Sequence[Any]) -> list[aiosqlite.Row]:
        """One statement as its own (autocommit) transaction, for delivery's path,
        where it runs once per message.

        When no other connection is writing, it runs right here on the fast
        connection: a single-row update commits in well under a millisecond (WAL,
        synchronous=NORMAL, no checkpoint on that connection), and the trip to
        aiosqlite's thread would cost more than the statement. If SQLite is busy
        (another process writes), that connection does not wait (busy_timeout 0): the
        statement goes to aiosqlite's thread, which waits without blocking the loop.
        The lock keeps it out of this store's own open transactions."""
        async with self._lock:
            if self._fast is not None:
                try:
                    return self._fast.execute(sql, params).fetchall()
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
            return list(await self._conn.execute_fetchall(sql, params))

    _claim = _write_statement

    def _open_fast(self, path: str) -> None:
        fast = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        fast.row_factory = sqlite3.Row
        for pragma in (
            "PRAGMA busy_timeout = 0",
            "PRAGMA foreign_keys = ON",
            "PRAGMA synchronous = NORMAL",
            # Checkpoints (which may fsync) stay on the aiosqlite connection's thread.
            "PRAGMA wal_autocheckpoint = 0",
        ):
            fast.execute(pragma)
        self._fast = fast

    def _close_fast(self) -> None:
        if self._fast is not None:
            self._fast.close()
            self._fast = None


def _feed(row: RowLike) -> Feed:
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
        ttl_seconds=None if row["ttl_seconds"] is None else int(row["ttl_seconds"]),
        kind="page" if row["kind"] == "page" else "feed",
        selectors=row["selectors"],
        language=row["language"],
        detected_signature=row["detected_signature"],
        detected_items=None if row["detected_items"] is None else int(row["detected_items"]),
    )


def _item(row: RowLike) -> Item:
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


def _outbox(row: RowLike, default_timezone: str = "UTC") -> OutboxRow:
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
        alert_query=row["alert_query"] if "alert_query" in keys else None,
        send_to=row["send_to"] if "send_to" in keys else None,
        chat_language=row["chat_language"] if "chat_language" in keys else None,
        thread_id=row["thread_id"] if "thread_id" in keys else None,
        edit_of=row["edit_of"],
    )

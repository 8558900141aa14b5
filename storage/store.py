"""The one store: every read and write of the bot's state goes through `Store`.

SQLite through aiosqlite, one connection per process, in autocommit mode with
explicit `BEGIN IMMEDIATE` transactions for every write. Deduplication is the
database's job: unique keys decide what is new.

The methods live in one mixin per entity: storage/_feeds.py, _items.py (stored
statements and search; their stems in _stems.py), _chats.py (with subscriptions
and channels), _outbox.py, _daily.py (with counters), _stats.py and
_summaries.py (summaries recomputed after an upgrade), over the
shared storage/_core.py; PostgreSQL's PgStore (storage/postgres/store.py) runs the
same mixins, overriding only what its dialect does differently. This module
assembles them and holds what concerns the
file itself: opening, migrating (with the stems of statements stored without
them), checking and backing it up. Each constant is read where it is used:
a test that changes `SEARCH_WINDOW` patches `storage._items`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path

import aiosqlite

from storage._alerts import MAX_ALERTS
from storage._chats import Channel
from storage._core import SqliteTx, StoreCore, _system_clock
from storage._feeds import FAILURE_ALERT_THRESHOLD, FailureOutcome, FeedStatus
from storage._items import (
    DIGEST_THRESHOLD,
    SEARCH_WINDOW,
    STALE_AFTER,
    PollOutcome,
)
from storage._stats import Stats
from storage._stems import index_word_forms
from storage._summaries import StoredSummary, SummaryChange
from storage.api import StoreAPI
from storage.errors import (
    DatabaseCorruptError,
    DatabaseLockedError,
    DatabaseTooNewError,
    StorageError,
)
from storage.schema import LATEST_VERSION, MIGRATIONS, STEMS_VERSION

__all__ = [
    "DIGEST_THRESHOLD",
    "FAILURE_ALERT_THRESHOLD",
    "MAX_ALERTS",
    "SEARCH_WINDOW",
    "STALE_AFTER",
    "Channel",
    "FailureOutcome",
    "FeedStatus",
    "PollOutcome",
    "Stats",
    "Store",
    "StoredSummary",
    "SummaryChange",
    "apply_migrations",
]

log = logging.getLogger(__name__)

# Statements stemmed in one transaction when an older database is brought up to date.
STEM_BATCH = 500


class Store(StoreAPI, StoreCore):
    """All of Communique's state, in one SQLite file."""

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        clock: Callable[[], datetime] = _system_clock,
        default_timezone: str = "Europe/London",
        default_daily_time: time = time(9, 0),
        default_language: str = "en",
        migrate: bool = True,
    ) -> Store:
        """Open (creating if needed) the database and bring its schema up to date."""
        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                # Tried here first, without a thread: aiosqlite's worker thread, when
                # the file cannot be opened, outlives the error and trips over the
                # closed event loop on the way out.
                sqlite3.connect(str(path)).close()
            conn = await aiosqlite.connect(str(path), isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(
                f"cannot open the database {path}: {getattr(exc, 'strerror', None) or exc};"
                " check DATABASE_PATH, that its folder exists or can be made, and its"
                " permissions"
            ) from exc
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA busy_timeout = 10000")
            await conn.execute("PRAGMA foreign_keys = ON")
            # The version and the tables read in one snapshot: another process may
            # be creating this same new file, and between two separate reads our
            # own first migration would look like another program's tables.
            await conn.execute("BEGIN")
            try:
                version = await _user_version(conn)
                if version == 0:
                    await _refuse_foreign_tables(conn, path)
            finally:
                await conn.execute("COMMIT")
            if version > LATEST_VERSION:
                raise DatabaseTooNewError(version, LATEST_VERSION)
            await _use_wal(conn)
            await conn.execute("PRAGMA synchronous = NORMAL")
            if migrate:
                await apply_migrations(conn)
        except sqlite3.DatabaseError as exc:
            await conn.close()
            if isinstance(exc, sqlite3.OperationalError) and (
                "readonly" in str(exc) or "unable to open" in str(exc)
            ):
                raise StorageError(
                    f"cannot write to the database {path} (SQLite says: {exc}); check the"
                    " permissions of the file and its folder, or set DATABASE_PATH"
                ) from exc
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
        store = cls(
            conn,
            clock=clock,
            default_timezone=default_timezone,
            default_daily_time=default_daily_time,
            default_language=default_language,
        )
        if migrate and str(path) != ":memory:":
            store._open_fast(str(path))
        return store

    async def close(self) -> None:
        async with self._lock:
            self._close_fast()
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


async def _refuse_foreign_tables(conn: aiosqlite.Connection, path: str | Path) -> None:
    """A file with no schema version but with tables belongs to another program:
    adding ours to it (and switching it to WAL) would change someone else's data."""
    rows = await conn.execute_fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name LIMIT 4"
    )
    names = [str(row[0]) for row in rows]
    if names:
        shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
        raise StorageError(
            f"not a Communique database: {path} holds another program's tables ({shown});"
            " it was left as it is, set DATABASE_PATH to another file"
        )


async def apply_migrations(conn: aiosqlite.Connection, *, target: int = LATEST_VERSION) -> int:
    """Apply pending migrations up to `target`, each with its version bump in one
    transaction, then stem the statements that have no stems yet. Returns the
    version reached."""
    while True:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            # Read under the write lock: another process may have migrated meanwhile.
            version = await _user_version(conn)
            if version > LATEST_VERSION:
                raise DatabaseTooNewError(version, LATEST_VERSION)
            if version >= target:
                await conn.execute("COMMIT")
                break
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
    if version >= STEMS_VERSION:
        await _stem_in_batches(conn)
    return version


async def _stem_in_batches(conn: aiosqlite.Connection) -> None:
    """Stem the statements stored without stems: every one, after migration 7 on
    an older database, or any row another program wrote straight into the table.

    Stems need Python, so this cannot be SQL in the migration. Each batch is its own
    transaction: a crash leaves every statement either stemmed and indexed or as it
    was (found by words as written, by phrases and prefixes), and the next start
    goes on where this one stopped. Until then a word search misses the rest."""
    rows = await conn.execute_fetchall("SELECT COUNT(*) FROM items WHERE title_stems IS NULL")
    pending = int(next(iter(rows))[0])
    if not pending:
        return
    log.info("indexing the word forms of %d statements", pending)
    batch = STEM_BATCH
    done = 0
    while True:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            stemmed = await index_word_forms(SqliteTx(conn), limit=batch)
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")
        done += stemmed
        if stemmed < batch:
            break
        if done % (batch * 100) == 0:
            log.info("indexed the word forms of %d of %d statements", done, pending)
    log.info("indexed the word forms of %d statements", done)


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

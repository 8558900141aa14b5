"""The store on PostgreSQL: the same API as storage/store.py's `Store`, over one
database that several instances may share (one leads, storage/postgres/leader.py).

Opening connects, refuses a database that holds another program's tables or was
migrated by a newer Communique, and applies the pending migrations, each with its
version bump in one transaction under an advisory lock, so two instances starting
at once migrate it once. Statements stored without their search index (copied by
another program) are indexed after the migrations, in batches, as on SQLite.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path

import psycopg

from storage._core import _system_clock
from storage.api import StoreAPI
from storage.database_url import mask
from storage.errors import DatabaseTooNewError, StorageError
from storage.postgres._core import (
    LOCK_NAMESPACE,
    Conn,
    PgStoreCore,
    connect,
    fetchone,
    tables_shown,
)
from storage.postgres._daily import PgDailyMixin
from storage.postgres._index import index_word_forms
from storage.postgres._items import PgItemsMixin
from storage.postgres._outbox import PgOutboxMixin
from storage.postgres._summaries import PgSummariesMixin
from storage.postgres.schema import LATEST_VERSION, MIGRATIONS, STEMS_VERSION

log = logging.getLogger("storage.store")

MIGRATE = 3  # the advisory lock key of migrations (see storage/postgres/_core.py)
INDEX_BATCH = 500


class PgStore(PgItemsMixin, PgOutboxMixin, PgDailyMixin, PgSummariesMixin, StoreAPI, PgStoreCore):
    """All of Communique's state, in one PostgreSQL database."""

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        clock: Callable[[], datetime] = _system_clock,
        default_timezone: str = "Europe/London",
        default_daily_time: time = time(9, 0),
        default_language: str = "en",
        migrate: bool = True,
    ) -> PgStore:
        """Connect and bring the schema up to date. Errors never show the password."""
        try:
            conn = await connect(url)
        except psycopg.Error as exc:
            raise StorageError(connection_error(url, exc)) from None
        try:
            read = await connect(url)
        except psycopg.Error as exc:
            await conn.close()
            raise StorageError(connection_error(url, exc)) from None
        try:
            key = await lock_key(conn)
            version = await _version(conn)
            if version is None:
                await _refuse_foreign_tables(conn, url)
            elif version > LATEST_VERSION:
                raise DatabaseTooNewError(version, LATEST_VERSION)
            if migrate:
                await apply_migrations(conn, key)
        except psycopg.Error as exc:
            await conn.close()
            await read.close()
            raise StorageError(f"cannot use the database {mask(url)}: {exc}") from None
        except BaseException:
            await conn.close()
            await read.close()
            raise
        return cls(
            conn,
            read,
            clock=clock,
            default_timezone=default_timezone,
            default_daily_time=default_daily_time,
            default_language=default_language,
            lock_key=key,
        )

    @property
    def lock_key(self) -> int:
        """This database's (and schema's) second advisory-lock key."""
        return self._lock_key

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()
            await self._read.close()

    async def schema_version(self) -> int:
        return await _version(self._read) or 0

    async def integrity_check(self) -> str:
        """PostgreSQL keeps its own pages whole; what can go wrong here is a row we
        could not index: say so, or "ok"."""
        row = await self._fetchone(
            "SELECT COUNT(*) AS n FROM items WHERE title_stems IS NULL OR search_words IS NULL"
        )
        missing = int(row["n"]) if row else 0
        return "ok" if not missing else f"{missing} statement(s) not indexed for search"

    async def backup_to(self, target: str | Path) -> None:
        raise StorageError(
            "communique backup copies a SQLite file; back PostgreSQL up with its own tools"
            " (pg_dump, or the server's backups)"
        )


def connection_error(url: str, exc: BaseException) -> str:
    # libpq's messages name the host and user, never the password; the URL is masked.
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return (
        f"cannot connect to the database {mask(url)} ({reason}); check DATABASE_URL and"
        " that the server is up"
    )


async def lock_key(conn: Conn) -> int:
    row = await fetchone(conn, "SELECT hashtext(current_schema()) AS key")
    return int(row["key"]) if row else 0


async def _version(conn: Conn) -> int | None:
    """The schema version; None when there is no version table (a new database)."""
    # A scan of the catalog, not to_regclass: the scan sees a table another instance
    # has just committed, where the cached lookup may not yet (no relation lock taken).
    row = await fetchone(
        conn,
        "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema()"
        " AND tablename = 'schema_version') AS found",
    )
    if row is None or not row["found"]:
        return None
    found = await fetchone(conn, "SELECT version FROM schema_version")
    return int(found["version"]) if found else 0


async def _refuse_foreign_tables(conn: Conn, url: str) -> None:
    """A database without our version table but with tables belongs to someone else."""
    shown = await tables_shown(conn)
    if shown:
        raise StorageError(
            f"not a Communique database: {mask(url)} holds another program's tables ({shown});"
            " it was left as it is, set DATABASE_URL to another database (or schema)"
        )


async def apply_migrations(conn: Conn, key: int, *, target: int = LATEST_VERSION) -> int:
    """Apply pending migrations up to `target`, each with its version bump in one
    transaction, then index the statements that have no index. Returns the version."""
    while True:
        async with conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(%(ns)s, %(key)s)",
                {"ns": LOCK_NAMESPACE + MIGRATE, "key": key},
            )
            # Read under the lock: another instance may have migrated meanwhile.
            version = await _version(conn) or 0
            if version > LATEST_VERSION:
                raise DatabaseTooNewError(version, LATEST_VERSION)
            if version >= target:
                break
            await conn.execute(MIGRATIONS[version])
            await conn.execute("UPDATE schema_version SET version = %(v)s", {"v": version + 1})
        log.info("database migrated to schema version %d", version + 1)
    if version >= STEMS_VERSION:
        await _index_in_batches(conn, key)
    return version


async def _index_in_batches(conn: Conn, key: int) -> None:
    """Index the statements stored without an index, a batch per transaction, so an
    interrupted start goes on where it stopped."""
    row = await fetchone(conn, "SELECT COUNT(*) AS n FROM items WHERE title_stems IS NULL")
    pending = int(row["n"]) if row else 0
    if not pending:
        return
    log.info("indexing the word forms of %d statements", pending)
    done = 0
    while True:
        async with conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(%(ns)s, %(key)s)",
                {"ns": LOCK_NAMESPACE + 1, "key": key},
            )
            indexed = await index_word_forms(conn, limit=INDEX_BATCH)
        done += indexed
        if indexed < INDEX_BATCH:
            break
    log.info("indexed the word forms of %d statements", done)

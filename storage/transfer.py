"""`communique migrate-db --to URL`: a SQLite database copied into an empty
PostgreSQL database, table by table, with progress, and the counts verified.

The source is brought to the latest schema first (as `run` would) and the target
is created at the same version, so every column has its place on both sides.
Rows are copied as they are, ids included (the identity sequences then continue
after the highest), the outbox with its states; statements with their stems (made
again by the same stemmer, so rows stored without them get them too) and the
tsvectors built from them (storage/postgres/search.py). A target that holds
anything at all is refused, and so is a source a running bot holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from storage.database_url import mask
from storage.errors import StorageError
from storage.postgres._core import Conn, connect, fetchone, tables_shown
from storage.postgres._index import index_statements
from storage.postgres.store import PgStore, connection_error
from storage.store import Store

# Every table of ours, parents before the tables that refer to them. A table the
# SQLite schema gains must be added here (tests/storage/test_transfer.py checks).
TABLES = (
    "feeds",
    "items",
    "chats",
    "subscriptions",
    "channels",
    "counters",
    "counter_texts",
    "outbox",
    "daily_sends",
    "filters",
    "alerts",
    "digest_releases",
    "matcher_version",
)
# SQLite's own, and the search indexes (PostgreSQL builds its own from the rows).
NOT_COPIED_PREFIXES = ("sqlite_", "items_fts")
BATCH = 2000

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Copied:
    table: str
    source: int  # rows in the SQLite database
    target: int  # rows in the PostgreSQL database after the copy

    @property
    def ok(self) -> bool:
        return self.source == self.target


async def copy_to_postgres(
    path: Path, url: str, *, progress: Progress | None = None
) -> list[Copied]:
    """Copy the SQLite database at `path` into the empty PostgreSQL database at
    `url` (the caller checks the file is there); returns each table's counts on
    both sides. Raises StorageError."""
    report = progress or (lambda table, done, total: None)
    try:
        target = await connect(url)
    except Exception as exc:
        raise StorageError(connection_error(url, exc)) from None
    try:
        await _refuse_non_empty(target, url)
    finally:
        await target.close()
    source = await Store.open(path)  # brought to the latest schema
    await source.close()
    store = await PgStore.open(url)  # created at the same version
    await store.close()
    db = await aiosqlite.connect(str(path))
    target = await connect(url)
    try:
        await _refuse_unknown_tables(db)
        copied: list[Copied] = []
        async with target.transaction():
            for table in TABLES:
                total = await _count_sqlite(db, table)
                await _copy_table(db, target, table, total, report)
            await _continue_sequences(target)
        for table in TABLES:
            row = await fetchone(target, f"SELECT COUNT(*) AS n FROM {table}")
            copied.append(
                Copied(table, await _count_sqlite(db, table), int(row["n"]) if row else 0)
            )
        return copied
    finally:
        await db.close()
        await target.close()


async def _refuse_non_empty(target: Conn, url: str) -> None:
    shown = await tables_shown(target)
    if shown:
        raise StorageError(
            f"the database {mask(url)} is not empty ({shown}); migrate-db copies into an"
            " empty database only, so that nothing there is mixed with the copy"
        )


async def _refuse_unknown_tables(db: aiosqlite.Connection) -> None:
    rows = await db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    names = {str(r[0]) for r in rows if not str(r[0]).startswith(NOT_COPIED_PREFIXES)}
    unknown = sorted(names - set(TABLES))
    if unknown:
        raise StorageError(f"this Communique cannot copy the tables {', '.join(unknown)}")


async def _count_sqlite(db: aiosqlite.Connection, table: str) -> int:
    rows = await db.execute_fetchall(f"SELECT COUNT(*) FROM {table}")
    return int(next(iter(rows))[0])


async def _columns(db: aiosqlite.Connection, table: str) -> list[str]:
    rows = await db.execute_fetchall(f"PRAGMA table_info({table})")
    return [str(r[1]) for r in rows]


async def _copy_table(
    db: aiosqlite.Connection, target: Conn, table: str, total: int, report: Progress
) -> None:
    columns = await _columns(db, table)
    if table == "matcher_version":
        # The target made its row; its count of changes carries on from the source's.
        await target.execute("DELETE FROM matcher_version")
    extra = ["search_words", "search_stems"] if table == "items" else []
    names = ", ".join(columns + extra)
    done = 0
    report(table, 0, total)
    async with target.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        async with db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1") as rows:
            while batch := list(await rows.fetchmany(BATCH)):
                values = [tuple(r) for r in batch]
                if table == "items":
                    values = await _with_index(columns, values)
                for value in values:
                    await copy.write_row(value)
                done += len(values)
                report(table, done, total)


async def _with_index(columns: Sequence[str], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Statements with their stems (made where the source has none) and tsvectors."""
    at = {name: i for i, name in enumerate(columns)}
    indexed = await index_statements(
        [(str(r[at["title"]]), str(r[at["summary"]]), str(r[at["content"]])) for r in rows]
    )
    out: list[tuple[Any, ...]] = []
    for row, (stemmed, vectors) in zip(rows, indexed, strict=True):
        values = list(row)
        values[at["title_stems"]], values[at["summary_stems"]], values[at["content_stems"]] = (
            stemmed
        )
        out.append((*values, vectors.words, vectors.stems))
    return out


async def _continue_sequences(target: Conn) -> None:
    """Ids given out from now on follow the highest copied one."""
    for table in ("feeds", "items", "outbox", "counters", "filters", "alerts"):
        await target.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" GREATEST((SELECT MAX(id) FROM {table}), 1), (SELECT COUNT(*) > 0 FROM {table}))"
        )

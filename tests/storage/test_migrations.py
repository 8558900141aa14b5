"""The schema and its migrations: every column documented, old databases upgraded
without losing a row, newer or damaged files refused without being touched, and the
connection set up safely (WAL, foreign keys, busy timeout)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from storage.errors import DatabaseCorruptError, DatabaseTooNewError
from storage.schema import LATEST_VERSION, MIGRATIONS
from storage.store import Store, apply_migrations

NOW = datetime(2021, 12, 3, 4, 30, tzinfo=UTC)
T = NOW.timestamp()


def _fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def _siblings(path: Path) -> set[str]:
    return {p.name for p in path.parent.iterdir()}


# --------------------------------------------------------------------- the schema


def _latest_schema() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for script in MIGRATIONS:
        conn.executescript(script)
    return conn


def test_every_column_of_every_table_has_a_comment() -> None:
    conn = _latest_schema()
    tables = [
        name
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        # FTS5's own shadow tables are not ours to document.
        if not name.startswith("items_fts_")
    ]
    assert {"feeds", "items", "chats", "subscriptions", "outbox", "counters"} <= set(tables)
    assert "daily_sends" in tables
    source = "\n".join(MIGRATIONS)
    undocumented: list[str] = []
    for table in tables:
        body = re.search(rf"CREATE (?:VIRTUAL )?TABLE {table}\b.*?\n(.*?)\n\s*\)", source, re.S)
        assert body is not None, table
        lines = body.group(1).splitlines()
        # Columns added later: the line after ALTER TABLE ... ADD COLUMN.
        lines += re.findall(rf"ALTER TABLE {table} ADD COLUMN\s*\n?(.*)", source)
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        assert columns, table
        for column in columns:
            line = next(
                (ln for ln in lines if re.search(rf"(^|[\s,]){column}\b", ln.split("--")[0])),
                None,
            )
            if line is None or not re.search(r"--\s*\S", line):
                undocumented.append(f"{table}.{column}")
    assert undocumented == []


def test_the_schema_has_the_keys_that_make_statements_unique() -> None:
    conn = _latest_schema()

    def unique_sets(table: str) -> set[tuple[str, ...]]:
        found = set()
        for _, name, unique, *_ in conn.execute(f"PRAGMA index_list({table})"):
            if unique:
                cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({name})"))
                found.add(cols)
        return found

    assert ("feed_id", "identity") in unique_sets("items")
    assert ("chat_id", "item_id") in unique_sets("outbox")
    assert ("url",) in unique_sets("feeds")
    assert ("chat_id", "local_date") in unique_sets("daily_sends")


# ------------------------------------------------------------------ the migrations


async def _version_1_with_data(path: Path) -> None:
    """A database as the first release left it, with a little of everything."""
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        assert await apply_migrations(conn, target=1) == 1
        await conn.executescript(
            f"""
            INSERT INTO feeds (id, url, title, etag, last_modified, last_success_at,
                               created_at)
            VALUES (1, 'https://mfa.example/rss', 'Ministry', '"abc"',
                    'Fri, 03 Dec 2021 04:00:00 GMT', {T}, {T}),
                   (2, 'https://embassy.example/atom', 'Embassy', NULL, NULL, NULL, {T});
            INSERT INTO items (id, feed_id, identity, guid, link, title, summary, content,
                               published_at, first_seen_at, updated_at)
            VALUES (1, 1, 'id-1', 'g1', 'https://mfa.example/1', 'Salisbury statement',
                    'On the café incident', 'Full text about Salisbury', {T}, {T}, {T}),
                   (2, 1, 'id-2', 'g2', 'https://mfa.example/2', 'Glushkov',
                    'Anniversary', 'Nikolay Glushkov remembered', {T - 60}, {T}, {T}),
                   (3, 2, 'id-3', NULL, 'https://embassy.example/3', 'Visa rules',
                    'New rules', 'Consular section hours', {T - 120}, {T}, {T});
            INSERT INTO chats (id, type, title, timezone, daily_time, daily_enabled,
                               active, inactive_reason, created_at)
            VALUES (2002, 'private', 'User', 'Europe/Moscow', '07:30', 1, 1, NULL, {T}),
                   (-100, 'group', 'Group', NULL, NULL, 0, 0, 'blocked', {T});
            INSERT INTO subscriptions (chat_id, feed_id, created_at)
            VALUES (2002, 1, {T}), (2002, 2, {T}), (-100, 1, {T});
            INSERT INTO outbox (id, chat_id, kind, item_id, state, attempts, message_id,
                                created_at, finished_at)
            VALUES (1, 2002, 'item', 1, 'sent', 1, 77, {T}, {T}),
                   (2, 2002, 'item', 2, 'pending', 0, NULL, {T}, NULL),
                   (3, -100, 'item', 1, 'cancelled', 0, NULL, {T}, {T});
            """
        )
    finally:
        await conn.close()


def _dump(
    path: Path, tables: list[str], columns: dict[str, list[str]] | None = None
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of `tables`, in the given `columns` (default: all of them), sorted."""
    conn = sqlite3.connect(path)
    try:
        dump: dict[str, list[tuple[object, ...]]] = {}
        for t in tables:
            names = ", ".join(columns[t]) if columns else "*"
            dump[t] = sorted(conn.execute(f"SELECT {names} FROM {t}"), key=repr)
        return dump
    finally:
        conn.close()


def _columns(path: Path, tables: list[str]) -> dict[str, list[str]]:
    conn = sqlite3.connect(path)
    try:
        return {t: [row[1] for row in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    finally:
        conn.close()


async def test_a_version_1_database_with_data_migrates_to_the_latest_losing_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    await _version_1_with_data(path)
    tables = ["feeds", "items", "chats", "subscriptions", "outbox"]
    columns = _columns(path, tables)
    before = _dump(path, tables, columns)
    assert sum(len(rows) for rows in before.values()) == 13

    store = await Store.open(path, clock=lambda: NOW)
    try:
        assert await store.schema_version() == LATEST_VERSION
        assert await store.integrity_check() == "ok"
        # What the first release stored reads back through today's API...
        feed = await store.get_feed(1)
        assert (feed.title, feed.etag, feed.last_modified) == (
            "Ministry",
            '"abc"',
            "Fri, 03 Dec 2021 04:00:00 GMT",
        )
        # Sources from before web pages were followed are feeds (migration 10).
        assert (feed.kind, feed.selectors, feed.detected_items) == ("feed", None, None)
        assert await store.subscriptions(2002) == {1, 2}
        chat = await store.get_chat(-100)
        assert (chat.active, chat.inactive_reason, chat.daily_enabled) == (
            False,
            "blocked",
            False,
        )
        assert [r.id for r in await store.pending_outbox()] == [2]
        # ...and the search index added later was filled from the old statements.
        hits = await store.search("salisbury")
        assert [h.item.id for h in hits] == [1]
        assert [h.item.id for h in await store.search("cafe")] == [1]
        assert [h.item.id for h in await store.search("consular")] == [3]
        # New tables work on the old data.
        await store.add_counter(datetime(2018, 3, 4).date(), "Europe/Moscow", "{days} days")
        assert len(await store.list_counters()) == 1
    finally:
        await store.close()
    # Every value of every column the first release had is still there.
    assert _dump(path, tables, columns) == before


async def test_each_migration_bumps_the_version_with_its_changes(tmp_path: Path) -> None:
    path = tmp_path / "steps.sqlite3"
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        for version in range(1, LATEST_VERSION + 1):
            assert await apply_migrations(conn, target=version) == version
            async with conn.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
            assert row is not None and row[0] == version
        # Nothing left to do is a no-op.
        assert await apply_migrations(conn) == LATEST_VERSION
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_the_old_version_and_no_half_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "half.sqlite3"
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        await apply_migrations(conn, target=1)
        broken = [*MIGRATIONS[:1], "CREATE TABLE half_done (x);\nTHIS IS NOT SQL;", *MIGRATIONS[2:]]
        monkeypatch.setattr("storage.store.MIGRATIONS", broken)
        with pytest.raises(sqlite3.OperationalError):
            await apply_migrations(conn, target=2)
        assert not conn.in_transaction
        async with conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] == 1
        async with conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'") as cur:
            assert await cur.fetchone() is None
    finally:
        await conn.close()


async def test_two_processes_opening_a_new_file_at_once_both_succeed(tmp_path: Path) -> None:
    # Each re-reads the version under the write lock, so the second does not rerun
    # a migration the first has just applied.
    for attempt in range(5):
        path = tmp_path / f"race-{attempt}.sqlite3"
        stores = await asyncio.gather(*(Store.open(path) for _ in range(3)))
        try:
            for store in stores:
                assert await store.schema_version() == LATEST_VERSION
        finally:
            for store in stores:
                await store.close()


async def test_a_database_newer_than_the_code_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    store = await Store.open(path)
    await store.add_feed("https://mfa.example/rss")
    await store.close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 3}")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    before, files = _fingerprint(path), _siblings(path)

    with pytest.raises(DatabaseTooNewError) as caught:
        await Store.open(path)

    message = str(caught.value)
    assert f"version {LATEST_VERSION + 3}" in message
    assert f"up to {LATEST_VERSION}" in message
    assert "upgrade" in message
    assert _fingerprint(path) == before
    # Not even switched to WAL: no -wal or -shm file appeared.
    assert _siblings(path) == files
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "zeroed header"],
)
async def test_a_damaged_file_gives_a_clear_error_and_is_not_modified(
    tmp_path: Path, damage: str
) -> None:
    path = tmp_path / "damaged.sqlite3"
    store = await Store.open(path)
    feed = await store.add_feed("https://mfa.example/rss")
    await store.upsert_chat(2002, "private", "User")
    await store.subscribe(2002, [feed.id])
    await store.close()
    good = path.read_bytes()
    assert len(good) > 8 * 4096
    if damage == "garbage":
        path.write_bytes(os.urandom(len(good)))
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    else:
        path.write_bytes(b"\0" * 100 + good[100:])
    before, files = _fingerprint(path), _siblings(path)

    with pytest.raises(DatabaseCorruptError) as caught:
        await Store.open(path)

    message = str(caught.value)
    assert str(path) in message
    assert "backup" in message
    assert _fingerprint(path) == before
    assert _siblings(path) == files


async def test_the_connection_is_set_up_for_safety(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "safe.sqlite3")
    try:
        conn = store._conn

        async def pragma(name: str) -> object:
            async with conn.execute(f"PRAGMA {name}") as cur:
                row = await cur.fetchone()
            assert row is not None
            return row[0]

        assert await pragma("journal_mode") == "wal"
        assert await pragma("foreign_keys") == 1
        assert int(str(await pragma("busy_timeout"))) >= 5000
        # Foreign keys are enforced, not merely declared.
        with pytest.raises(sqlite3.IntegrityError):
            await conn.execute(
                "INSERT INTO subscriptions (chat_id, feed_id, created_at) VALUES (1, 999, 0)"
            )
    finally:
        await store.close()


# ------------------------------------------------------------ search by word forms


async def _version_6_with_statements(path: Path, n: int) -> None:
    """A database as the release before word forms left it, with `n` statements."""
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        assert await apply_migrations(conn, target=6) == 6
        await conn.execute(
            "INSERT INTO feeds (id, url, title, created_at) VALUES (1, 'https://mfa.example/rss',"
            f" 'Ministry', {T})"
        )
        texts = [
            ("New sanction announced", "On the banks.", "Санкции против банков."),
            ("Комментарий", "Под санкциями три банка", "Ёлка в посольстве."),
            ("Visa rules", "Consular news.", "New visa rules apply."),
        ]
        await conn.executemany(
            "INSERT INTO items (id, feed_id, identity, title, summary, content, published_at,"
            " first_seen_at, updated_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)",
            [(i, f"id-{i}", *texts[(i - 1) % 3], T - i, T, T) for i in range(1, n + 1)],
        )
    finally:
        await conn.close()


async def _unstemmed(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(
            conn.execute("SELECT COUNT(*) FROM items WHERE title_stems IS NULL").fetchone()[0]
        )
    finally:
        conn.close()


async def test_a_version_6_database_is_searched_by_word_forms_once_opened(tmp_path: Path) -> None:
    path = tmp_path / "v6.sqlite3"
    await _version_6_with_statements(path, 3)
    store = await Store.open(path, clock=lambda: NOW)
    try:
        assert await store.schema_version() == LATEST_VERSION
        assert [h.item.id for h in await store.search("sanctions")] == [1]
        assert [h.item.id for h in await store.search("санкция")] == [2, 1]
        assert [h.item.id for h in await store.search("елка")] == [2]
        assert [h.item.id for h in await store.search('"visa rules" rule')] == [3]
        # Phrases still match the words as written.
        assert await store.search('"visa rule"') == []
        hits = await store.search("санкции", marks=("[", "]"))
        assert "[санкциями]" in hits[0].snippet
        assert await store.integrity_check() == "ok"
        await store._conn.execute(
            "INSERT INTO items_fts_stems (items_fts_stems) VALUES ('integrity-check')"
        )
    finally:
        await store.close()
    assert await _unstemmed(path) == 0


class Crash(Exception):
    """The process dying: nothing after it runs."""


async def test_stemming_after_the_migration_goes_in_batches_and_resumes_after_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage._stems as stems_module
    import storage.store as store_module

    path = tmp_path / "crash.sqlite3"
    await _version_6_with_statements(path, 30)
    monkeypatch.setattr(store_module, "STEM_BATCH", 7)
    real = stems_module.stem_texts
    calls = 0

    async def dies_on_the_third_batch(texts: list[tuple[str, str, str]]) -> list[tuple[str, ...]]:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise Crash
        return await real(texts)

    monkeypatch.setattr(stems_module, "stem_texts", dies_on_the_third_batch)
    with pytest.raises(Crash):
        await Store.open(path, clock=lambda: NOW)
    # The schema is the new one; the first two batches are in, the third rolled back.
    assert await _unstemmed(path) == 30 - 14
    monkeypatch.setattr(stems_module, "stem_texts", real)
    store = await Store.open(path, clock=lambda: NOW)
    try:
        assert await store.search_count("sanctions") == 10
        assert await store.search_count("санкция") == 20
    finally:
        await store.close()
    assert await _unstemmed(path) == 0


async def test_a_statement_another_program_wrote_is_stemmed_at_the_next_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "foreign.sqlite3"
    store = await Store.open(path, clock=lambda: NOW)
    feed = await store.add_feed("https://mfa.example/rss")
    await store.close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO items (feed_id, identity, title, summary, content, published_at,"
        " first_seen_at, updated_at) VALUES (?, 'x', 'Sanctioned banks', '', '', 0, 0, 0)",
        [feed.id],
    )
    conn.commit()
    conn.close()
    store = await Store.open(path, clock=lambda: NOW)
    try:
        assert len(await store.search("sanctions")) == 1
    finally:
        await store.close()

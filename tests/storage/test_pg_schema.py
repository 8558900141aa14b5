"""The PostgreSQL schema: in step with SQLite's (the same versions, one for one),
every column documented, a new database migrated once however many instances open
it at once, a newer or foreign database refused untouched, and no password in any
error."""

from __future__ import annotations

import asyncio
import re

import psycopg
import pytest

from storage import schema as sqlite_schema
from storage.errors import DatabaseTooNewError, StorageError
from storage.postgres import schema as pg_schema
from storage.postgres.store import PgStore
from tests.support.postgres import PostgresServer


def test_both_backends_have_the_same_schema_versions() -> None:
    # A migration added to one backend must be ported to the other in the same change.
    assert pg_schema.LATEST_VERSION == sqlite_schema.LATEST_VERSION
    assert len(pg_schema.MIGRATIONS) == len(sqlite_schema.MIGRATIONS)
    assert pg_schema.STEMS_VERSION == sqlite_schema.STEMS_VERSION


def test_each_migration_says_which_sqlite_migration_it_ports() -> None:
    source = (pg_schema.__file__ and open(pg_schema.__file__, encoding="utf-8").read()) or ""
    numbers = [int(n) for n in re.findall(r"^    # (\d+):", source, re.M)]
    assert numbers == list(range(1, pg_schema.LATEST_VERSION + 1))


async def test_every_column_of_every_table_has_a_comment(pg_url: str) -> None:
    store = await PgStore.open(pg_url)
    await store.close()
    source = "\n".join(pg_schema.MIGRATIONS)
    with psycopg.connect(pg_url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public'"
        ).fetchall()
    assert len(columns) > 60
    undocumented = []
    for table, column in columns:
        lines = [
            ln
            for ln in source.splitlines()
            if re.search(rf"(^|[\s,(]){column}\b", ln.split("--")[0]) and "--" in ln
        ]
        if not lines:
            undocumented.append(f"{table}.{column}")
    assert undocumented == []


async def test_a_new_database_is_migrated_once_by_instances_opening_it_at_once(
    pg_url: str,
) -> None:
    stores = await asyncio.gather(*(PgStore.open(pg_url) for _ in range(4)))
    try:
        assert {await s.schema_version() for s in stores} == {pg_schema.LATEST_VERSION}
        with psycopg.connect(pg_url) as conn:
            assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone() == (1,)
    finally:
        for store in stores:
            await store.close()


async def test_a_database_newer_than_the_code_is_refused_and_left_alone(pg_url: str) -> None:
    store = await PgStore.open(pg_url)
    await store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(DatabaseTooNewError, match="version 99"):
        await PgStore.open(pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchone() == (99,)


async def test_another_programs_database_is_refused_untouched(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(StorageError, match=r"another program's tables \(invoices\)"):
        await PgStore.open(pg_url)
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    assert tables == [("invoices",)]


@pytest.mark.parametrize(
    "change",
    [
        lambda url: url.replace("@127.0.0.1", "@127.0.0.2").replace(":5", ":1"),  # nobody there
        lambda url: re.sub(r":([0-9a-f]{24})@", r":\1wrong@", url),  # a wrong password
        lambda url: url.rsplit("/", 1)[0] + "/no_such_database",
    ],
)
async def test_a_connection_error_names_the_database_without_its_password(
    postgres_server: PostgresServer, change: object
) -> None:
    url = change(postgres_server.url("postgres"))  # type: ignore[operator]
    with pytest.raises(StorageError) as caught:
        await PgStore.open(url)
    message = str(caught.value)
    assert postgres_server.password not in message
    assert "***" in message and "DATABASE_URL" in message

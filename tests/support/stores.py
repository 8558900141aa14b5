"""The store on both backends, for the contract tests in tests/storage.

``backend`` is "sqlite" or "postgres" (a test that takes it, or ``open_store``,
runs once per backend); ``open_store(name, **options)`` opens a new store on this
test's backend: a SQLite file in the test's folder, or a fresh PostgreSQL database
on the session's server (tests/support/postgres.py). ``sql(store, query)`` reads
rows with plain SQL that both backends understand (positional ``?`` parameters),
for checks the API does not offer.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from storage.api import StoreAPI
from storage.api import open_store as open_any

BACKENDS = ["sqlite", "postgres"]

Opener = Callable[..., Awaitable[StoreAPI]]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def open_store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Opener]:
    """Opens stores on this test's backend; closes what is left open at the end."""
    opened: list[StoreAPI] = []

    async def opener(name: str = "store", **options: Any) -> StoreAPI:
        if backend == "postgres":
            server = request.getfixturevalue("postgres_server")
            store = await open_any(path=tmp_path / "unused", url=server.new_database(), **options)
        else:
            store = await open_any(path=tmp_path / f"{name}.sqlite3", **options)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        try:
            await store.close()
        except Exception:  # closed by the test already
            pass


def is_postgres(store: StoreAPI) -> bool:
    return type(store).__name__ == "PgStore"


async def sql(store: StoreAPI, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a plain SQL query (``?`` placeholders) on either backend."""
    if is_postgres(store):
        text = re.sub(r"\?", "%s", query)
        cur = await store._read.execute(text, params)  # type: ignore[attr-defined]
        return [tuple(r.values()) for r in await cur.fetchall()]
    rows = await store._conn.execute_fetchall(query, params)  # type: ignore[attr-defined]
    return [tuple(r) for r in rows]


async def execute(store: StoreAPI, query: str, params: tuple[Any, ...] = ()) -> None:
    """One write outside the API (``?`` placeholders), committed, on either backend."""
    if is_postgres(store):
        await store._conn.execute(re.sub(r"\?", "%s", query), params)  # type: ignore[attr-defined]
    else:
        await store._conn.execute(query, params)  # type: ignore[attr-defined]


class InjectedFailure(Exception):
    """What a statement refused by `failing` raises, on either backend."""


@contextlib.asynccontextmanager
async def failing(
    store: StoreAPI, when: str, table: str, condition: str = "true"
) -> AsyncIterator[type[BaseException] | tuple[type[BaseException], ...]]:
    """A trigger that fails `when` ("AFTER INSERT", "BEFORE DELETE") on `table` for
    rows meeting `condition` (standing in for a full disk); yields what it raises."""
    if is_postgres(store):
        import psycopg

        body = (
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF {condition} THEN RAISE EXCEPTION 'refused'; END IF;"
            f" RETURN {'OLD' if 'DELETE' in when else 'NEW'}; END $$"
        )
        await store._conn.execute(body)  # type: ignore[attr-defined]
        await store._conn.execute(  # type: ignore[attr-defined]
            f"CREATE TRIGGER refuse {when} ON {table} FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
        try:
            yield psycopg.errors.RaiseException
        finally:
            await store._conn.execute(f"DROP TRIGGER refuse ON {table}")  # type: ignore[attr-defined]
            await store._conn.execute("DROP FUNCTION refuse()")  # type: ignore[attr-defined]
        return
    import sqlite3

    await store._conn.execute(  # type: ignore[attr-defined]
        f"CREATE TEMP TRIGGER refuse {when} ON {table} WHEN {condition}"
        " BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    try:
        yield sqlite3.IntegrityError
    finally:
        await store._conn.execute("DROP TRIGGER temp.refuse")  # type: ignore[attr-defined]

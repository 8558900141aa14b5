"""What every part of the PostgreSQL store shares: its connections, the write lock,
the clock, and the read and write helpers.

Two connections per process, both in autocommit: `_conn` runs the transactions
(one at a time, under an asyncio lock, as on SQLite) and `_read` the reads, which
so never see another task's half-done transaction. Claims of outbox rows may run
on a third, the leader's lock session (`use_claims_session`), which ties every send
to holding the leadership: a leader whose session is gone cannot claim, so cannot
send (storage/postgres/leader.py).

Every write transaction first takes one transaction-scoped advisory lock, so writes
are serialised across every process on the database exactly as SQLite serialises
them (BEGIN IMMEDIATE). The logic ported from the SQLite store, which reads and then
writes in one transaction, keeps its meaning; and outbox ids are committed in the
order they are given out, which delivery's cursor relies on (it reads rows past the
highest id it has seen). Single-statement writes on the outbox (claims, marking
sent) take only their rows' locks and so never wait behind a long poll.

The store's SQL is written once for both backends, with `:name` parameters (or `?`):
`translate` gives psycopg's `%(name)s` (`%s`), once per distinct statement.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, time
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row

from storage._core import CoreBase, _system_clock

# The advisory lock keys (two int4): this namespace, then what it guards. The second
# key is made per schema (hashtext(current_schema())), so two bots in two schemas of
# one database keep out of each other's way.
LOCK_NAMESPACE = 0x436F6D6D  # "Comm"
WRITES = 1
LEADER = 2

Row = DictRow
Conn = psycopg.AsyncConnection[DictRow]


async def connect(url: str, *, application_name: str = "communique") -> Conn:
    """A connection in autocommit with rows as dicts. Raises psycopg errors."""
    return await psycopg.AsyncConnection.connect(
        url,
        autocommit=True,
        row_factory=dict_row,
        application_name=application_name,
        connect_timeout=10,
    )


# What the translation reads: a string literal or quoted name (kept, its `%` doubled),
# a comment (likewise), a cast's `::` (kept), a `:name` parameter, a `?`, or a `%`.
_TOKENS = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|::|:([A-Za-z_][A-Za-z0-9_]*)|[?%]"""
)


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> tuple[str, bool]:
    """`sql` as psycopg reads it, and whether it takes parameters at all.

    `:name` becomes `%(name)s` and `?` becomes `%s`, but not inside a string literal,
    a quoted name or a comment, nor in a cast (`x::text`); every `%` is doubled,
    since psycopg reads `%` anywhere in a statement it is given parameters for.
    SQL without parameters is returned as it is, to run without any (psycopg then
    reads no `%` at all). Dollar-quoted strings and E'' escapes are not understood:
    the store writes none."""
    parametrised = False

    def replace(found: re.Match[str]) -> str:
        nonlocal parametrised
        token = found.group(0)
        name = found.group(1)
        if name is not None:
            parametrised = True
            return f"%({name})s"
        if token == "?":
            parametrised = True
            return "%s"
        return token.replace("%", "%%")

    translated = _TOKENS.sub(replace, sql)
    return (translated, True) if parametrised else (sql, False)


async def run(
    conn: Conn, sql: str, params: Any = None, *, prepare: bool | None = None
) -> psycopg.AsyncCursor[DictRow]:
    """Execute the store's SQL (`:name` parameters) on `conn`."""
    query, parametrised = translate(sql)
    return await conn.execute(query, params if parametrised else None, prepare=prepare)


class PgTx:
    """`Tx` on psycopg: the store's SQL translated (`translate`) and run in the
    transaction open on `conn`."""

    __slots__ = ("conn",)

    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Any = None) -> int:
        return (await run(self.conn, sql, params)).rowcount

    async def executemany(self, sql: str, params: Iterable[Any]) -> int:
        async with self.conn.cursor() as cur:
            await cur.executemany(translate(sql)[0], params)
            return cur.rowcount

    async def fetchone(self, sql: str, params: Any = None) -> Row | None:
        return await (await run(self.conn, sql, params)).fetchone()

    async def fetchall(self, sql: str, params: Any = None) -> list[Row]:
        return await (await run(self.conn, sql, params)).fetchall()


class PgStoreCore(CoreBase):
    """The connections and the helpers every entity's methods use."""

    _FOREIGN_KEY_ERRORS = (psycopg.errors.ForeignKeyViolation,)

    def __init__(
        self,
        conn: Conn,
        read: Conn,
        *,
        clock: Callable[[], datetime] = _system_clock,
        default_timezone: str = "Europe/London",
        default_daily_time: time = time(9, 0),
        default_language: str = "en",
        lock_key: int = 0,
    ) -> None:
        self._conn = conn
        self._tx = PgTx(conn)
        self._read = read
        self._claims: Conn | None = None
        self._claims_lock = asyncio.Lock()
        self._clock = clock
        self._lock = asyncio.Lock()
        self._lock_key = lock_key
        self.default_timezone = default_timezone
        self.default_daily_time = default_daily_time
        self.default_language = default_language
        self.outbox_changed = asyncio.Event()
        self.items_version = 0

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[PgTx]:
        """One transaction, holding the database-wide write lock until it ends."""
        async with self._lock, self._conn.transaction():
            await self._conn.execute(
                "SELECT pg_advisory_xact_lock(%(ns)s, %(key)s)",
                {"ns": LOCK_NAMESPACE + WRITES, "key": self._lock_key},
            )
            yield self._tx

    # `prepare=False` for a query whose best plan depends on its parameters (a search:
    # a rare word wants the GIN index, a common one the newest rows first); a
    # prepared statement would soon settle on one generic plan for both.

    async def _fetchone(
        self, sql: str, params: Any = None, *, prepare: bool | None = None
    ) -> Row | None:
        return await (await run(self._read, sql, params, prepare=prepare)).fetchone()

    async def _fetchall(
        self, sql: str, params: Any = None, *, prepare: bool | None = None
    ) -> list[Row]:
        return await (await run(self._read, sql, params, prepare=prepare)).fetchall()

    def _in_list(self, column: str, param: str) -> str:
        return f"{column} = ANY(:{param})"

    def _list_param(self, values: Iterable[Any]) -> list[Any]:
        return list(values)

    async def _claim_statement(self, sql: str, params: Any) -> list[Row]:
        """A claim or confirmation of outbox rows: on the leader's lock session when
        there is one (a lost session fails the claim, and nothing is sent), else on
        the write connection."""
        if self._claims is not None:
            async with self._claims_lock:
                cur = await run(self._claims, sql, params)
                return await cur.fetchall() if cur.description else []
        async with self._lock:
            cur = await run(self._conn, sql, params)
            return await cur.fetchall() if cur.description else []

    _claim = _claim_statement

    def use_claims_session(self, session: Conn | None, lock: asyncio.Lock | None = None) -> None:
        """Claim outbox rows on `session` (the leader's lock session) from now on;
        `lock` is the one its other users take (the leadership's own checks)."""
        self._claims = session
        if lock is not None:
            self._claims_lock = lock


async def fetchall(db: Conn, sql: str, params: Any = None) -> list[Row]:
    cur = await db.execute(sql, params)
    return await cur.fetchall()


async def tables_shown(conn: Conn) -> str:
    """Some of the tables of the connection's schema, for an error: "a, b, c, …";
    "" when it has none."""
    cur = await conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        " ORDER BY table_name LIMIT 4"
    )
    names = [str(r["table_name"]) for r in await cur.fetchall()]
    return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")


async def fetchone(db: Conn, sql: str, params: Any = None) -> Row | None:
    cur = await db.execute(sql, params)
    return await cur.fetchone()

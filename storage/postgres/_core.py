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
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, time
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row

from storage._core import _system_clock

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


class PgStoreCore:
    """The connections and the helpers every entity's methods use."""

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

    def now(self) -> datetime:
        return self._clock()

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[Conn]:
        """One transaction, holding the database-wide write lock until it ends."""
        async with self._lock, self._conn.transaction():
            await self._conn.execute(
                "SELECT pg_advisory_xact_lock(%(ns)s, %(key)s)",
                {"ns": LOCK_NAMESPACE + WRITES, "key": self._lock_key},
            )
            yield self._conn

    # `prepare=False` for a query whose best plan depends on its parameters (a search:
    # a rare word wants the GIN index, a common one the newest rows first); a
    # prepared statement would soon settle on one generic plan for both.

    async def _fetchone(
        self, sql: str, params: Any = None, *, prepare: bool | None = None
    ) -> Row | None:
        cur = await self._read.execute(sql, params, prepare=prepare)
        return await cur.fetchone()

    async def _fetchall(
        self, sql: str, params: Any = None, *, prepare: bool | None = None
    ) -> list[Row]:
        cur = await self._read.execute(sql, params, prepare=prepare)
        return await cur.fetchall()

    async def _claim_statement(self, sql: str, params: Any) -> list[Row]:
        """A claim or confirmation of outbox rows: on the leader's lock session when
        there is one (a lost session fails the claim, and nothing is sent), else on
        the write connection."""
        if self._claims is not None:
            async with self._claims_lock:
                cur = await self._claims.execute(sql, params)
                return await cur.fetchall() if cur.description else []
        async with self._lock:
            cur = await self._conn.execute(sql, params)
            return await cur.fetchall() if cur.description else []

    def use_claims_session(self, session: Conn | None, lock: asyncio.Lock | None = None) -> None:
        """Claim outbox rows on `session` (the leader's lock session) from now on;
        `lock` is the one its other users take (the leadership's own checks)."""
        self._claims = session
        if lock is not None:
            self._claims_lock = lock


async def fetchall(db: Conn, sql: str, params: Any = None) -> list[Row]:
    cur = await db.execute(sql, params)
    return await cur.fetchall()


async def fetchone(db: Conn, sql: str, params: Any = None) -> Row | None:
    cur = await db.execute(sql, params)
    return await cur.fetchone()

"""Which of the instances on one PostgreSQL database leads: the one holding a
session-level advisory lock on a connection of its own (no heartbeat protocol of
ours: PostgreSQL releases the lock when that session ends).

The leader polls Telegram and the feeds, runs the daily job and delivers; the
others wait, trying the lock every `retry` seconds, and one of them takes over
when the leader's session ends. A process that dies ends its session at once
(its socket closes); a machine or network that vanishes is noticed by the server's
TCP keepalives, which this session sets short, within about 15 seconds, so a
standby takes over within 30.

The leader's outbox claims run on this same session (storage/postgres/_core.py):
if it is gone, no row can be claimed and nothing is sent. `watch` also checks it
every `check_every` seconds and reports the loss (`lost`), so the instance stops
at once rather than at its next claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

from storage.database_url import mask
from storage.postgres._core import LEADER, LOCK_NAMESPACE, Conn, connect, fetchone

log = logging.getLogger("storage.leader")

RETRY = 1.0  # seconds between a standby's tries
CHECK_EVERY = 2.0  # seconds between the leader's checks of its session
CHECK_TIMEOUT = 5.0  # a check that takes longer means the session is lost
# The server drops a session whose peer stopped answering after about
# idle + interval x count seconds.
KEEPALIVES = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 2, "tcp_keepalives_count": 3}


class Leadership:
    """The advisory lock that makes an instance the leader."""

    def __init__(
        self,
        url: str,
        *,
        retry: float = RETRY,
        check_every: float = CHECK_EVERY,
        check_timeout: float = CHECK_TIMEOUT,
    ) -> None:
        self._url = url
        self._retry = retry
        self._check_every = check_every
        self._check_timeout = check_timeout
        self._session: Conn | None = None
        self.lock = asyncio.Lock()  # the session's users take turns (claims, checks)
        self.lost = asyncio.Event()
        self.is_leader = False

    @property
    def session(self) -> Conn:
        assert self._session is not None, "not the leader"
        return self._session

    @property
    def role(self) -> str:
        return "leader" if self.is_leader else "standby"

    async def acquire(self, stop: asyncio.Event | None = None) -> bool:
        """Wait until this instance leads (True), or `stop` is set (False)."""
        stop = stop or asyncio.Event()
        announced = False
        while not stop.is_set():
            try:
                if await self._try():
                    self.is_leader = True
                    log.info("this instance is the leader")
                    return True
                if not announced:
                    log.info("another instance is the leader: standing by to take over")
                    announced = True
            except psycopg.Error as exc:
                log.warning(
                    "cannot reach the database %s to take the lead (%s); trying again",
                    mask(self._url),
                    " ".join(str(exc).split()),
                )
                await self._drop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._retry)
        return False

    async def _try(self) -> bool:
        if self._session is None or self._session.closed:
            self._session = await connect(self._url, application_name="communique-leader")
            for name, value in KEEPALIVES.items():
                # set_config, not SET: parameters cannot be bound in SET.
                await self._session.execute(
                    "SELECT set_config(%(name)s, %(value)s, false)",
                    {"name": name, "value": str(value)},
                )
        row = await fetchone(
            self._session,
            "SELECT pg_try_advisory_lock(%(ns)s, hashtext(current_schema())) AS locked",
            {"ns": LOCK_NAMESPACE + LEADER},
        )
        return bool(row and row["locked"])

    async def watch(self) -> None:
        """While leading, check the session; on its loss set `lost` and return."""
        while self.is_leader:
            await asyncio.sleep(self._check_every)
            if not await self.check():
                return

    async def check(self) -> bool:
        """Whether this instance still holds the lock; False sets `lost`."""
        if not self.is_leader:
            return False
        try:
            async with asyncio.timeout(self._check_timeout), self.lock:
                row = await fetchone(
                    self.session,
                    "SELECT COUNT(*) AS held FROM pg_locks WHERE locktype = 'advisory'"
                    " AND pid = pg_backend_pid() AND classid::bigint = %(ns)s AND granted",
                    {"ns": LOCK_NAMESPACE + LEADER},
                )
            held = bool(row and row["held"])
        except (psycopg.Error, TimeoutError, OSError) as exc:
            log.error("lost the database session that holds the leadership (%s)", exc)
            held = False
        if not held:
            self.is_leader = False
            self.lost.set()
        return held

    async def release(self) -> None:
        """Give the lead up (closing the session releases the lock)."""
        self.is_leader = False
        await self._drop()

    async def _drop(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.close(), 5)

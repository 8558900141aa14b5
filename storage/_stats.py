"""Figures for /stats: chats, subscriptions, statements and deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage._core import CoreBase, _dt, _ts


@dataclass(frozen=True, slots=True)
class Stats:
    chats_active: int
    chats_inactive: dict[str, int]
    subscriptions: int
    feeds: int
    items: int
    sent_24h: int
    failed_24h: int
    duplicates_24h: int
    pending: int
    oldest_pending_at: datetime | None
    # The commonest reasons deliveries failed for good in the last 24 hours, with counts.
    failure_reasons: tuple[tuple[str, int], ...] = ()
    alerts: int = 0  # saved-search alerts, every chat's
    filters: int = 0  # subscriptions narrowed by a filter
    held: int = 0  # statements waiting for their chat's daily digest
    digest_chats: int = 0  # chats that take one digest a day


class StatsMixin(CoreBase):
    # ---------------------------------------------------------------------- stats

    async def stats(self) -> Stats:
        since = _ts(self.now()) - 86400
        chats = await self._fetchall(
            "SELECT active, COALESCE(inactive_reason, '') AS reason, COUNT(*) AS n"
            " FROM chats GROUP BY active, reason"
        )
        active = sum(int(r["n"]) for r in chats if r["active"])
        inactive = {str(r["reason"]) or "unknown": int(r["n"]) for r in chats if not r["active"]}
        row = await self._fetchone(
            "SELECT (SELECT COUNT(*) FROM subscriptions) AS subscriptions,"
            " (SELECT COUNT(*) FROM feeds WHERE removed = 0) AS feeds,"
            " (SELECT COUNT(*) FROM items) AS items,"
            " (SELECT COUNT(*) FROM alerts) AS alerts,"
            " (SELECT COUNT(*) FROM filters) AS filters,"
            " (SELECT COUNT(*) FROM outbox WHERE state = 'held') AS held,"
            " (SELECT COUNT(*) FROM chats WHERE pushes = 'digest' AND active = 1) AS digests"
        )
        deliveries = await self._fetchone(
            "SELECT COUNT(*) FILTER (WHERE state = 'sent') AS sent,"
            " COUNT(*) FILTER (WHERE state = 'failed') AS failed,"
            " COALESCE(SUM(possible_duplicate), 0) AS duplicates"
            " FROM outbox WHERE finished_at >= :since",
            {"since": since},
        )
        pending = await self._fetchone(
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE state = 'pending'"
        )
        reasons = await self._fetchall(
            "SELECT COALESCE(last_error, 'unknown') AS error, COUNT(*) AS n FROM outbox"
            " WHERE state = 'failed' AND finished_at >= :since"
            " GROUP BY 1 ORDER BY n DESC, error LIMIT 3",
            {"since": since},
        )
        assert row and deliveries and pending
        return Stats(
            chats_active=active,
            chats_inactive=inactive,
            subscriptions=int(row["subscriptions"]),
            feeds=int(row["feeds"]),
            items=int(row["items"]),
            sent_24h=int(deliveries["sent"]),
            failed_24h=int(deliveries["failed"]),
            duplicates_24h=int(deliveries["duplicates"]),
            pending=int(pending["n"]),
            oldest_pending_at=_dt(pending["oldest"]),
            failure_reasons=tuple((str(r["error"]), int(r["n"])) for r in reasons),
            alerts=int(row["alerts"]),
            filters=int(row["filters"]),
            held=int(row["held"]),
            digest_chats=int(row["digests"]),
        )

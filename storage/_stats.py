"""Figures for /stats: chats, subscriptions, statements and deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage._core import StoreCore, _dt, _ts


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


class StatsMixin(StoreCore):
    # ---------------------------------------------------------------------- stats

    async def stats(self) -> Stats:
        now = _ts(self.now())
        since = now - 86400
        chats = await self._fetchall(
            "SELECT active, COALESCE(inactive_reason, '') AS reason, COUNT(*) AS n"
            " FROM chats GROUP BY active, reason"
        )
        active = sum(int(r["n"]) for r in chats if r["active"])
        inactive = {str(r["reason"]) or "unknown": int(r["n"]) for r in chats if not r["active"]}
        subs = await self._fetchone("SELECT COUNT(*) FROM subscriptions")
        feeds = await self._fetchone("SELECT COUNT(*) FROM feeds WHERE removed = 0")
        items = await self._fetchone("SELECT COUNT(*) FROM items")
        deliveries = await self._fetchone(
            "SELECT SUM(state = 'sent'), SUM(state = 'failed'), SUM(possible_duplicate)"
            " FROM outbox WHERE finished_at >= :since",
            {"since": since},
        )
        pending = await self._fetchone(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending'"
        )
        reasons = await self._fetchall(
            "SELECT COALESCE(last_error, 'unknown') AS error, COUNT(*) AS n FROM outbox"
            " WHERE state = 'failed' AND finished_at >= :since"
            " GROUP BY error ORDER BY n DESC, error LIMIT 3",
            {"since": since},
        )
        saved = await self._fetchone(
            "SELECT (SELECT COUNT(*) FROM alerts), (SELECT COUNT(*) FROM filters),"
            " (SELECT COUNT(*) FROM outbox WHERE state = 'held'),"
            " (SELECT COUNT(*) FROM chats WHERE pushes = 'digest' AND active = 1)"
        )
        assert subs and feeds and items and deliveries and pending and saved
        return Stats(
            chats_active=active,
            chats_inactive=inactive,
            subscriptions=int(subs[0]),
            feeds=int(feeds[0]),
            items=int(items[0]),
            sent_24h=int(deliveries[0] or 0),
            failed_24h=int(deliveries[1] or 0),
            duplicates_24h=int(deliveries[2] or 0),
            pending=int(pending[0]),
            oldest_pending_at=_dt(pending[1]),
            failure_reasons=tuple((str(r["error"]), int(r["n"])) for r in reasons),
            alerts=int(saved[0]),
            filters=int(saved[1]),
            held=int(saved[2]),
            digest_chats=int(saved[3]),
        )

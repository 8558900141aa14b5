"""Filters and alerts on PostgreSQL: as storage/_alerts.py."""

from __future__ import annotations

import psycopg

from storage._alerts import MAX_ALERTS
from storage._core import _ts
from storage.errors import (
    AlertExistsError,
    AlertLimitError,
    AlertNotFoundError,
    NotSubscribedError,
)
from storage.models import Alert, Filter
from storage.postgres._core import PgStoreCore, Row, fetchall, fetchone


class PgAlertsMixin(PgStoreCore):
    async def set_filter(self, chat_id: int, feed_id: int, query: str) -> Filter:
        """Set (or replace) the chat's filter on a feed it follows."""
        now = _ts(self.now())
        params = {"chat": chat_id, "feed": feed_id, "query": query, "now": now}
        async with self._write() as db:
            found = await fetchone(
                db,
                "SELECT 1 FROM subscriptions WHERE chat_id = %(chat)s AND feed_id = %(feed)s",
                params,
            )
            if found is None:
                raise NotSubscribedError(chat_id, feed_id)
            await db.execute(
                "INSERT INTO filters (chat_id, feed_id, query, created_at)"
                " VALUES (%(chat)s, %(feed)s, %(query)s, %(now)s) ON CONFLICT (chat_id, feed_id)"
                " DO UPDATE SET query = EXCLUDED.query, created_at = EXCLUDED.created_at",
                params,
            )
        stored = await self.get_filter(chat_id, feed_id)
        assert stored is not None
        return stored

    async def get_filter(self, chat_id: int, feed_id: int) -> Filter | None:
        row = await self._fetchone(
            "SELECT * FROM filters WHERE chat_id = %(chat)s AND feed_id = %(feed)s",
            {"chat": chat_id, "feed": feed_id},
        )
        return None if row is None else _filter(row)

    async def remove_filter(self, chat_id: int, feed_id: int) -> bool:
        """True when there was a filter to remove."""
        async with self._write() as db:
            cur = await db.execute(
                "DELETE FROM filters WHERE chat_id = %(chat)s AND feed_id = %(feed)s",
                {"chat": chat_id, "feed": feed_id},
            )
            return cur.rowcount > 0

    async def chat_filters(self, chat_id: int) -> dict[int, Filter]:
        """The chat's filters by feed id."""
        rows = await self._fetchall(
            "SELECT * FROM filters WHERE chat_id = %(chat)s ORDER BY feed_id", {"chat": chat_id}
        )
        return {int(r["feed_id"]): _filter(r) for r in rows}

    async def add_alert(self, chat_id: int, query: str, canonical: str) -> Alert:
        """Save an alert; the same search typed differently is a duplicate."""
        now = _ts(self.now())
        async with self._write() as db:
            rows = await fetchall(
                db, "SELECT id, canonical FROM alerts WHERE chat_id = %(chat)s", {"chat": chat_id}
            )
            for row in rows:
                if row["canonical"] == canonical:
                    raise AlertExistsError(int(row["id"]))
            if len(rows) >= MAX_ALERTS:
                raise AlertLimitError(MAX_ALERTS)
            try:
                inserted = await fetchone(
                    db,
                    "INSERT INTO alerts (chat_id, query, canonical, created_at)"
                    " VALUES (%(chat)s, %(query)s, %(canonical)s, %(now)s) RETURNING id",
                    {"chat": chat_id, "query": query, "canonical": canonical, "now": now},
                )
            except psycopg.errors.ForeignKeyViolation as exc:  # the chat row is missing: a bug
                raise AlertNotFoundError(0) from exc
            assert inserted is not None
        return Alert(id=int(inserted["id"]), chat_id=chat_id, query=query)

    async def chat_alerts(self, chat_id: int) -> list[Alert]:
        rows = await self._fetchall(
            "SELECT id, chat_id, query FROM alerts WHERE chat_id = %(chat)s ORDER BY id",
            {"chat": chat_id},
        )
        return [Alert(int(r["id"]), int(r["chat_id"]), str(r["query"])) for r in rows]

    async def remove_alert(self, chat_id: int, alert_id: int) -> Alert:
        """Remove one of the chat's alerts (another chat's id is "not found")."""
        async with self._write() as db:
            row = await fetchone(
                db,
                "DELETE FROM alerts WHERE id = %(id)s AND chat_id = %(chat)s"
                " RETURNING id, chat_id, query",
                {"id": alert_id, "chat": chat_id},
            )
        if row is None:
            raise AlertNotFoundError(alert_id)
        return Alert(int(row["id"]), int(row["chat_id"]), str(row["query"]))

    async def matcher_version(self) -> int:
        """Changes whenever any filter or alert changes, in any process."""
        row = await self._fetchone("SELECT version FROM matcher_version WHERE id = 1")
        return int(row["version"]) if row else 0

    async def saved_searches(self) -> tuple[list[Filter], list[Alert]]:
        """Every filter and alert of an active chat, to build the matcher from."""
        filters = await self._fetchall(
            "SELECT f.* FROM filters f JOIN chats c ON c.id = f.chat_id WHERE c.active = 1"
        )
        alerts = await self._fetchall(
            "SELECT a.id, a.chat_id, a.query FROM alerts a JOIN chats c ON c.id = a.chat_id"
            " WHERE c.active = 1"
        )
        return (
            [_filter(r) for r in filters],
            [Alert(int(r["id"]), int(r["chat_id"]), str(r["query"])) for r in alerts],
        )


def _filter(row: Row) -> Filter:
    return Filter(
        id=int(row["id"]),
        chat_id=int(row["chat_id"]),
        feed_id=int(row["feed_id"]),
        query=str(row["query"]),
    )

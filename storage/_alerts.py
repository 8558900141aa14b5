"""Filters and alerts: the saved searches that decide which new statements a chat
gets. A filter narrows a subscription to what matches; an alert brings what
matches from any feed. Matching itself is storage/matching.py; this is keeping them."""

from __future__ import annotations

from storage._core import CoreBase, RowLike, _ts
from storage.errors import (
    AlertExistsError,
    AlertLimitError,
    AlertNotFoundError,
    NotSubscribedError,
)
from storage.models import Alert, Filter

MAX_ALERTS = 20  # per chat: a saved search is cheap, a thousand of them is not


class AlertsMixin(CoreBase):
    # -------------------------------------------------------------------- filters

    async def set_filter(self, chat_id: int, feed_id: int, query: str) -> Filter:
        """Set (or replace) the chat's filter on a feed it follows."""
        now = _ts(self.now())
        async with self._write() as db:
            subscribed = await db.fetchone(
                "SELECT 1 AS found FROM subscriptions WHERE chat_id = :chat AND feed_id = :feed",
                {"chat": chat_id, "feed": feed_id},
            )
            if subscribed is None:
                raise NotSubscribedError(chat_id, feed_id)
            await db.execute(
                "INSERT INTO filters (chat_id, feed_id, query, created_at)"
                " VALUES (:chat, :feed, :query, :now) ON CONFLICT (chat_id, feed_id)"
                " DO UPDATE SET query = excluded.query, created_at = excluded.created_at",
                {"chat": chat_id, "feed": feed_id, "query": query, "now": now},
            )
        found = await self.get_filter(chat_id, feed_id)
        assert found is not None
        return found

    async def get_filter(self, chat_id: int, feed_id: int) -> Filter | None:
        row = await self._fetchone(
            "SELECT * FROM filters WHERE chat_id = :chat AND feed_id = :feed",
            {"chat": chat_id, "feed": feed_id},
        )
        return None if row is None else _filter(row)

    async def remove_filter(self, chat_id: int, feed_id: int) -> bool:
        """True when there was a filter to remove."""
        async with self._write() as db:
            deleted = await db.execute(
                "DELETE FROM filters WHERE chat_id = :chat AND feed_id = :feed",
                {"chat": chat_id, "feed": feed_id},
            )
            return deleted > 0

    async def chat_filters(self, chat_id: int) -> dict[int, Filter]:
        """The chat's filters by feed id."""
        rows = await self._fetchall(
            "SELECT * FROM filters WHERE chat_id = :chat ORDER BY feed_id", {"chat": chat_id}
        )
        return {int(r["feed_id"]): _filter(r) for r in rows}

    # --------------------------------------------------------------------- alerts

    async def add_alert(self, chat_id: int, query: str, canonical: str) -> Alert:
        """Save an alert; `canonical` is the parsed query written out, so the same
        search typed differently is refused as a duplicate."""
        now = _ts(self.now())
        async with self._write() as db:
            rows = await db.fetchall(
                "SELECT id, canonical FROM alerts WHERE chat_id = :chat", {"chat": chat_id}
            )
            for row in rows:
                if row["canonical"] == canonical:
                    raise AlertExistsError(int(row["id"]))
            if len(rows) >= MAX_ALERTS:
                raise AlertLimitError(MAX_ALERTS)
            try:
                inserted = await db.fetchone(
                    "INSERT INTO alerts (chat_id, query, canonical, created_at)"
                    " VALUES (:chat, :query, :canonical, :now) RETURNING id",
                    {"chat": chat_id, "query": query, "canonical": canonical, "now": now},
                )
            except self._FOREIGN_KEY_ERRORS as exc:  # the chat row is missing: a bug
                raise AlertNotFoundError(0) from exc
            assert inserted is not None
        return Alert(id=int(inserted["id"]), chat_id=chat_id, query=query)

    async def chat_alerts(self, chat_id: int) -> list[Alert]:
        rows = await self._fetchall(
            "SELECT id, chat_id, query FROM alerts WHERE chat_id = :chat ORDER BY id",
            {"chat": chat_id},
        )
        return [Alert(int(r["id"]), int(r["chat_id"]), str(r["query"])) for r in rows]

    async def remove_alert(self, chat_id: int, alert_id: int) -> Alert:
        """Remove one of the chat's alerts (another chat's id is "not found")."""
        async with self._write() as db:
            row = await db.fetchone(
                "DELETE FROM alerts WHERE id = :id AND chat_id = :chat"
                " RETURNING id, chat_id, query",
                {"id": alert_id, "chat": chat_id},
            )
        if row is None:
            raise AlertNotFoundError(alert_id)
        return Alert(int(row["id"]), int(row["chat_id"]), str(row["query"]))

    # ---------------------------------------------------------------- the matcher

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


def _filter(row: RowLike) -> Filter:
    return Filter(
        id=int(row["id"]),
        chat_id=int(row["chat_id"]),
        feed_id=int(row["feed_id"]),
        query=str(row["query"]),
    )

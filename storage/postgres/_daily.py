"""The daily message on PostgreSQL: storage/_daily.py's, with the due groups read
from jsonb and the daily message queued and recorded in one data-modifying WITH."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, time

from storage._daily import DailyMixin
from storage.postgres._core import PgStoreCore


class PgDailyMixin(DailyMixin, PgStoreCore):
    _IN_DUE_GROUP = (
        " JOIN (SELECT g->>0 AS zone, g->>1 AS at, g->>2 AS local_date"
        " FROM jsonb_array_elements(CAST(:due AS jsonb)) AS g) d"
        " ON d.zone = COALESCE(c.timezone, :tz) AND d.at = COALESCE(c.daily_time, :t)"
    )

    async def enqueue_daily(
        self, due: Sequence[tuple[str, time, date]], texts: Mapping[str, str]
    ) -> int:
        """Queue the daily message in each chat's language (`texts` by language; the
        default language's where a chat's has none) for every eligible chat of the due
        groups with no record yet for its local date, and record it. Returns how many."""
        if not due:
            return 0
        params = {
            **self._due_params(due),
            "texts": json.dumps(dict(texts)),
            "language": self.default_language,
        }
        async with self._write() as db:
            added = await db.execute(
                "WITH queued AS (INSERT INTO outbox (chat_id, kind, text, created_at)"
                " SELECT c.id, 'daily', COALESCE(CAST(:texts AS jsonb) ->> COALESCE(c.language,"
                " :language), CAST(:texts AS jsonb) ->> :language), :now FROM chats c"
                + self._IN_DUE_GROUP
                + " WHERE c.active = 1 AND c.daily_enabled = 1"
                " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.chat_id = c.id)"
                " AND NOT EXISTS (SELECT 1 FROM daily_sends ds"
                " WHERE ds.chat_id = c.id AND ds.local_date = d.local_date)"
                " ORDER BY c.id RETURNING id, chat_id)"
                " INSERT INTO daily_sends (chat_id, local_date, outbox_id, created_at)"
                " SELECT q.chat_id, d.local_date, q.id, :now FROM queued q"
                " JOIN chats c ON c.id = q.chat_id" + self._IN_DUE_GROUP,
                params,
            )
            added = max(added, 0)
        if added:
            self.outbox_changed.set()
        return added

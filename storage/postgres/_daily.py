"""The daily message on PostgreSQL: storage/_daily.py's, but for queueing it and
releasing the digests, set-based in PostgreSQL's own terms (JSON, a data-modifying
WITH)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, time

from storage._core import _ts
from storage._daily import DailyMixin
from storage.postgres._core import PgStoreCore

# Chats `c` whose (zone, daily time) is one of the due groups, with that group's
# local date as `d.local_date`.
_IN_DUE_GROUP = (
    " JOIN (SELECT g->>0 AS zone, g->>1 AS at, g->>2 AS local_date"
    " FROM jsonb_array_elements(CAST(:due AS jsonb)) AS g) d"
    " ON d.zone = COALESCE(c.timezone, :tz) AND d.at = COALESCE(c.daily_time, :t)"
)


class PgDailyMixin(DailyMixin, PgStoreCore):
    def _defaults(self) -> dict[str, object]:
        return {"tz": self.default_timezone, "t": self.default_daily_time.strftime("%H:%M")}

    async def enqueue_daily(
        self, due: Sequence[tuple[str, time, date]], texts: Mapping[str, str]
    ) -> int:
        """Queue the daily message in each chat's language (`texts` by language; the
        default language's where a chat's has none) for every eligible chat of the due
        groups with no record yet for its local date, and record it. Returns how many."""
        if not due:
            return 0
        params = {
            **self._defaults(),
            "due": _due(due),
            "texts": json.dumps(dict(texts)),
            "language": self.default_language,
            "now": _ts(self.now()),
        }
        async with self._write() as db:
            added = await db.execute(
                "WITH queued AS (INSERT INTO outbox (chat_id, kind, text, created_at)"
                " SELECT c.id, 'daily', COALESCE(CAST(:texts AS jsonb) ->> COALESCE(c.language,"
                " :language), CAST(:texts AS jsonb) ->> :language), :now FROM chats c"
                + _IN_DUE_GROUP
                + " WHERE c.active = 1 AND c.daily_enabled = 1"
                " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.chat_id = c.id)"
                " AND NOT EXISTS (SELECT 1 FROM daily_sends ds"
                " WHERE ds.chat_id = c.id AND ds.local_date = d.local_date)"
                " ORDER BY c.id RETURNING id, chat_id)"
                " INSERT INTO daily_sends (chat_id, local_date, outbox_id, created_at)"
                " SELECT q.chat_id, d.local_date, q.id, :now FROM queued q"
                " JOIN chats c ON c.id = q.chat_id" + _IN_DUE_GROUP,
                params,
            )
            added = max(added, 0)
        if added:
            self.outbox_changed.set()
        return added

    async def release_digests(self, due: Sequence[tuple[str, time, date]]) -> int:
        """Send the day's digest to every chat in digest mode of the due groups, once
        per local date (see storage/_daily.py). Returns the statements released."""
        if not due:
            return 0
        params = {**self._defaults(), "due": _due(due), "now": _ts(self.now())}
        async with self._write() as db:
            await db.execute(
                "INSERT INTO digest_releases (chat_id, local_date, created_at)"
                " SELECT c.id, d.local_date, :now FROM chats c" + _IN_DUE_GROUP + " WHERE"
                " c.active = 1 AND c.pushes = 'digest' AND NOT EXISTS (SELECT 1 FROM"
                " digest_releases r WHERE r.chat_id = c.id AND r.local_date = d.local_date)",
                params,
            )
            released = await db.execute(
                "UPDATE outbox SET state = 'pending',"
                " digest_key = 'day:' || outbox.chat_id || ':' || r.local_date"
                " FROM digest_releases r WHERE r.chat_id = outbox.chat_id"
                " AND r.created_at = :now AND outbox.state = 'held'",
                params,
            )
            released = max(released, 0)
        if released:
            self.outbox_changed.set()
        return released


def _due(due: Sequence[tuple[str, time, date]]) -> str:
    return json.dumps([[z, at.strftime("%H:%M"), d.isoformat()] for z, at, d in due])

"""The daily message on PostgreSQL: its counters and queueing it once a day per
chat, set-based as in storage/_daily.py."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, time

from storage._core import _ts
from storage.errors import CounterNotFoundError
from storage.models import Counter
from storage.postgres._core import PgStoreCore

# Chats `c` whose (zone, daily time) is one of the due groups, with that group's
# local date as `d.local_date`.
_IN_DUE_GROUP = (
    " JOIN (SELECT g->>0 AS zone, g->>1 AS at, g->>2 AS local_date"
    " FROM jsonb_array_elements(%(due)s::jsonb) AS g) d"
    " ON d.zone = COALESCE(c.timezone, %(tz)s) AND d.at = COALESCE(c.daily_time, %(t)s)"
)


class PgDailyMixin(PgStoreCore):
    async def add_counter(
        self, start_date: date, timezone: str, template: str, language: str = "en"
    ) -> Counter:
        """A counter; `language` is the one `template` is written in."""
        async with self._write_native() as db:
            cur = await db.execute(
                "INSERT INTO counters (start_date, timezone, template, language, position,"
                " created_at) VALUES (%(d)s, %(tz)s, %(tpl)s, %(lang)s,"
                " (SELECT COALESCE(MAX(position), 0) + 1 FROM counters), %(now)s) RETURNING id",
                {
                    "d": start_date.isoformat(),
                    "tz": timezone,
                    "tpl": template,
                    "lang": language,
                    "now": _ts(self.now()),
                },
            )
            row = await cur.fetchone()
            assert row is not None
        counters = {c.id: c for c in await self.list_counters()}
        return counters[int(row["id"])]

    async def remove_counter(self, counter_id: int) -> None:
        async with self._write_native() as db:
            cur = await db.execute("DELETE FROM counters WHERE id = %(id)s", {"id": counter_id})
            if cur.rowcount == 0:
                raise CounterNotFoundError(counter_id)

    async def set_counter_text(self, counter_id: int, language: str, template: str) -> Counter:
        """The counter's text in `language` (replacing one it had)."""
        params = {"id": counter_id, "lang": language, "tpl": template}
        async with self._write_native() as db:
            cur = await db.execute("SELECT 1 FROM counters WHERE id = %(id)s", params)
            if await cur.fetchone() is None:
                raise CounterNotFoundError(counter_id)
            await db.execute(
                "INSERT INTO counter_texts (counter_id, language, template)"
                " VALUES (%(id)s, %(lang)s, %(tpl)s) ON CONFLICT (counter_id, language)"
                " DO UPDATE SET template = EXCLUDED.template",
                params,
            )
        return {c.id: c for c in await self.list_counters()}[counter_id]

    async def list_counters(self) -> list[Counter]:
        rows = await self._fetchall_native("SELECT * FROM counters ORDER BY position, id")
        texts: dict[int, dict[str, str]] = {}
        for r in await self._fetchall_native("SELECT * FROM counter_texts"):
            texts.setdefault(int(r["counter_id"]), {})[str(r["language"])] = str(r["template"])
        return [
            Counter(
                id=int(r["id"]),
                start_date=date.fromisoformat(r["start_date"]),
                timezone=str(r["timezone"]),
                template=str(r["template"]),
                position=int(r["position"]),
                language=str(r["language"]),
                texts=texts.get(int(r["id"]), {}),
            )
            for r in rows
        ]

    async def daily_groups(self) -> list[tuple[str, time, int, int]]:
        """(zone, daily time, chats, of those in digest mode) for every active chat
        that gets something daily (see storage/_daily.py)."""
        rows = await self._fetchall_native(
            "SELECT COALESCE(c.timezone, %(tz)s) AS zone, COALESCE(c.daily_time, %(t)s) AS at,"
            " COUNT(*) AS n, COUNT(*) FILTER (WHERE c.pushes = 'digest') AS digests"
            " FROM chats c WHERE c.active = 1 AND (c.pushes = 'digest' OR"
            " (c.daily_enabled = 1"
            " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.chat_id = c.id)))"
            " GROUP BY 1, 2",
            self._defaults(),
        )
        return [
            (str(r["zone"]), time.fromisoformat(r["at"]), int(r["n"]), int(r["digests"]))
            for r in rows
        ]

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
        async with self._write_native() as db:
            cur = await db.execute(
                "WITH queued AS (INSERT INTO outbox (chat_id, kind, text, created_at)"
                " SELECT c.id, 'daily', COALESCE(%(texts)s::jsonb ->> COALESCE(c.language,"
                " %(language)s), %(texts)s::jsonb ->> %(language)s), %(now)s FROM chats c"
                + _IN_DUE_GROUP
                + " WHERE c.active = 1 AND c.daily_enabled = 1"
                " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.chat_id = c.id)"
                " AND NOT EXISTS (SELECT 1 FROM daily_sends ds"
                " WHERE ds.chat_id = c.id AND ds.local_date = d.local_date)"
                " ORDER BY c.id RETURNING id, chat_id)"
                " INSERT INTO daily_sends (chat_id, local_date, outbox_id, created_at)"
                " SELECT q.chat_id, d.local_date, q.id, %(now)s FROM queued q"
                " JOIN chats c ON c.id = q.chat_id" + _IN_DUE_GROUP,
                params,
            )
            added = max(cur.rowcount, 0)
        if added:
            self.outbox_changed.set()
        return added

    async def release_digests(self, due: Sequence[tuple[str, time, date]]) -> int:
        """Send the day's digest to every chat in digest mode of the due groups, once
        per local date (see storage/_daily.py). Returns the statements released."""
        if not due:
            return 0
        params = {**self._defaults(), "due": _due(due), "now": _ts(self.now())}
        async with self._write_native() as db:
            await db.execute(
                "INSERT INTO digest_releases (chat_id, local_date, created_at)"
                " SELECT c.id, d.local_date, %(now)s FROM chats c" + _IN_DUE_GROUP + " WHERE"
                " c.active = 1 AND c.pushes = 'digest' AND NOT EXISTS (SELECT 1 FROM"
                " digest_releases r WHERE r.chat_id = c.id AND r.local_date = d.local_date)",
                params,
            )
            cur = await db.execute(
                "UPDATE outbox SET state = 'pending',"
                " digest_key = 'day:' || outbox.chat_id || ':' || r.local_date"
                " FROM digest_releases r WHERE r.chat_id = outbox.chat_id"
                " AND r.created_at = %(now)s AND outbox.state = 'held'",
                params,
            )
            released = max(cur.rowcount, 0)
        if released:
            self.outbox_changed.set()
        return released

    async def daily_sent(self, chat_id: int, local_date: date) -> bool:
        row = await self._fetchone_native(
            "SELECT 1 AS found FROM daily_sends WHERE chat_id = %(id)s AND local_date = %(d)s",
            {"id": chat_id, "d": local_date.isoformat()},
        )
        return row is not None


def _due(due: Sequence[tuple[str, time, date]]) -> str:
    return json.dumps([[z, at.strftime("%H:%M"), d.isoformat()] for z, at, d in due])

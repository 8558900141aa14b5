"""The daily message: its counters and queueing it once a day per chat."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, time

from storage._core import CoreBase, _ts
from storage.errors import CounterNotFoundError
from storage.models import Counter


class DailyMixin(CoreBase):
    # SQLite's: chats `c` whose (zone, daily time) is one of the due groups in :due
    # (`_due_params`), each with that group's local date as `d.local_date`. A
    # subquery, not a WITH clause: sqlite3 reports no rowcount for a statement that
    # does not begin with INSERT.
    _IN_DUE_GROUP = (
        " JOIN (SELECT json_extract(value, '$[0]') AS zone, json_extract(value, '$[1]') AS at,"
        " json_extract(value, '$[2]') AS local_date FROM json_each(:due)) d"
        " ON d.zone = COALESCE(c.timezone, :tz) AND d.at = COALESCE(c.daily_time, :t)"
    )

    def _due_params(self, due: Sequence[tuple[str, time, date]]) -> dict[str, object]:
        """The parameters of `_IN_DUE_GROUP` (:due, :tz, :t), and :now."""
        return {
            "tz": self.default_timezone,
            "t": self.default_daily_time.strftime("%H:%M"),
            "due": json.dumps([[z, at.strftime("%H:%M"), d.isoformat()] for z, at, d in due]),
            "now": _ts(self.now()),
        }

    # ------------------------------------------------------------------- counters

    async def add_counter(
        self, start_date: date, timezone: str, template: str, language: str = "en"
    ) -> Counter:
        """A counter; `language` is the one `template` is written in."""
        now = _ts(self.now())
        async with self._write() as db:
            row = await db.fetchone(
                "INSERT INTO counters (start_date, timezone, template, language, position,"
                " created_at) VALUES (:d, :tz, :tpl, :lang,"
                " (SELECT COALESCE(MAX(position), 0) + 1 FROM counters), :now) RETURNING id",
                {
                    "d": start_date.isoformat(),
                    "tz": timezone,
                    "tpl": template,
                    "lang": language,
                    "now": now,
                },
            )
            assert row is not None
        counters = {c.id: c for c in await self.list_counters()}
        return counters[int(row["id"])]

    async def remove_counter(self, counter_id: int) -> None:
        async with self._write() as db:
            if await db.execute("DELETE FROM counters WHERE id = :id", {"id": counter_id}) == 0:
                raise CounterNotFoundError(counter_id)

    async def set_counter_text(self, counter_id: int, language: str, template: str) -> Counter:
        """The counter's text in `language` (replacing one it had)."""
        async with self._write() as db:
            found = await db.fetchone(
                "SELECT 1 AS found FROM counters WHERE id = :id", {"id": counter_id}
            )
            if found is None:
                raise CounterNotFoundError(counter_id)
            await db.execute(
                "INSERT INTO counter_texts (counter_id, language, template)"
                " VALUES (:id, :lang, :tpl) ON CONFLICT (counter_id, language)"
                " DO UPDATE SET template = excluded.template",
                {"id": counter_id, "lang": language, "tpl": template},
            )
        return {c.id: c for c in await self.list_counters()}[counter_id]

    async def list_counters(self) -> list[Counter]:
        rows = await self._fetchall("SELECT * FROM counters ORDER BY position, id")
        texts: dict[int, dict[str, str]] = {}
        for r in await self._fetchall("SELECT * FROM counter_texts"):
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

    # ---------------------------------------------------------------------- daily

    async def daily_groups(self) -> list[tuple[str, time, int, int]]:
        """(zone, daily time, chats, of those in digest mode) for every active chat that
        gets something daily:
        the daily message (subscribed, daily on) or its digest (digest mode), grouped
        so one tick costs a query per distinct setting, not per chat."""
        rows = await self._fetchall(
            "SELECT COALESCE(c.timezone, :tz) AS zone, COALESCE(c.daily_time, :t) AS at,"
            " COUNT(*) AS n, COUNT(*) FILTER (WHERE c.pushes = 'digest') AS digests"
            " FROM chats c WHERE c.active = 1 AND (c.pushes = 'digest' OR"
            " (c.daily_enabled = 1"
            " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.chat_id = c.id)))"
            " GROUP BY 1, 2",
            {"tz": self.default_timezone, "t": self.default_daily_time.strftime("%H:%M")},
        )
        return [
            (str(r["zone"]), time.fromisoformat(r["at"]), int(r["n"]), int(r["digests"]))
            for r in rows
        ]

    async def enqueue_daily(
        self, due: Sequence[tuple[str, time, date]], texts: Mapping[str, str]
    ) -> int:
        """SQLite's. Queue the daily message, in each chat's language (`texts` by language; a
        language without a text gets the default language's), for every eligible chat
        whose (zone, daily time) is in `due` and that has no record yet for that
        group's local date. Returns how many.

        One transaction and a fixed number of statements, however many chats and
        groups are due: 100,000 chats cost three set-based statements, not 100,000.
        The (chat, local date) key makes it once a day: a chat that already had today's
        message (at another time, or before a restart) is skipped.
        """
        if not due:
            return 0
        params = {
            **self._due_params(due),
            "texts": json.dumps(dict(texts)),
            "language": self.default_language,
        }
        in_due_group = self._IN_DUE_GROUP
        async with self._write() as db:
            row = await db.fetchone("SELECT COALESCE(MAX(id), 0) AS last FROM outbox")
            params["before"] = int(row["last"]) if row else 0
            added = await db.execute(
                "INSERT INTO outbox (chat_id, kind, text, created_at)"
                " SELECT c.id, 'daily', COALESCE("
                " json_extract(:texts, '$.' || COALESCE(c.language, :language)),"
                " json_extract(:texts, '$.' || :language)), :now FROM chats c"
                + in_due_group
                + " WHERE c.active = 1 AND c.daily_enabled = 1"
                " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.chat_id = c.id)"
                " AND NOT EXISTS (SELECT 1 FROM daily_sends ds"
                " WHERE ds.chat_id = c.id AND ds.local_date = d.local_date)"
                " ORDER BY c.id",
                params,
            )
            added = max(added, 0)
            if added:
                # The rows just queued are exactly those past the old maximum id: the
                # write lock and BEGIN IMMEDIATE keep every other writer out meanwhile.
                await db.execute(
                    "INSERT INTO daily_sends (chat_id, local_date, outbox_id,"
                    " created_at) SELECT o.chat_id, d.local_date, o.id, :now FROM outbox o"
                    " JOIN chats c ON c.id = o.chat_id" + in_due_group + " WHERE o.id > :before",
                    params,
                )
        if added:
            self.outbox_changed.set()
        return added

    async def release_digests(self, due: Sequence[tuple[str, time, date]]) -> int:
        """Send the day's digest to every chat in digest mode whose (zone, daily time)
        is in `due`: the statements held for it become one digest message, queued now,
        so it goes out just before the daily message queued after it. Once per local
        date (a record), however often the tick comes. Returns the statements released.
        """
        if not due:
            return 0
        params = self._due_params(due)
        async with self._write() as db:
            # Set-based, as for the daily message: 100,000 chats cost two statements.
            await db.execute(
                "INSERT INTO digest_releases (chat_id, local_date, created_at)"
                " SELECT c.id, d.local_date, :now FROM chats c" + self._IN_DUE_GROUP + " WHERE"
                " c.active = 1 AND c.pushes = 'digest' AND NOT EXISTS (SELECT 1 FROM"
                " digest_releases r WHERE r.chat_id = c.id AND r.local_date = d.local_date)",
                params,
            )
            # This tick's releases are the records it just wrote (`created_at = :now`).
            released = await db.execute(
                "UPDATE outbox SET state = 'pending', digest_key = 'day:' || chat_id || ':' ||"
                " (SELECT r.local_date FROM digest_releases r WHERE r.chat_id = outbox.chat_id"
                " AND r.created_at = :now) WHERE state = 'held' AND chat_id IN"
                " (SELECT chat_id FROM digest_releases WHERE created_at = :now)",
                params,
            )
            released = max(released, 0)
        if released:
            self.outbox_changed.set()
        return released

    async def daily_sent(self, chat_id: int, local_date: date) -> bool:
        row = await self._fetchone(
            "SELECT 1 AS found FROM daily_sends WHERE chat_id = :id AND local_date = :d",
            {"id": chat_id, "d": local_date.isoformat()},
        )
        return row is not None

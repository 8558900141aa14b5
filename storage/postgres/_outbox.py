"""The outbox on PostgreSQL: as storage/_outbox.py. A row is claimed (committed as
in flight) before its send and marked sent after it; the claims and confirmations
run on the leader's lock session when there is one (storage/postgres/_core.py), so
an instance that is no longer the leader cannot claim, and so cannot send."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage._core import _outbox, _ts
from storage._outbox import _ROWS
from storage.models import OutboxRow
from storage.postgres._core import PgStoreCore

# storage/_outbox.py's query with this driver's placeholders (it has none itself).
ROWS = _ROWS


class PgOutboxMixin(PgStoreCore):
    async def pending_outbox(
        self, limit: int = 1000, *, after_id: int = 0, now: datetime | None = None
    ) -> list[OutboxRow]:
        """Pending rows with id > after_id, oldest first, skipping rows waiting for a retry."""
        rows = await self._fetchall_native(
            ROWS + " WHERE o.state = 'pending' AND o.id > %(after)s"
            " AND (o.not_before IS NULL OR o.not_before <= %(now)s)"
            " ORDER BY o.id LIMIT %(limit)s",
            {"now": _ts(now or self.now()), "limit": limit, "after": after_id},
        )
        return [_outbox(r, self.default_timezone) for r in rows]

    async def deliverable_outbox(self, limit: int = 1000, *, after_id: int = 0) -> list[OutboxRow]:
        """Pending rows with id > after_id, oldest first, rows waiting for a retry too."""
        rows = await self._fetchall_native(
            ROWS + " WHERE o.state = 'pending' AND o.id > %(after)s ORDER BY o.id LIMIT %(limit)s",
            {"limit": limit, "after": after_id},
        )
        return [_outbox(r, self.default_timezone) for r in rows]

    async def pending_digest_rows(self, chat_id: int, digest_key: str) -> list[OutboxRow]:
        """Every pending row of one chat's digest, oldest first."""
        rows = await self._fetchall_native(
            ROWS + " WHERE o.chat_id = %(chat)s AND o.state = 'pending'"
            " AND o.digest_key = %(key)s ORDER BY o.id",
            {"chat": chat_id, "key": digest_key},
        )
        return [_outbox(r, self.default_timezone) for r in rows]

    async def release_in_flight(self, row_ids: Sequence[int]) -> None:
        """The send was never started (delivery stopped first): not a possible duplicate."""
        await self._claim_native(
            "UPDATE outbox SET in_flight_at = NULL, attempts = GREATEST(attempts - 1, 0)"
            " WHERE id = ANY(%(ids)s) AND state = 'pending'",
            {"ids": list(row_ids)},
        )

    async def mark_in_flight(self, row_ids: Sequence[int]) -> list[int]:
        """Committed before a send: a crash after this leaves a possible duplicate.

        Returns the ids that are still pending (a row cancelled meanwhile is not sent)."""
        rows = await self._claim_native(
            "UPDATE outbox SET in_flight_at = %(now)s, attempts = attempts + 1"
            " WHERE state = 'pending' AND id = ANY(%(ids)s) RETURNING id",
            {"now": _ts(self.now()), "ids": list(row_ids)},
        )
        claimed = {int(r["id"]) for r in rows}
        return [i for i in row_ids if i in claimed]

    async def mark_sent(
        self, row_ids: Sequence[int], message_id: int | None, *, possible_duplicate: bool = False
    ) -> None:
        await self._claim_native(
            "UPDATE outbox SET state = 'sent', message_id = %(message)s,"
            " finished_at = %(now)s, in_flight_at = NULL, last_error = NULL,"
            " possible_duplicate = GREATEST(possible_duplicate, %(dup)s)"
            " WHERE id = ANY(%(ids)s)",
            {
                "message": message_id,
                "now": _ts(self.now()),
                "dup": int(possible_duplicate),
                "ids": list(row_ids),
            },
        )

    async def confirm_and_claim(
        self, sent: Sequence[tuple[Sequence[int], int | None, bool]], claim: Sequence[int]
    ) -> list[int]:
        """Mark the rows of finished sends sent and claim the next rows, in one
        statement (see storage/_outbox.py). Returns the claimed ids still pending."""
        if not sent:
            return await self.mark_in_flight(claim) if claim else []
        sent_ids = [i for ids, _, _ in sent for i in ids]
        messages = [message_id for ids, message_id, _ in sent for _ in ids]
        dups = [int(dup) for ids, _, dup in sent for _ in ids]
        rows = await self._claim_native(
            "UPDATE outbox o SET"
            " state = CASE WHEN t.sent_id IS NOT NULL THEN 'sent' ELSE o.state END,"
            " message_id = CASE WHEN t.sent_id IS NOT NULL THEN t.message_id"
            "  ELSE o.message_id END,"
            " finished_at = CASE WHEN t.sent_id IS NOT NULL THEN %(now)s ELSE o.finished_at END,"
            " last_error = CASE WHEN t.sent_id IS NOT NULL THEN NULL ELSE o.last_error END,"
            " possible_duplicate = CASE WHEN t.dup = 1 THEN GREATEST(o.possible_duplicate, 1)"
            "  ELSE o.possible_duplicate END,"
            " in_flight_at = CASE WHEN t.sent_id IS NOT NULL THEN NULL ELSE %(now)s END,"
            " attempts = CASE WHEN t.sent_id IS NOT NULL THEN o.attempts ELSE o.attempts + 1 END"
            " FROM (SELECT DISTINCT ON (a.id) a.id, s.id AS sent_id, s.message_id, s.dup"
            "  FROM unnest(%(all)s::bigint[]) AS a(id) LEFT JOIN"
            "  unnest(%(sent)s::bigint[], %(messages)s::bigint[], %(dups)s::int[])"
            "  AS s(id, message_id, dup) ON s.id = a.id) AS t"
            " WHERE o.id = t.id AND (t.sent_id IS NOT NULL OR o.state = 'pending')"
            " RETURNING o.id",
            {
                "now": _ts(self.now()),
                "all": [*sent_ids, *claim],
                "sent": sent_ids,
                "messages": messages,
                "dups": dups,
            },
        )
        claimed = {int(r["id"]) for r in rows} - set(sent_ids)
        return [i for i in claim if i in claimed]

    async def mark_retry(self, row_ids: Sequence[int], error: str, not_before: datetime) -> None:
        async with self._write_native() as db:
            await db.execute(
                "UPDATE outbox SET not_before = %(nb)s, last_error = %(err)s,"
                " in_flight_at = NULL WHERE id = ANY(%(ids)s)",
                {"ids": list(row_ids), "nb": _ts(not_before), "err": error[:500]},
            )

    async def mark_cancelled(self, row_ids: Sequence[int], reason: str) -> None:
        """Nothing to send any more (a correction whose message is gone); not a failure."""
        async with self._write_native() as db:
            await db.execute(
                "UPDATE outbox SET state = 'cancelled', last_error = %(err)s,"
                " finished_at = %(now)s, in_flight_at = NULL WHERE id = ANY(%(ids)s)",
                {"ids": list(row_ids), "err": reason[:500], "now": _ts(self.now())},
            )

    async def sent_message(self, row_id: int) -> int | None:
        """Telegram's id of the message a row was sent as; None when it was not sent."""
        row = await self._fetchone_native(
            "SELECT message_id FROM outbox WHERE id = %(id)s AND state = 'sent'", {"id": row_id}
        )
        return None if row is None or row["message_id"] is None else int(row["message_id"])

    async def mark_possible_duplicate(self, row_ids: Sequence[int]) -> None:
        async with self._write_native() as db:
            await db.execute(
                "UPDATE outbox SET possible_duplicate = possible_duplicate + 1"
                " WHERE id = ANY(%(ids)s)",
                {"ids": list(row_ids)},
            )

    async def mark_failed(self, row_ids: Sequence[int], error: str) -> None:
        async with self._write_native() as db:
            await db.execute(
                "UPDATE outbox SET state = 'failed', last_error = %(err)s, finished_at = %(now)s,"
                " in_flight_at = NULL WHERE id = ANY(%(ids)s)",
                {"ids": list(row_ids), "err": error[:500], "now": _ts(self.now())},
            )

    async def recover_in_flight(self) -> int:
        """At start (of a leader): rows whose send began before a crash may have
        arrived. They stay pending and are counted as possible duplicates."""
        async with self._write_native() as db:
            cur = await db.execute(
                "UPDATE outbox SET possible_duplicate = possible_duplicate + 1,"
                " in_flight_at = NULL WHERE state = 'pending' AND in_flight_at IS NOT NULL"
            )
            count = max(cur.rowcount, 0)
        if count:
            self.outbox_changed.set()
        return count

    async def outbox_rows_for_chat(self, chat_id: int) -> list[OutboxRow]:
        rows = await self._fetchall_native(
            "SELECT * FROM outbox WHERE chat_id = %(id)s ORDER BY id", {"id": chat_id}
        )
        return [_outbox(r) for r in rows]

    async def enqueue_text(self, chat_id: int, text: str, kind: str = "daily") -> int:
        async with self._write_native() as db:
            cur = await db.execute(
                "INSERT INTO outbox (chat_id, kind, text, created_at)"
                " VALUES (%(chat)s, %(kind)s, %(text)s, %(now)s) RETURNING id",
                {"chat": chat_id, "kind": kind, "text": text, "now": _ts(self.now())},
            )
            row = await cur.fetchone()
            assert row is not None
        self.outbox_changed.set()
        return int(row["id"])

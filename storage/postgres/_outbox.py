"""The outbox on PostgreSQL: storage/_outbox.py's, with claims of its own. A row is
claimed (committed as in flight) before its send and marked sent after it; the
claims and confirmations run on the leader's lock session when there is one
(`_claim_statement`, storage/postgres/_core.py), so an instance that is no longer
the leader cannot claim, and so cannot send."""

from __future__ import annotations

from collections.abc import Sequence

from storage._core import _ts
from storage._outbox import OutboxMixin
from storage.postgres._core import PgStoreCore


class PgOutboxMixin(OutboxMixin, PgStoreCore):
    async def release_in_flight(self, row_ids: Sequence[int]) -> None:
        """The send was never started (delivery stopped first): not a possible duplicate."""
        await self._claim_statement(
            "UPDATE outbox SET in_flight_at = NULL, attempts = GREATEST(attempts - 1, 0)"
            " WHERE id = ANY(:ids) AND state = 'pending'",
            {"ids": list(row_ids)},
        )

    async def mark_in_flight(self, row_ids: Sequence[int]) -> list[int]:
        """Committed before a send: a crash after this leaves a possible duplicate.

        Returns the ids that are still pending (a row cancelled meanwhile is not sent)."""
        rows = await self._claim_statement(
            "UPDATE outbox SET in_flight_at = :now, attempts = attempts + 1"
            " WHERE state = 'pending' AND id = ANY(:ids) RETURNING id",
            {"now": _ts(self.now()), "ids": list(row_ids)},
        )
        claimed = {int(r["id"]) for r in rows}
        return [i for i in row_ids if i in claimed]

    async def mark_sent(
        self, row_ids: Sequence[int], message_id: int | None, *, possible_duplicate: bool = False
    ) -> None:
        await self._claim_statement(
            "UPDATE outbox SET state = 'sent', message_id = :message,"
            " finished_at = :now, in_flight_at = NULL, last_error = NULL,"
            " possible_duplicate = GREATEST(possible_duplicate, :dup)"
            " WHERE id = ANY(:ids)",
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
        rows = await self._claim_statement(
            "UPDATE outbox o SET"
            " state = CASE WHEN t.sent_id IS NOT NULL THEN 'sent' ELSE o.state END,"
            " message_id = CASE WHEN t.sent_id IS NOT NULL THEN t.message_id"
            "  ELSE o.message_id END,"
            " finished_at = CASE WHEN t.sent_id IS NOT NULL THEN :now ELSE o.finished_at END,"
            " last_error = CASE WHEN t.sent_id IS NOT NULL THEN NULL ELSE o.last_error END,"
            " possible_duplicate = CASE WHEN t.dup = 1 THEN GREATEST(o.possible_duplicate, 1)"
            "  ELSE o.possible_duplicate END,"
            " in_flight_at = CASE WHEN t.sent_id IS NOT NULL THEN NULL ELSE :now END,"
            " attempts = CASE WHEN t.sent_id IS NOT NULL THEN o.attempts ELSE o.attempts + 1 END"
            " FROM (SELECT DISTINCT ON (a.id) a.id, s.id AS sent_id, s.message_id, s.dup"
            "  FROM unnest(:all::bigint[]) AS a(id) LEFT JOIN"
            "  unnest(:sent::bigint[], :messages::bigint[], :dups::int[])"
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

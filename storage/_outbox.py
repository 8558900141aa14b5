"""The outbox: messages waiting to be sent, claimed before each send and marked
sent, retried or failed after it, so a crash leaves at most a possible duplicate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage._core import CoreBase, _outbox, _ts
from storage.models import OutboxRow

# Outbox rows with what sending them needs: the chat's type and zone, the alert that
# brought the statement, and for a correction the statement of the message it edits.
_ROWS = (
    "SELECT o.id, o.chat_id, o.kind, COALESCE(o.item_id, orig.item_id) AS item_id, o.text,"
    " o.digest_key, o.state, o.attempts, o.created_at, o.possible_duplicate, o.not_before,"
    " o.edit_of, c.type AS chat_type, c.timezone AS chat_timezone, a.query AS alert_query,"
    " c.parent_id AS send_to, c.thread_id, c.language AS chat_language"
    " FROM outbox o JOIN chats c ON c.id = o.chat_id"
    " LEFT JOIN outbox orig ON orig.id = o.edit_of"
    " LEFT JOIN alerts a ON a.id = COALESCE(o.alert_id, orig.alert_id)"
)


class OutboxMixin(CoreBase):
    """The outbox; the claims and confirmations here are SQLite's, one statement on
    the fast connection (`_claim`); storage/postgres/_outbox.py has PostgreSQL's."""

    # --------------------------------------------------------------------- outbox

    async def pending_outbox(
        self, limit: int = 1000, *, after_id: int = 0, now: datetime | None = None
    ) -> list[OutboxRow]:
        """Pending rows with id > after_id, oldest first, skipping rows waiting for a retry."""
        when = _ts(now or self.now())
        rows = await self._fetchall(
            _ROWS + " WHERE o.state = 'pending' AND o.id > :after"
            " AND (o.not_before IS NULL OR o.not_before <= :now)"
            " ORDER BY o.id LIMIT :limit",
            {"now": when, "limit": limit, "after": after_id},
        )
        return [_outbox(r, self.default_timezone) for r in rows]

    async def deliverable_outbox(self, limit: int = 1000, *, after_id: int = 0) -> list[OutboxRow]:
        """Pending rows with id > after_id, oldest first, including rows waiting for a
        retry (`not_before` says until when): delivery keeps each chat in order."""
        rows = await self._fetchall(
            _ROWS + " WHERE o.state = 'pending' AND o.id > :after ORDER BY o.id LIMIT :limit",
            {"limit": limit, "after": after_id},
        )
        return [_outbox(r, self.default_timezone) for r in rows]

    async def pending_digest_rows(self, chat_id: int, digest_key: str) -> list[OutboxRow]:
        """Every pending row of one chat's digest, oldest first."""
        rows = await self._fetchall(
            _ROWS + " WHERE o.chat_id = :chat AND o.state = 'pending' AND o.digest_key = :key"
            " ORDER BY o.id",
            {"chat": chat_id, "key": digest_key},
        )
        return [_outbox(r, self.default_timezone) for r in rows]

    async def release_in_flight(self, row_ids: Sequence[int]) -> None:
        """The send was never started (delivery stopped first): not a possible duplicate."""
        async with self._write() as db:
            await db.executemany(
                "UPDATE outbox SET in_flight_at = NULL, attempts = MAX(attempts - 1, 0)"
                " WHERE id = :id AND state = 'pending'",
                [{"id": i} for i in row_ids],
            )

    async def mark_in_flight(self, row_ids: Sequence[int]) -> list[int]:
        """Committed before a send: a crash after this leaves a possible duplicate.

        Returns the ids that are still pending (a row cancelled meanwhile is not sent).
        """
        marks = ",".join("?" * len(row_ids))
        rows = await self._claim(
            "UPDATE outbox SET in_flight_at = ?, attempts = attempts + 1"
            f" WHERE state = 'pending' AND id IN ({marks}) RETURNING id",
            [_ts(self.now()), *row_ids],
        )
        claimed = {int(r["id"]) for r in rows}
        return [i for i in row_ids if i in claimed]

    async def mark_sent(
        self, row_ids: Sequence[int], message_id: int | None, *, possible_duplicate: bool = False
    ) -> None:
        marks = ",".join("?" * len(row_ids))
        await self._claim(
            "UPDATE outbox SET state = 'sent', message_id = ?, finished_at = ?,"
            " in_flight_at = NULL, last_error = NULL,"
            f" possible_duplicate = MAX(possible_duplicate, ?) WHERE id IN ({marks})",
            [message_id, _ts(self.now()), int(possible_duplicate), *row_ids],
        )

    async def confirm_and_claim(
        self, sent: Sequence[tuple[Sequence[int], int | None, bool]], claim: Sequence[int]
    ) -> list[int]:
        """Mark the rows of finished sends sent and claim the next rows, in one
        statement (one commit, one trip to SQLite's thread).

        `sent` holds (row ids, Telegram's message id, possibly duplicated) per send.
        Delivery confirms a send no later than it claims the next one, so the rows in
        doubt after a crash are never more than the sends really in flight (or one
        confirmed late). Returns the claimed ids that were still pending.
        """
        if not sent:
            return await self.mark_in_flight(claim) if claim else []
        now = _ts(self.now())
        sent_ids = [i for ids, _, _ in sent for i in ids]
        dup_ids = [i for ids, _, dup in sent if dup for i in ids]
        s_marks = ",".join("?" * len(sent_ids))
        a_marks = ",".join("?" * (len(sent_ids) + len(claim)))
        d_marks = ",".join("?" * len(dup_ids)) or "NULL"
        message_case = " ".join("WHEN ? THEN ?" for _ in sent_ids)
        message_params: list[Any] = []
        for ids, message_id, _ in sent:
            for i in ids:
                message_params += [i, message_id]
        rows = await self._claim(
            "UPDATE outbox SET"
            f" state = CASE WHEN id IN ({s_marks}) THEN 'sent' ELSE state END,"
            f" message_id = CASE id {message_case} ELSE message_id END,"
            f" finished_at = CASE WHEN id IN ({s_marks}) THEN ? ELSE finished_at END,"
            f" last_error = CASE WHEN id IN ({s_marks}) THEN NULL ELSE last_error END,"
            f" possible_duplicate = CASE WHEN id IN ({d_marks})"
            " THEN MAX(possible_duplicate, 1) ELSE possible_duplicate END,"
            f" in_flight_at = CASE WHEN id IN ({s_marks}) THEN NULL ELSE ? END,"
            f" attempts = CASE WHEN id IN ({s_marks}) THEN attempts ELSE attempts + 1 END"
            # One IN list of every id first, so SQLite looks the rows up by id
            # instead of scanning the outbox for the OR.
            f" WHERE id IN ({a_marks}) AND (id IN ({s_marks}) OR state = 'pending')"
            " RETURNING id",
            [
                *sent_ids,
                *message_params,
                *sent_ids,
                now,
                *sent_ids,
                *dup_ids,
                *sent_ids,
                now,
                *sent_ids,
                *sent_ids,
                *claim,
                *sent_ids,
            ],
        )
        claimed = {int(r["id"]) for r in rows} - set(sent_ids)
        return [i for i in claim if i in claimed]

    async def mark_retry(self, row_ids: Sequence[int], error: str, not_before: datetime) -> None:
        async with self._write() as db:
            await db.execute(
                "UPDATE outbox SET not_before = :nb, last_error = :err, in_flight_at = NULL"
                f" WHERE {self._in_list('id', 'ids')}",
                {"ids": self._list_param(row_ids), "nb": _ts(not_before), "err": error[:500]},
            )

    async def mark_cancelled(self, row_ids: Sequence[int], reason: str) -> None:
        """Nothing to send any more (a correction whose message is gone); not a failure."""
        now = _ts(self.now())
        async with self._write() as db:
            await db.execute(
                "UPDATE outbox SET state = 'cancelled', last_error = :err, finished_at = :now,"
                f" in_flight_at = NULL WHERE {self._in_list('id', 'ids')}",
                {"ids": self._list_param(row_ids), "err": reason[:500], "now": now},
            )

    async def sent_message(self, row_id: int) -> int | None:
        """Telegram's id of the message a row was sent as; None when it was not sent."""
        row = await self._fetchone(
            "SELECT message_id FROM outbox WHERE id = :id AND state = 'sent'", {"id": row_id}
        )
        return None if row is None or row["message_id"] is None else int(row["message_id"])

    async def mark_possible_duplicate(self, row_ids: Sequence[int]) -> None:
        async with self._write() as db:
            await db.execute(
                "UPDATE outbox SET possible_duplicate = possible_duplicate + 1"
                f" WHERE {self._in_list('id', 'ids')}",
                {"ids": self._list_param(row_ids)},
            )

    async def mark_failed(self, row_ids: Sequence[int], error: str) -> None:
        now = _ts(self.now())
        async with self._write() as db:
            await db.execute(
                "UPDATE outbox SET state = 'failed', last_error = :err, finished_at = :now,"
                f" in_flight_at = NULL WHERE {self._in_list('id', 'ids')}",
                {"ids": self._list_param(row_ids), "err": error[:500], "now": now},
            )

    async def recover_in_flight(self) -> int:
        """At start: rows whose send began before a crash may have arrived. They stay
        pending (they may not have arrived either) and are counted as possible duplicates."""
        async with self._write() as db:
            count = await db.execute(
                "UPDATE outbox SET possible_duplicate = possible_duplicate + 1, in_flight_at = NULL"
                " WHERE state = 'pending' AND in_flight_at IS NOT NULL"
            )
            count = max(count, 0)
        if count:
            self.outbox_changed.set()
        return count

    async def outbox_rows_for_chat(self, chat_id: int) -> list[OutboxRow]:
        rows = await self._fetchall(
            "SELECT * FROM outbox WHERE chat_id = :id ORDER BY id", {"id": chat_id}
        )
        return [_outbox(r) for r in rows]

    async def enqueue_text(self, chat_id: int, text: str, kind: str = "daily") -> int:
        now = _ts(self.now())
        async with self._write() as db:
            row = await db.fetchone(
                "INSERT INTO outbox (chat_id, kind, text, created_at)"
                " VALUES (:chat, :kind, :text, :now) RETURNING id",
                {"chat": chat_id, "kind": kind, "text": text, "now": now},
            )
            assert row is not None
        self.outbox_changed.set()
        return int(row["id"])

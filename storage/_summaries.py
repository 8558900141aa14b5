"""Stored summaries recomputed after an upgrade (`communique resummarise`): the
statements read a batch at a time in id order, and the summaries that changed
written back with their stems, so search by a summary's words stays right."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from storage._core import CoreBase
from storage._stems import stem_texts


class StoredSummary(NamedTuple):
    """A statement's id, its stored summary and the text it was taken from."""

    id: int
    summary: str
    content: str


class SummaryChange(NamedTuple):
    """A new summary for a statement, and the one it replaces."""

    id: int
    old: str
    new: str


class SummariesMixin(CoreBase):
    async def count_items_after(self, after_id: int) -> int:
        """How many statements have an id above `after_id` (what is left to do)."""
        row = await self._fetchone(
            "SELECT COUNT(*) AS n FROM items WHERE id > :after", {"after": after_id}
        )
        return int(row["n"]) if row else 0

    async def summaries_after(self, after_id: int, limit: int) -> list[StoredSummary]:
        """The next `limit` statements with an id above `after_id`, in id order."""
        rows = await self._fetchall(
            "SELECT id, summary, content FROM items WHERE id > :after ORDER BY id LIMIT :limit",
            {"after": after_id, "limit": limit},
        )
        return [StoredSummary(int(r["id"]), str(r["summary"]), str(r["content"])) for r in rows]

    async def replace_summaries(self, changes: Sequence[SummaryChange]) -> int:
        """Write new summaries, with their stems, in one transaction; returns how many
        were written. A summary that is no longer the one read (a poll stored an edit
        of the statement meanwhile) is left as the poll wrote it.

        The triggers keep both search indexes right: the words as written
        (`items_fts`, on `summary`) and the stems (`items_fts_stems`, on
        `summary_stems`). A statement not stemmed yet (an upgrade under way) keeps
        no stems; the upgrade stems it whole. Its date and `updated_at` stay: the
        statement itself did not change.
        """
        if not changes:
            return 0
        stems = await stem_texts([("", c.new, "") for c in changes])
        async with self._write() as db:
            written = await db.executemany(
                "UPDATE items SET summary = :new,"
                " summary_stems = CASE WHEN title_stems IS NULL THEN NULL ELSE :stems END"
                " WHERE id = :id AND summary = :old",
                [
                    {"id": c.id, "old": c.old, "new": c.new, "stems": stemmed[1]}
                    for c, stemmed in zip(changes, stems, strict=True)
                ],
            )
        written = max(written, 0)
        if written:
            # Delivery renders statements once for many chats: its copies are stale.
            self.items_version += 1
        return written

"""Stored summaries recomputed after an upgrade, on PostgreSQL: as
storage/_summaries.py, the changed statements indexed again whole (a tsvector
holds the positions of all three texts)."""

from __future__ import annotations

from collections.abc import Sequence

from storage._summaries import StoredSummary, SummaryChange
from storage.postgres._core import PgStoreCore
from storage.postgres._index import index_word_forms


class PgSummariesMixin(PgStoreCore):
    async def count_items_after(self, after_id: int) -> int:
        """How many statements have an id above `after_id` (what is left to do)."""
        row = await self._fetchone(
            "SELECT COUNT(*) AS n FROM items WHERE id > %(after)s", {"after": after_id}
        )
        return int(row["n"]) if row else 0

    async def summaries_after(self, after_id: int, limit: int) -> list[StoredSummary]:
        """The next `limit` statements with an id above `after_id`, in id order."""
        rows = await self._fetchall(
            "SELECT id, summary, content FROM items WHERE id > %(after)s ORDER BY id"
            " LIMIT %(limit)s",
            {"after": after_id, "limit": limit},
        )
        return [StoredSummary(int(r["id"]), str(r["summary"]), str(r["content"])) for r in rows]

    async def replace_summaries(self, changes: Sequence[SummaryChange]) -> int:
        """Write new summaries in one transaction, a summary no longer the one read
        left as it is; the rows written are indexed again. Returns how many."""
        if not changes:
            return 0
        async with self._write() as db:
            async with db.cursor() as cur:
                await cur.executemany(
                    "UPDATE items SET summary = %(new)s, title_stems = NULL,"
                    " summary_stems = NULL, content_stems = NULL, search_words = NULL,"
                    " search_stems = NULL WHERE id = %(id)s AND summary = %(old)s",
                    [{"id": c.id, "old": c.old, "new": c.new} for c in changes],
                )
                written = max(cur.rowcount, 0)
            if written:
                await index_word_forms(db)
        if written:
            self.items_version += 1
        return written

"""Stored summaries recomputed after an upgrade, on PostgreSQL: storage/_summaries.py's,
but the changed statements are indexed again whole (a tsvector holds the positions
of all three texts)."""

from __future__ import annotations

from collections.abc import Sequence

from storage._summaries import SummariesMixin, SummaryChange
from storage.postgres._core import PgStoreCore
from storage.postgres._index import index_word_forms


class PgSummariesMixin(SummariesMixin, PgStoreCore):
    async def replace_summaries(self, changes: Sequence[SummaryChange]) -> int:
        """Write new summaries in one transaction, a summary no longer the one read
        left as it is; the rows written are indexed again. Returns how many."""
        if not changes:
            return 0
        async with self._write() as db:
            written = await db.executemany(
                "UPDATE items SET summary = :new, title_stems = NULL, summary_stems = NULL,"
                " content_stems = NULL, search_words = NULL, search_stems = NULL"
                " WHERE id = :id AND summary = :old",
                [{"id": c.id, "old": c.old, "new": c.new} for c in changes],
            )
            written = max(written, 0)
            if written:
                await index_word_forms(db.conn)
        if written:
            self.items_version += 1
        return written

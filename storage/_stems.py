"""The stems of stored statements (the shadow columns `items.*_stems` that
`items_fts_stems` indexes): computed for new and edited statements, and filled in
for rows stored without them (storage/store.py's upgrade step)."""

from __future__ import annotations

import asyncio

from storage._core import Tx
from storage.words import stem_text

# Statements with more text than this in all are stemmed in a thread (stem_texts).
STEM_INLINE_CHARS = 200_000


async def index_word_forms(db: Tx, *, feed_id: int | None = None, limit: int = -1) -> int:
    """Stem the statements whose stems are not there yet (NULL), of one feed or of
    all, at most `limit` of them (-1: no limit), inside the caller's transaction;
    the triggers then index the stems. Returns how many were stemmed."""
    rows = await db.fetchall(
        "SELECT id, title, summary, content FROM items WHERE title_stems IS NULL"
        " AND (:feed IS NULL OR feed_id = :feed) LIMIT :limit",
        {"feed": feed_id, "limit": limit},
    )
    stemmed = await stem_texts(
        [(str(r["title"]), str(r["summary"]), str(r["content"])) for r in rows]
    )
    await db.executemany(
        "UPDATE items SET title_stems = ?, summary_stems = ?, content_stems = ? WHERE id = ?",
        [(*texts, int(r["id"])) for r, texts in zip(rows, stemmed, strict=True)],
    )
    return len(rows)


async def stem_texts(texts: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The stem texts of (title, summary, content) triples. Statements of ordinary
    size are stemmed right here, which costs less than a trip to a thread; a huge
    one (a title of megabytes) in a thread, so the event loop keeps running."""

    def run() -> list[tuple[str, str, str]]:
        return [(stem_text(a), stem_text(b), stem_text(c)) for a, b, c in texts]

    if sum(len(a) + len(b) + len(c) for a, b, c in texts) > STEM_INLINE_CHARS:
        return await asyncio.to_thread(run)
    return run()

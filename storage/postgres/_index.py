"""The search index of stored statements on PostgreSQL: their stems (as on SQLite,
storage/_stems.py) and their two tsvectors (storage/postgres/search.py), computed
in Python when a statement is stored or changed, and filled in for rows that have
none (`title_stems IS NULL`: written by another program, or copied without them)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from storage._stems import STEM_INLINE_CHARS
from storage.postgres._core import Conn, fetchall
from storage.postgres.search import Tsvectors, index_texts
from storage.words import stem_text

Texts = tuple[str, str, str]  # title, summary, content


def _index(texts: Sequence[Texts]) -> list[tuple[Texts, Tsvectors]]:
    out: list[tuple[Texts, Tsvectors]] = []
    for title, summary, content in texts:
        stemmed = (stem_text(title), stem_text(summary), stem_text(content))
        out.append((stemmed, index_texts(title, summary, content, stemmed)))
    return out


async def index_statements(texts: Sequence[Texts]) -> list[tuple[Texts, Tsvectors]]:
    """(stems, tsvectors) of each (title, summary, content). Ordinary statements are
    indexed right here; a huge one in a thread, so the event loop keeps running."""
    if sum(len(a) + len(b) + len(c) for a, b, c in texts) > STEM_INLINE_CHARS:
        return await asyncio.to_thread(_index, texts)
    return _index(texts)


INDEX_COLUMNS = (
    "title_stems = %(title_stems)s, summary_stems = %(summary_stems)s,"
    " content_stems = %(content_stems)s, search_words = %(search_words)s::tsvector,"
    " search_stems = %(search_stems)s::tsvector"
)


def index_params(stemmed: Texts, vectors: Tsvectors) -> dict[str, str]:
    return {
        "title_stems": stemmed[0],
        "summary_stems": stemmed[1],
        "content_stems": stemmed[2],
        "search_words": vectors.words,
        "search_stems": vectors.stems,
    }


async def index_word_forms(
    db: Conn, *, feed_id: int | None = None, limit: int | None = None
) -> int:
    """Index the statements that have no index yet, of one feed or of all, at most
    `limit` of them, inside the caller's transaction. Returns how many."""
    rows = await fetchall(
        db,
        "SELECT id, title, summary, content FROM items WHERE title_stems IS NULL"
        " AND (%(feed)s::bigint IS NULL OR feed_id = %(feed)s) ORDER BY id LIMIT %(limit)s",
        {"feed": feed_id, "limit": limit},
    )
    if not rows:
        return 0
    indexed = await index_statements(
        [(str(r["title"]), str(r["summary"]), str(r["content"])) for r in rows]
    )
    async with db.cursor() as cur:
        await cur.executemany(
            f"UPDATE items SET {INDEX_COLUMNS} WHERE id = %(id)s",
            [
                {**index_params(stemmed, vectors), "id": int(r["id"])}
                for r, (stemmed, vectors) in zip(rows, indexed, strict=True)
            ],
        )
    return len(rows)

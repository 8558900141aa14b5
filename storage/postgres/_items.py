"""Statements on PostgreSQL: storage/_items.py's, with PostgreSQL's search index
(stems and tsvectors, storage/postgres/_index.py) and its own search (ts_rank and
ts_headline, storage/postgres/search.py), whose results match FTS5's: the
constants of storage/_items.py (and the promises in its docstrings) hold here."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import psycopg

import storage._items as shared
from storage._core import _ITEM_COLUMNS, RowLike, Tx, _item
from storage._items import HIGHLIGHT_CHARS, ItemsMixin
from storage.errors import StorageError
from storage.models import SearchHit
from storage.postgres._core import PgStoreCore
from storage.postgres._index import INDEX_COLUMNS, index_params, index_statements
from storage.postgres._index import index_word_forms as index_missing
from storage.postgres._routing import queue_routed
from storage.postgres.search import highlight_query, matched_forms, tsquery
from storage.query import Query, parse_query

log = logging.getLogger("storage.store")

# ts_headline's picture of a snippet; FTS5's snippet() there takes 24 tokens.
HEADLINE_WORDS = 24


class PgItemsMixin(ItemsMixin, PgStoreCore):
    # PostgreSQL's index of a statement: the stems and two tsvectors (storage/postgres/_index.py).
    _UNINDEXED = (
        "title_stems = NULL, summary_stems = NULL, content_stems = NULL,"
        " search_words = NULL, search_stems = NULL"
    )
    _INDEX_COLUMNS = "title_stems, summary_stems, content_stems, search_words, search_stems"
    _INDEX_VALUES = (
        ":title_stems, :summary_stems, :content_stems,"
        " CAST(:search_words AS tsvector), CAST(:search_stems AS tsvector)"
    )
    _NUMBERED_IDS = "unnest(CAST(:items AS bigint[])) WITH ORDINALITY AS j(value, key)"

    async def _index_missing(self, db: Tx, feed_id: int) -> None:
        await index_missing(self._conn, feed_id=feed_id)

    async def _index_new(self, texts: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
        return [index_params(*index) for index in await index_statements(texts)]

    _queue_routed = staticmethod(queue_routed)

    async def search(
        self, query: str, *, limit: int = 5, offset: int = 0, marks: tuple[str, str] = ("", "")
    ) -> list[SearchHit]:
        """Best matches first, with snippets marking the matched words as written
        (see storage/_items.py): ts_rank with the title weighted above the lead and
        the lead above the text, among the `SEARCH_WINDOW` most recent matches."""
        parsed = parse_query(query)
        plan = tsquery(parsed)
        where, params = plan.where("i")
        rank_column, rank_query = plan.ranking()
        window = shared.SEARCH_WINDOW
        try:
            # The most recent matches (all of them, when fewer), each ranked as it is
            # read, then the best of those: one scan, however common the word.
            rows = await self._fetchall(
                f"SELECT {_ITEM_COLUMNS} FROM (SELECT i.id, ts_rank('{{0, 0.1, 0.3, 1.0}}',"
                f" i.{rank_column}, :q_rank::tsquery, 1) AS rank FROM items i WHERE {where}"
                " ORDER BY i.id DESC LIMIT :window) AS r"
                " JOIN items i ON i.id = r.id JOIN feeds f ON f.id = i.feed_id"
                # The id breaks ties, so pages never repeat or skip a statement.
                " ORDER BY r.rank DESC, r.id DESC LIMIT :limit OFFSET :offset",
                {
                    **params,
                    "q_rank": rank_query,
                    "window": window,
                    "limit": limit,
                    "offset": offset,
                },
                prepare=False,
            )
            snippets = await self._snippets(parsed, rows, marks)
        except psycopg.errors.DataError as exc:
            # The query is built from its own tokens, so this is a bug, not the user's.
            log.error("search query %r failed as %r: %s", query, plan, exc)
            raise StorageError("that search could not be run") from exc
        return [SearchHit(item=_item(r), snippet=snippets.get(int(r["id"]), "")) for r in rows]

    async def _snippets(
        self, query: Query, rows: Sequence[RowLike], marks: tuple[str, str]
    ) -> dict[int, str]:
        """id → snippet of each row from the field with the most matched forms,
        marked by ts_headline, as FTS5's snippet() picks its column."""
        picks: list[tuple[int, set[tuple[str, ...]], str, str]] = []  # id, forms, text, tsquery
        for r in rows:
            best: tuple[set[tuple[str, ...]], str] | None = None
            for column in ("title", "summary", "content"):
                text = str(r[column])[:HIGHLIGHT_CHARS]
                forms = matched_forms(query, text)
                if forms and (best is None or len(forms) > len(best[0])):
                    best = (forms, text)
            expression = None if best is None else highlight_query(best[0])
            if best is not None and expression is not None:
                picks.append((int(r["id"]), best[0], best[1], expression))
        if not picks:
            return {}
        start, stop = (m.replace('"', '""') for m in marks)
        options = (
            f'StartSel="{start}", StopSel="{stop}", MaxWords={HEADLINE_WORDS},'
            f" MinWords={HEADLINE_WORDS // 2}, ShortWord=0"
        )
        found = await self._fetchall(
            "SELECT x.id, ts_headline('simple', x.body, x.q::tsquery, :options) AS snippet"
            " FROM unnest(:ids::bigint[], :bodies::text[], :queries::text[])"
            " AS x(id, body, q)",
            {
                "ids": [p[0] for p in picks],
                "bodies": [p[2] for p in picks],
                "queries": [p[3] for p in picks],
                "options": options,
            },
        )
        by_id = {p[0]: p for p in picks}
        out: dict[int, str] = {}
        for r in found:
            _, forms, text, _ = by_id[int(r["id"])]
            snippet = _joined_phrases(str(r["snippet"] or ""), forms, marks)
            out[int(r["id"])] = _with_ellipses(snippet, text, marks)
        return out

    async def search_count(self, query: str, *, cap: int = 1000) -> int:
        """How many statements match `query`, counting no further than `cap`."""
        plan = tsquery(parse_query(query))
        where, params = plan.where("i")
        row = await self._fetchone(
            f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM items i WHERE {where} LIMIT :cap) AS found",
            {**params, "cap": cap},
            prepare=False,
        )
        return int(row["n"]) if row else 0


def _joined_phrases(snippet: str, forms: set[tuple[str, ...]], marks: tuple[str, str]) -> str:
    """One mark around a phrase, as FTS5 marks it, where ts_headline marks each word."""
    start, stop = marks
    if not start and not stop:
        return snippet
    for form in forms:
        if len(form) < 2:
            continue
        pattern = r"(\s+)".join(re.escape(start + word + stop) for word in form)

        def join(found: re.Match[str], form: tuple[str, ...] = form) -> str:
            gaps = [*found.groups(), ""]
            return start + "".join(w + g for w, g in zip(form, gaps, strict=True)) + stop

        snippet = re.sub(pattern, join, snippet)
    return snippet


def _with_ellipses(snippet: str, text: str, marks: tuple[str, str]) -> str:
    """An ellipsis where the snippet cuts the text, as FTS5's snippet() shows it."""
    plain = snippet
    for mark in marks:
        if mark:
            plain = plain.replace(mark, "")
    flat, whole = " ".join(plain.split()), " ".join(text.split())
    if not flat:
        return snippet
    before = "" if whole.startswith(flat) else "…"
    after = "" if whole.endswith(flat) else "…"
    return before + snippet.strip() + after


# An index row's columns, for storage/transfer.py's copy.
__all__ = ["INDEX_COLUMNS", "PgItemsMixin"]

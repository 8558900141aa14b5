"""Statements on PostgreSQL: storing a successful poll (what is new is pushed),
reading the latest, and full-text search; as storage/_items.py, whose constants
(and whose promises, in its docstrings) hold here unchanged."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

import psycopg

import storage._items as sqlite_items
from storage._core import _dt_required, _item, _ts
from storage._items import CORRECTION_WINDOW, HIGHLIGHT_CHARS, PollOutcome
from storage._routing import SavedSearches, has_filters, route
from storage.errors import FeedNotFoundError, StorageError
from storage.models import Detection, Item, NewItem, SearchHit
from storage.postgres._core import Conn, PgStoreCore, Row, fetchall, fetchone
from storage.postgres._feeds import MOVED_URL, mark_success
from storage.postgres._index import INDEX_COLUMNS, index_params, index_statements
from storage.postgres._index import index_word_forms as index_missing
from storage.postgres._routing import load_saved_searches, queue_routed
from storage.postgres.search import highlight_query, matched_forms, tsquery
from storage.query import Query, parse_query

log = logging.getLogger("storage.store")

_ITEM_COLUMNS = (
    "i.id, i.feed_id, i.identity, i.guid, i.link, i.title, i.summary, i.content,"
    " i.published_at, i.first_seen_at, i.updated_at, f.title AS feed_title"
)
# ts_headline's picture of a snippet; FTS5's snippet() there takes 24 tokens.
HEADLINE_WORDS = 24


class PgItemsMixin(PgStoreCore):
    _searches: SavedSearches | None = None

    async def _saved_searches(self, db: Conn) -> SavedSearches:
        """The matcher, rebuilt when any filter or alert changed since it was built."""
        row = await fetchone(db, "SELECT version FROM matcher_version WHERE id = 1")
        version = int(row["version"]) if row else 0
        if self._searches is None or self._searches.version != version:
            self._searches = await load_saved_searches(db, version)
        return self._searches

    async def record_poll(
        self,
        feed_id: int,
        entries: Sequence[NewItem],
        *,
        feed_title: str | None,
        etag: str | None,
        last_modified: str | None,
        content_hash: str | None,
        next_poll_at: datetime,
        url: str | None = None,
        push: bool = True,
        ttl_seconds: int | None = None,
        language: str | None = None,
        detection: Detection | None = None,
    ) -> PollOutcome:
        """Store a successful poll in one transaction (see storage/_items.py)."""
        now_dt = self.now()
        now = _ts(now_dt)
        async with self._write_native() as db:
            feed_row = await fetchone(
                db,
                "SELECT last_success_at,"
                " (SELECT MAX(published_at) FROM items WHERE feed_id = %(id)s"
                "  AND published_at <= %(now)s) AS newest"
                " FROM feeds WHERE id = %(id)s AND removed = 0",
                {"id": feed_id, "now": now},
            )
            if feed_row is None:
                raise FeedNotFoundError(feed_id)
            backlog = feed_row["last_success_at"] is None
            newest = feed_row["newest"]

            existing = await _stored_texts(db, feed_id, [e.identity for e in entries])
            fresh: list[NewItem] = []
            changed: list[dict[str, object]] = []
            corrected: list[int] = []
            seen: set[str] = set()
            for entry in entries:
                if entry.identity in seen:
                    continue
                seen.add(entry.identity)
                stored = existing.get(entry.identity)
                if stored is None:
                    fresh.append(entry)
                    continue
                item_id, title, summary, content = stored
                # A correction is the source's: a new title, or a new summary of a new
                # text; a summary alone that differs is our summariser's (an upgrade).
                if title != entry.title or (summary != entry.summary and content != entry.content):
                    corrected.append(item_id)
                if (title, summary, content) != (entry.title, entry.summary, entry.content):
                    changed.append(
                        {
                            "id": item_id,
                            "title": entry.title,
                            "summary": entry.summary,
                            "content": entry.content,
                            "link": entry.link,
                            "now": now,
                        }
                    )
            if changed:
                # An edited statement keeps its identity; only a real change is written,
                # and indexed again.
                async with db.cursor() as cur:
                    await cur.executemany(
                        "UPDATE items SET title = %(title)s, summary = %(summary)s,"
                        " content = %(content)s, link = COALESCE(%(link)s, link),"
                        " updated_at = %(now)s, title_stems = NULL, summary_stems = NULL,"
                        " content_stems = NULL, search_words = NULL, search_stems = NULL"
                        " WHERE id = %(id)s",
                        changed,
                    )
                await index_missing(db, feed_id=feed_id)
                self.items_version += 1
            corrections = await _queue_corrections(db, corrected, now) if corrected else 0

            def dated(entry: NewItem) -> float:
                return now if entry.published_at is None else _ts(entry.published_at)

            # Oldest first by the feed's own dates, so outbox ids follow publication
            # order within every chat; a date over a day ahead is stored as now.
            fresh.sort(key=dated)
            latest = now + sqlite_items.FUTURE_SLACK.total_seconds()
            published_at = [when if when <= latest else now for when in map(dated, fresh)]
            new_items: list[Item] = []
            if fresh:
                indexed = await index_statements([(e.title, e.summary, e.content) for e in fresh])
                async with db.cursor() as cur:
                    await cur.executemany(
                        "INSERT INTO items (feed_id, identity, guid, link, title, summary,"
                        " content, published_at, first_seen_at, updated_at, title_stems,"
                        " summary_stems, content_stems, search_words, search_stems)"
                        " VALUES (%(feed)s, %(identity)s, %(guid)s, %(link)s, %(title)s,"
                        " %(summary)s, %(content)s, %(published)s, %(now)s, %(now)s,"
                        " %(title_stems)s, %(summary_stems)s, %(content_stems)s,"
                        " %(search_words)s::tsvector, %(search_stems)s::tsvector)",
                        [
                            {
                                "feed": feed_id,
                                "identity": entry.identity,
                                "guid": entry.guid,
                                "link": entry.link,
                                "title": entry.title,
                                "summary": entry.summary,
                                "content": entry.content,
                                "published": published,
                                "now": now,
                                **index_params(*index),
                            }
                            for entry, published, index in zip(
                                fresh, published_at, indexed, strict=True
                            )
                        ],
                    )
                ids = await _ids_of(db, feed_id, [e.identity for e in fresh])
                for entry, published in zip(fresh, published_at, strict=True):
                    new_items.append(
                        Item(
                            id=ids[entry.identity],
                            feed_id=feed_id,
                            identity=entry.identity,
                            guid=entry.guid,
                            link=entry.link,
                            title=entry.title,
                            summary=entry.summary,
                            content=entry.content,
                            published_at=_dt_required(published),
                            first_seen_at=now_dt,
                            updated_at=now_dt,
                        )
                    )
            pushed: list[Item] = []
            if push and not backlog:
                stale = sqlite_items.STALE_AFTER.total_seconds()
                floor = None if newest is None else newest - stale
                pushed = [i for i in new_items if floor is None or _ts(i.published_at) >= floor]
            digest = len(pushed) > sqlite_items.DIGEST_THRESHOLD
            digest_key = f"{feed_id}:{now:.6f}" if digest else None
            queued = 0
            searches = await self._saved_searches(db) if pushed else None
            routes = await route(searches, feed_id, pushed) if searches else None
            if searches and routes and (not routes.empty or has_filters(searches, feed_id)):
                queued = await queue_routed(
                    db,
                    feed_id=feed_id,
                    items=pushed,
                    routes=routes,
                    digest_key=digest_key,
                    by_chat=digest,
                    now=now,
                )
            elif pushed:
                # Every subscriber gets every statement; a digest chat by chat, a few
                # single messages statement by statement (see storage/_items.py).
                order = "s.chat_id, j.pos" if digest else "j.pos, s.chat_id"
                cur = await db.execute(
                    "INSERT INTO outbox (chat_id, kind, item_id, digest_key, state, created_at)"
                    " SELECT s.chat_id, 'item', j.item_id,"
                    " CASE WHEN c.pushes = 'digest' THEN NULL ELSE %(digest)s::text END,"
                    " CASE WHEN c.pushes = 'digest' THEN 'held' ELSE 'pending' END, %(now)s"
                    " FROM subscriptions s JOIN chats c ON c.id = s.chat_id AND c.active = 1"
                    " CROSS JOIN unnest(%(items)s::bigint[]) WITH ORDINALITY AS j(item_id, pos)"
                    f" WHERE s.feed_id = %(feed)s ORDER BY {order}"
                    " ON CONFLICT DO NOTHING",
                    {
                        "items": [i.id for i in pushed],
                        "digest": digest_key,
                        "now": now,
                        "feed": feed_id,
                    },
                )
                queued = max(cur.rowcount, 0)
            recovered = await mark_success(db, feed_id, now)
            await db.execute(
                "UPDATE feeds SET etag = %(etag)s, last_modified = %(lm)s,"
                " content_hash = %(hash)s, next_poll_at = %(next)s, ttl_seconds = %(ttl)s,"
                f" url = {MOVED_URL},"
                " title = CASE WHEN title_locked = 0 AND %(title)s::text IS NOT NULL"
                " AND %(title)s != '' THEN %(title)s ELSE title END,"
                " language = COALESCE(%(language)s::text, language),"
                " detected_signature = COALESCE(%(signature)s::text, detected_signature),"
                " detected_items = COALESCE(%(detected)s::integer, detected_items)"
                " WHERE id = %(id)s",
                {
                    "language": language,
                    "signature": detection.signature if detection else None,
                    "detected": detection.items if detection else None,
                    "id": feed_id,
                    "etag": etag,
                    "lm": last_modified,
                    "hash": content_hash,
                    "next": _ts(next_poll_at),
                    "url": url,
                    "title": feed_title,
                    "ttl": ttl_seconds,
                },
            )
        if queued or corrections:
            self.outbox_changed.set()
        return PollOutcome(
            new_items=new_items,
            pushed_items=pushed,
            outbox_rows=queued,
            recovered=recovered,
            backlog=backlog,
        )

    async def stored_identities(self, feed_id: int, identities: Sequence[str]) -> set[str]:
        """Those of `identities` already stored for the feed (see storage/_items.py)."""
        return set(await _ids_of(self._read, feed_id, identities))

    # ---------------------------------------------------------------------- items

    async def latest_items(
        self, limit: int, *, offset: int = 0, feed_id: int | None = None
    ) -> list[Item]:
        rows = await self._fetchall_native(
            f"SELECT {_ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE (%(feed)s::bigint IS NULL OR i.feed_id = %(feed)s)"
            " ORDER BY i.published_at DESC, i.id DESC LIMIT %(limit)s OFFSET %(offset)s",
            {"feed": feed_id, "limit": limit, "offset": offset},
        )
        return [_item(r) for r in rows]

    async def get_item(self, item_id: int) -> Item | None:
        row = await self._fetchone_native(
            f"SELECT {_ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE i.id = %(id)s",
            {"id": item_id},
        )
        return None if row is None else _item(row)

    async def items_by_ids(self, ids: Iterable[int]) -> dict[int, Item]:
        rows = await self._fetchall_native(
            f"SELECT {_ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE i.id = ANY(%(ids)s)",
            {"ids": list(ids)},
        )
        return {int(r["id"]): _item(r) for r in rows}

    async def count_items(self) -> int:
        row = await self._fetchone_native("SELECT COUNT(*) AS n FROM items")
        return int(row["n"]) if row else 0

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
        window = sqlite_items.SEARCH_WINDOW
        try:
            # The most recent matches (all of them, when fewer), each ranked as it is
            # read, then the best of those: one scan, however common the word.
            rows = await self._fetchall_native(
                f"SELECT {_ITEM_COLUMNS} FROM (SELECT i.id, ts_rank('{{0, 0.1, 0.3, 1.0}}',"
                f" i.{rank_column}, %(q_rank)s::tsquery, 1) AS rank FROM items i WHERE {where}"
                " ORDER BY i.id DESC LIMIT %(window)s) AS r"
                " JOIN items i ON i.id = r.id JOIN feeds f ON f.id = i.feed_id"
                # The id breaks ties, so pages never repeat or skip a statement.
                " ORDER BY r.rank DESC, r.id DESC LIMIT %(limit)s OFFSET %(offset)s",
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
        self, query: Query, rows: list[Row], marks: tuple[str, str]
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
        found = await self._fetchall_native(
            "SELECT x.id, ts_headline('simple', x.body, x.q::tsquery, %(options)s) AS snippet"
            " FROM unnest(%(ids)s::bigint[], %(bodies)s::text[], %(queries)s::text[])"
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
        row = await self._fetchone_native(
            f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM items i WHERE {where}"
            " LIMIT %(cap)s) AS found",
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


async def _stored_texts(
    db: Conn, feed_id: int, identities: Sequence[str]
) -> dict[str, tuple[int, str, str, str]]:
    """identity → (item id, title, summary, content), for those stored for the feed."""
    rows = await fetchall(
        db,
        "SELECT identity, id, title, summary, content FROM items"
        " WHERE feed_id = %(feed)s AND identity = ANY(%(identities)s)",
        {"feed": feed_id, "identities": list(dict.fromkeys(identities))},
    )
    return {
        str(r["identity"]): (int(r["id"]), str(r["title"]), str(r["summary"]), str(r["content"]))
        for r in rows
    }


async def _queue_corrections(db: Conn, item_ids: Sequence[int], now: float) -> int:
    """Queue an edit of every message sent for these statements lately, or being
    sent right now (see storage/_items.py)."""
    cur = await db.execute(
        "INSERT INTO outbox (chat_id, kind, edit_of, created_at)"
        " SELECT o.chat_id, 'edit', o.id, %(now)s FROM outbox o"
        " JOIN chats c ON c.id = o.chat_id AND c.active = 1"
        " WHERE o.item_id = ANY(%(items)s) AND o.kind = 'item' AND o.digest_key IS NULL"
        " AND ((o.state = 'sent' AND o.message_id IS NOT NULL AND o.finished_at >= %(since)s)"
        "  OR (o.state = 'pending' AND o.in_flight_at IS NOT NULL))"
        " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.edit_of = o.id AND e.state = 'pending')"
        " ORDER BY o.chat_id, o.id",
        {
            "items": list(item_ids),
            "now": now,
            "since": now - CORRECTION_WINDOW.total_seconds(),
        },
    )
    return max(cur.rowcount, 0)


async def _ids_of(db: Conn, feed_id: int, identities: Sequence[str]) -> dict[str, int]:
    rows = await fetchall(
        db,
        "SELECT identity, id FROM items WHERE feed_id = %(feed)s AND identity = ANY(%(ids)s)",
        {"feed": feed_id, "ids": list(dict.fromkeys(identities))},
    )
    return {str(r["identity"]): int(r["id"]) for r in rows}


# An index row's columns, for storage/transfer.py's copy.
__all__ = ["INDEX_COLUMNS", "PgItemsMixin"]

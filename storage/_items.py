"""Statements: storing a successful poll (what is new is pushed), reading the
latest, and full-text search.

Storing and reading are written once for both backends; what differs is each
backend's search index (here SQLite's stems for FTS5, storage/postgres/_items.py
PostgreSQL's tsvectors), its SQL for lists of ids, and search itself: the methods
and attributes marked "SQLite's" are overridden there."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage._core import (
    _ITEM_COLUMNS,
    _MOVED_URL,
    CoreBase,
    RowLike,
    Tx,
    _dt_required,
    _item,
    _ts,
)
from storage._feeds import _mark_success
from storage._routing import SavedSearches, has_filters, queue_routed, route
from storage._stems import index_word_forms, stem_texts
from storage.errors import FeedNotFoundError, StorageError
from storage.models import Detection, Item, NewItem, SearchHit
from storage.query import Query, parse_query
from storage.search import EXACT_TABLE, MatchPlan, highlight_expression, plan_match

# Log lines keep the name they had when the store was one module.
log = logging.getLogger("storage.store")

# An item more than this much older than the newest one already stored for its
# feed is an old statement sliding back in, not news.
STALE_AFTER = timedelta(days=7)
# How far ahead of the clock a statement's date may be (zones, clock skew) before it
# counts as a mistake and is stored as the time it was first seen.
FUTURE_SLACK = timedelta(days=1)
# More new statements than this from one feed in one poll go as one digest per chat.
DIGEST_THRESHOLD = 5
# How much of each text shown in results is read for the word forms to mark.
HIGHLIGHT_CHARS = 100_000
# A search ranks at most this many of the most recent matching statements.
SEARCH_WINDOW = 2000
# A correction reaches a message sent this long ago at most; later changes only
# update the archive.
CORRECTION_WINDOW = timedelta(hours=48)


# Reads rows: a transaction's `fetchall`, or the store's own.
FetchAll = Callable[[str, Any], Awaitable[Sequence[RowLike]]]


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What storing one successful poll did."""

    new_items: list[Item]  # stored for the first time, in publication order
    pushed_items: list[Item]  # of those, the ones queued for subscribers
    outbox_rows: int  # rows queued
    recovered: bool  # the feed was failing and admins had been told
    backlog: bool  # the feed's first successful poll: stored, nothing pushed


class ItemsMixin(CoreBase):
    _searches: SavedSearches | None = None

    # SQLite's: what an edit of a statement's texts sets, for its index to be made
    # again (`_index_missing`); and the index columns a new statement is stored with
    # (their values from `_index_new`).
    _UNINDEXED = "title_stems = NULL, summary_stems = NULL, content_stems = NULL"
    _INDEX_COLUMNS = "title_stems, summary_stems, content_stems"
    _INDEX_VALUES = ":title_stems, :summary_stems, :content_stems"
    # SQLite's: the ids passed as :items (`_list_param`) as a table `j`, each id
    # (`j.value`) with its position (`j.key`).
    _NUMBERED_IDS = "json_each(:items) AS j"

    async def _index_missing(self, db: Tx, feed_id: int) -> None:
        """SQLite's: stem the feed's statements that have no stems (the triggers index them)."""
        await index_word_forms(db, feed_id=feed_id)

    async def _index_new(self, texts: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
        """SQLite's: the `_INDEX_VALUES` of each new statement's (title, summary, content)."""
        return [
            {"title_stems": title, "summary_stems": summary, "content_stems": content}
            for title, summary, content in await stem_texts(texts)
        ]

    # SQLite's storage/_routing.queue_routed.
    _queue_routed = staticmethod(queue_routed)

    async def _saved_searches(self, db: Tx) -> SavedSearches:
        """The matcher, rebuilt when any filter or alert changed since it was built."""
        row = await db.fetchone("SELECT version FROM matcher_version WHERE id = 1")
        version = int(row["version"]) if row else 0
        if self._searches is None or self._searches.version != version:
            self._searches = await SavedSearches.load(db, version)
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
        """Store a successful poll in one transaction: new statements, updated texts,
        outbox rows for every active subscriber, validators, the feed's <ttl>
        (`ttl_seconds`, None when it has none) and the next poll time; the source's
        `language` and, for a page, what reading it found (`detection`), when given.

        Only statements whose identity is new are pushed, and not on the feed's first
        successful poll (its backlog), nor when more than `STALE_AFTER` older than the
        newest statement already stored for the feed. A date more than `FUTURE_SLACK`
        ahead is stored as the time of this poll. `push=False` stores silently.
        """
        now_dt = self.now()
        now = _ts(now_dt)
        async with self._write() as db:
            # Few round trips to SQLite's thread, not one per entry: each costs more
            # than the statement itself.
            feed_row = await db.fetchone(
                "SELECT last_success_at,"
                " (SELECT MAX(published_at) FROM items WHERE feed_id = :id"
                "  AND published_at <= :now) AS newest"
                " FROM feeds WHERE id = :id AND removed = 0",
                {"id": feed_id, "now": now},
            )
            if feed_row is None:
                raise FeedNotFoundError(feed_id)
            backlog = feed_row["last_success_at"] is None
            newest = feed_row["newest"]

            existing = await self._stored_texts(db, feed_id, [e.identity for e in entries])
            fresh: list[NewItem] = []
            changed: list[dict[str, object]] = []
            corrected: list[int] = []  # ids of statements whose title or summary changed
            seen: set[str] = set()
            for entry in entries:
                if entry.identity in seen:
                    continue
                seen.add(entry.identity)
                stored = existing.get(entry.identity)
                if stored is not None:
                    item_id, title, summary, content = stored
                    # A correction is the source's: a new title, or a new summary of a
                    # new text. A summary alone that differs is our summariser's (an
                    # upgrade): the archive follows, sent messages stay as they are.
                    if title != entry.title or (
                        summary != entry.summary and content != entry.content
                    ):
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
                else:
                    fresh.append(entry)
            if changed:
                # An edited statement keeps its identity; only a real change is written,
                # and indexed again.
                await db.executemany(
                    "UPDATE items SET title = :title, summary = :summary,"
                    " content = :content, link = COALESCE(:link, link), updated_at = :now,"
                    f" {self._UNINDEXED} WHERE id = :id",
                    changed,
                )
                await self._index_missing(db, feed_id)
                self.items_version += 1
            corrections = await self._queue_corrections(db, corrected, now) if corrected else 0

            def dated(entry: NewItem) -> float:
                return now if entry.published_at is None else _ts(entry.published_at)

            # Oldest first by the feed's own dates, so outbox ids follow publication
            # order within every chat.
            fresh.sort(key=dated)
            # A date more than a day ahead (a typo in the year) is stored as now: it
            # would sit on top of /latest for good. (Nor does anything ahead of now
            # count as the feed's newest above, which would make every real
            # statement look too old to push.)
            latest = now + FUTURE_SLACK.total_seconds()
            published_at = [when if when <= latest else now for when in map(dated, fresh)]
            new_items: list[Item] = []
            if fresh:
                await db.executemany(
                    "INSERT INTO items (feed_id, identity, guid, link, title, summary, content,"
                    f" published_at, first_seen_at, updated_at, {self._INDEX_COLUMNS})"
                    " VALUES (:feed, :identity, :guid, :link, :title, :summary, :content,"
                    f" :published, :now, :now, {self._INDEX_VALUES})",
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
                            **index,
                        }
                        for entry, published, index in zip(
                            fresh,
                            published_at,
                            await self._index_new([(e.title, e.summary, e.content) for e in fresh]),
                            strict=True,
                        )
                    ],
                )
                ids = await self._ids_of(db.fetchall, feed_id, [e.identity for e in fresh])
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
                floor = None if newest is None else newest - STALE_AFTER.total_seconds()
                pushed = [i for i in new_items if floor is None or _ts(i.published_at) >= floor]
            digest = len(pushed) > DIGEST_THRESHOLD
            digest_key = f"{feed_id}:{now:.6f}" if digest else None
            queued = 0
            searches = await self._saved_searches(db) if pushed else None
            routes = await route(searches, feed_id, pushed) if searches else None
            if searches and routes and (not routes.empty or has_filters(searches, feed_id)):
                queued = await self._queue_routed(
                    db,
                    feed_id=feed_id,
                    items=pushed,
                    routes=routes,
                    digest_key=digest_key,
                    by_chat=digest,
                    now=now,
                )
            elif pushed:
                # No saved search has a say: every subscriber gets every statement.
                # One statement for every (subscriber, item) pair. A digest is queued
                # chat by chat: its rows then sit together in the outbox and the
                # (chat_id, item_id) index grows at one end instead of being swept once
                # per item, which made 10,000 items x 1,000 chats quadratic. A few
                # single messages stay item by item, so every chat gets the first soon.
                order = "s.chat_id, j.key" if digest else "j.key, s.chat_id"
                # A chat in digest mode gets its rows held for the day's digest.
                queued = await db.execute(
                    "INSERT INTO outbox (chat_id, kind, item_id, digest_key, state, created_at)"
                    " SELECT s.chat_id, 'item', j.value,"
                    " CASE WHEN c.pushes = 'digest' THEN NULL ELSE CAST(:digest AS TEXT) END,"
                    " CASE WHEN c.pushes = 'digest' THEN 'held' ELSE 'pending' END, :now"
                    " FROM subscriptions s JOIN chats c ON c.id = s.chat_id AND c.active = 1"
                    f" CROSS JOIN {self._NUMBERED_IDS}"
                    f" WHERE s.feed_id = :feed ORDER BY {order}"
                    " ON CONFLICT DO NOTHING",
                    {
                        "items": self._list_param(i.id for i in pushed),
                        "digest": digest_key,
                        "now": now,
                        "feed": feed_id,
                    },
                )
                queued = max(queued, 0)
            recovered = await _mark_success(db, feed_id, now)
            await db.execute(
                "UPDATE feeds SET etag = :etag, last_modified = :lm, content_hash = :hash,"
                f" next_poll_at = :next, ttl_seconds = :ttl, url = {_MOVED_URL},"
                " title = CASE WHEN title_locked = 0 AND CAST(:title AS TEXT) IS NOT NULL"
                " AND :title != '' THEN :title ELSE title END,"
                " language = COALESCE(CAST(:language AS TEXT), language),"
                " detected_signature = COALESCE(CAST(:signature AS TEXT), detected_signature),"
                " detected_items = COALESCE(CAST(:detected AS INTEGER), detected_items)"
                " WHERE id = :id",
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
        """Those of `identities` already stored for the feed: a page source fetches
        the own page of the others only (they are new)."""
        return set(await self._ids_of(self._fetchall, feed_id, identities))

    # ---------------------------------------------------------------------- items

    async def latest_items(
        self, limit: int, *, offset: int = 0, feed_id: int | None = None
    ) -> list[Item]:
        rows = await self._fetchall(
            f"SELECT {_ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE (CAST(:feed AS BIGINT) IS NULL OR i.feed_id = :feed)"
            " ORDER BY i.published_at DESC, i.id DESC LIMIT :limit OFFSET :offset",
            {"feed": feed_id, "limit": limit, "offset": offset},
        )
        return [_item(r) for r in rows]

    async def get_item(self, item_id: int) -> Item | None:
        row = await self._fetchone(
            f"SELECT {_ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE i.id = :id",
            {"id": item_id},
        )
        return None if row is None else _item(row)

    async def items_by_ids(self, ids: Iterable[int]) -> dict[int, Item]:
        rows = await self._fetchall(
            f"SELECT {_ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
            f" WHERE {self._in_list('i.id', 'ids')}",
            {"ids": self._list_param(ids)},
        )
        return {int(r["id"]): _item(r) for r in rows}

    async def count_items(self) -> int:
        row = await self._fetchone("SELECT COUNT(*) AS n FROM items")
        return int(row["n"]) if row else 0

    async def _stored_texts(
        self, db: Tx, feed_id: int, identities: Sequence[str]
    ) -> dict[str, tuple[int, str, str, str]]:
        """identity → (item id, title, summary, content), for those of `identities`
        stored for the feed."""
        rows = await db.fetchall(
            "SELECT identity, id, title, summary, content FROM items"
            f" WHERE feed_id = :feed AND {self._in_list('identity', 'identities')}",
            {"feed": feed_id, "identities": self._list_param(dict.fromkeys(identities))},
        )
        return {
            str(r["identity"]): (
                int(r["id"]),
                str(r["title"]),
                str(r["summary"]),
                str(r["content"]),
            )
            for r in rows
        }

    async def _ids_of(
        self, fetchall: FetchAll, feed_id: int, identities: Sequence[str]
    ) -> dict[str, int]:
        """identity → item id, for those of `identities` stored for the feed."""
        rows = await fetchall(
            "SELECT identity, id FROM items"
            f" WHERE feed_id = :feed AND {self._in_list('identity', 'identities')}",
            {"feed": feed_id, "identities": self._list_param(dict.fromkeys(identities))},
        )
        return {str(r["identity"]): int(r["id"]) for r in rows}

    async def _queue_corrections(self, db: Tx, item_ids: Sequence[int], now: float) -> int:
        """Queue an edit of every message sent for these statements in the last 48
        hours, and of every one being sent right now (it may carry the old text); a
        message not sent yet is rendered from the new text anyway. One pending edit
        per message is enough: it renders the statement as it is when its turn comes."""
        queued = await db.execute(
            "INSERT INTO outbox (chat_id, kind, edit_of, created_at)"
            " SELECT o.chat_id, 'edit', o.id, :now FROM outbox o"
            " JOIN chats c ON c.id = o.chat_id AND c.active = 1"
            f" WHERE {self._in_list('o.item_id', 'items')}"
            " AND o.kind = 'item' AND o.digest_key IS NULL"
            " AND ((o.state = 'sent' AND o.message_id IS NOT NULL AND o.finished_at >= :since)"
            "  OR (o.state = 'pending' AND o.in_flight_at IS NOT NULL))"
            " AND NOT EXISTS"
            " (SELECT 1 FROM outbox e WHERE e.edit_of = o.id AND e.state = 'pending')"
            " ORDER BY o.chat_id, o.id",
            {
                "items": self._list_param(item_ids),
                "now": now,
                "since": now - CORRECTION_WINDOW.total_seconds(),
            },
        )
        return max(queued, 0)

    # -------------------------------------------------------------------- search
    # SQLite's (FTS5); storage/postgres/_items.py has PostgreSQL's.

    async def search(
        self, query: str, *, limit: int = 5, offset: int = 0, marks: tuple[str, str] = ("", "")
    ) -> list[SearchHit]:
        """Best matches first (bm25, title weighted above the text), with snippets in
        which each matched word stands, as written, between `marks` (the renderer's
        markers). Words match any of their forms, "phrases" and prefix* the forms
        as written, and -terms exclude (storage/query.py).

        A word found in most statements would have every one of them scored; so the
        best matches are picked among the `SEARCH_WINDOW` most recent statements that
        match, which keeps a search fast however large the archive grows (and a
        statements archive is read newest first anyway). Rarer queries are ranked in
        full. Raises `InvalidSearchQueryError` for a query that cannot be searched.
        """
        parsed = parse_query(query)
        plan = plan_match(parsed)
        table, match = plan.table, plan.match
        # parse_query insists on a term to look for, so there is a table to rank in.
        assert table is not None and match is not None
        where = f"{table} MATCH ?{plan.conditions()}"
        filters = plan.filter_params()
        try:
            floor_row = await self._fetchone(
                f"SELECT rowid AS id FROM {table} WHERE {where}"
                " ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                [match, *filters, SEARCH_WINDOW - 1],
            )
            floor = int(floor_row["id"]) if floor_row is not None else 0
            ranked = await self._fetchall(
                f"SELECT rowid AS id FROM {table} WHERE {where} AND rowid >= ?"
                # The id breaks ties, so pages never repeat or skip a statement.
                f" ORDER BY bm25({table}, 10.0, 3.0, 1.0), rowid DESC LIMIT ? OFFSET ?",
                [match, *filters, floor, limit, offset],
            )
            ids = [int(r["id"]) for r in ranked]
            if not ids:
                return []
            # Rows and snippets only for the page, not for every match; and in
            # separate queries, because joining items to the MATCH lets the planner
            # evaluate the match far more often than for these few rows.
            places = ",".join("?" * len(ids))
            rows = await self._fetchall(
                "SELECT i.id, i.feed_id, i.identity, i.guid, i.link, i.title, i.summary,"
                " i.content, i.published_at, i.first_seen_at, i.updated_at,"
                " f.title AS feed_title FROM items i"
                f" JOIN feeds f ON f.id = i.feed_id WHERE i.id IN ({places})",
                ids,
            )
            snippet_of = await self._snippets(parsed, rows, marks)
        except sqlite3.OperationalError as exc:
            # The query is rendered from its own tokens, so this is a bug, not the user's.
            log.error("search query %r failed as %r: %s", query, plan, exc)
            raise StorageError("that search could not be run") from exc
        by_id = {int(r["id"]): r for r in rows}
        return [
            SearchHit(item=_item(by_id[i]), snippet=snippet_of.get(i, ""))
            for i in ids
            if i in by_id
        ]

    async def _snippets(
        self, query: Query, rows: Sequence[RowLike], marks: tuple[str, str]
    ) -> dict[int, str]:
        """id → snippet of each row, cut from the text as written (items_fts), with
        the forms of the query's words that the rows hold marked."""
        # The forms to mark are looked for near the start of a huge text only:
        # tokenizing megabytes here would hold up the event loop.
        texts = [
            str(r[column])[:HIGHLIGHT_CHARS]
            for r in rows
            for column in ("title", "summary", "content")
        ]
        highlight = highlight_expression(query, texts)
        if highlight is None or not rows:
            return {}
        ids = [int(r["id"]) for r in rows]
        found = await self._fetchall(
            f"SELECT rowid AS id, snippet({EXACT_TABLE}, -1, ?, ?, '…', 24) AS snippet"
            f" FROM {EXACT_TABLE}"
            f" WHERE {EXACT_TABLE} MATCH ? AND rowid IN ({','.join('?' * len(ids))})",
            [*marks, highlight, *ids],
        )
        return {int(r["id"]): str(r["snippet"] or "") for r in found}

    async def search_count(self, query: str, *, cap: int = 1000) -> int:
        """How many statements match `query`, counting no further than `cap`.

        The cap keeps a very common word cheap to count over a large archive; a
        result equal to `cap` means "at least that many". Raises like `search`.
        """
        plan = plan_match(parse_query(query))
        return await self._count(plan, cap=cap, what=query)

    async def _count(self, plan: MatchPlan, *, cap: int, what: str) -> int:
        sql, params = plan.select_ids()
        try:
            row = await self._fetchone(
                f"SELECT COUNT(*) AS n FROM ({sql} LIMIT ?)",
                [*params, cap],
            )
        except sqlite3.OperationalError as exc:
            log.error("search count %r failed as %r: %s", what, plan, exc)
            raise StorageError("that search could not be run") from exc
        return int(row["n"]) if row else 0

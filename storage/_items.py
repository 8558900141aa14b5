"""Statements: storing a successful poll (what is new is pushed), reading the
latest, and full-text search."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from storage._core import _CHUNK, _MOVED_URL, SqliteTx, StoreCore, _dt_required, _item, _ts
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


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What storing one successful poll did."""

    new_items: list[Item]  # stored for the first time, in publication order
    pushed_items: list[Item]  # of those, the ones queued for subscribers
    outbox_rows: int  # rows queued
    recovered: bool  # the feed was failing and admins had been told
    backlog: bool  # the feed's first successful poll: stored, nothing pushed


class ItemsMixin(StoreCore):
    _searches: SavedSearches | None = None

    async def _saved_searches(self, db: aiosqlite.Connection) -> SavedSearches:
        """The matcher, rebuilt when any filter or alert changed since it was built."""
        rows = await db.execute_fetchall("SELECT version FROM matcher_version WHERE id = 1")
        version = int(next(iter(rows))[0])
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
        async with self._write_native() as db:
            # Few round trips to SQLite's thread, not one per entry: each costs more
            # than the statement itself.
            feed_rows = await db.execute_fetchall(
                "SELECT last_success_at,"
                " (SELECT MAX(published_at) FROM items WHERE feed_id = :id"
                "  AND published_at <= :now) AS newest"
                " FROM feeds WHERE id = :id AND removed = 0",
                {"id": feed_id, "now": now},
            )
            feed_row = next(iter(feed_rows), None)
            if feed_row is None:
                raise FeedNotFoundError(feed_id)
            backlog = feed_row["last_success_at"] is None
            newest = feed_row["newest"]

            existing = await _stored_texts(db, feed_id, [e.identity for e in entries])
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
                    changed.append(
                        {
                            "feed": feed_id,
                            "identity": entry.identity,
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
                # An edited statement keeps its identity; only a real change is written.
                edited = await db.executemany(
                    "UPDATE items SET title = :title, summary = :summary,"
                    " content = :content, link = COALESCE(:link, link), updated_at = :now,"
                    # Stemmed below, for the rows this really changed.
                    " title_stems = NULL, summary_stems = NULL, content_stems = NULL"
                    " WHERE feed_id = :feed AND identity = :identity"
                    " AND (title != :title OR summary != :summary OR content != :content)",
                    changed,
                )
                if edited.rowcount > 0:
                    await index_word_forms(db, feed_id=feed_id)
                    self.items_version += 1
            corrections = await _queue_corrections(db, corrected, now) if corrected else 0

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
                    " published_at, first_seen_at, updated_at, title_stems, summary_stems,"
                    " content_stems) VALUES (:feed, :identity, :guid, :link, :title, :summary,"
                    " :content, :published, :now, :now, :title_stems, :summary_stems,"
                    " :content_stems)",
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
                            "title_stems": title,
                            "summary_stems": summary,
                            "content_stems": content,
                        }
                        for entry, published, (title, summary, content) in zip(
                            fresh,
                            published_at,
                            await stem_texts([(e.title, e.summary, e.content) for e in fresh]),
                            strict=True,
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
                floor = None if newest is None else newest - STALE_AFTER.total_seconds()
                pushed = [i for i in new_items if floor is None or _ts(i.published_at) >= floor]
            digest = len(pushed) > DIGEST_THRESHOLD
            queued = 0
            searches = await self._saved_searches(db) if pushed else None
            routes = await route(searches, feed_id, pushed) if searches else None
            if searches and routes and (not routes.empty or has_filters(searches, feed_id)):
                queued = await queue_routed(
                    db,
                    feed_id=feed_id,
                    items=pushed,
                    routes=routes,
                    digest_key=f"{feed_id}:{now:.6f}" if digest else None,
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
                cur = await db.execute(
                    "INSERT INTO outbox (chat_id, kind, item_id, digest_key, state, created_at)"
                    " SELECT s.chat_id, 'item', j.value,"
                    " CASE WHEN c.pushes = 'digest' THEN NULL ELSE :digest END,"
                    " CASE WHEN c.pushes = 'digest' THEN 'held' ELSE 'pending' END, :now"
                    " FROM subscriptions s JOIN chats c ON c.id = s.chat_id AND c.active = 1"
                    " CROSS JOIN json_each(:items) j"
                    f" WHERE s.feed_id = :feed ORDER BY {order}"
                    " ON CONFLICT DO NOTHING",
                    {
                        "items": json.dumps([i.id for i in pushed]),
                        "digest": f"{feed_id}:{now:.6f}" if digest else None,
                        "now": now,
                        "feed": feed_id,
                    },
                )
                queued = max(cur.rowcount, 0)
            recovered = await _mark_success(SqliteTx(db), feed_id, now)
            await db.execute(
                "UPDATE feeds SET etag = :etag, last_modified = :lm, content_hash = :hash,"
                f" next_poll_at = :next, ttl_seconds = :ttl, url = {_MOVED_URL},"
                " title = CASE WHEN title_locked = 0 AND :title IS NOT NULL AND :title != ''"
                " THEN :title ELSE title END, language = COALESCE(:language, language),"
                " detected_signature = COALESCE(:signature, detected_signature),"
                " detected_items = COALESCE(:detected, detected_items) WHERE id = :id",
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
        return set(await _ids_of(self._conn, feed_id, identities))

    # ---------------------------------------------------------------------- items

    async def latest_items(
        self, limit: int, *, offset: int = 0, feed_id: int | None = None
    ) -> list[Item]:
        rows = await self._fetchall(
            "SELECT i.*, f.title AS feed_title FROM items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE (:feed IS NULL OR i.feed_id = :feed)"
            " ORDER BY i.published_at DESC, i.id DESC LIMIT :limit OFFSET :offset",
            {"feed": feed_id, "limit": limit, "offset": offset},
        )
        return [_item(r) for r in rows]

    async def get_item(self, item_id: int) -> Item | None:
        row = await self._fetchone(
            "SELECT i.*, f.title AS feed_title FROM items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE i.id = :id",
            {"id": item_id},
        )
        return None if row is None else _item(row)

    async def items_by_ids(self, ids: Iterable[int]) -> dict[int, Item]:
        out: dict[int, Item] = {}
        id_list = list(ids)
        for start in range(0, len(id_list), _CHUNK):
            chunk = id_list[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = await self._fetchall(
                "SELECT i.*, f.title AS feed_title FROM items i JOIN feeds f ON f.id = i.feed_id"
                f" WHERE i.id IN ({marks})",
                chunk,
            )
            for r in rows:
                item = _item(r)
                out[item.id] = item
        return out

    async def count_items(self) -> int:
        row = await self._fetchone("SELECT COUNT(*) FROM items")
        return int(row[0]) if row else 0

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
                f"SELECT rowid FROM {table} WHERE {where} ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                [match, *filters, SEARCH_WINDOW - 1],
            )
            floor = int(floor_row[0]) if floor_row is not None else 0
            ranked = await self._fetchall(
                f"SELECT rowid FROM {table} WHERE {where} AND rowid >= ?"
                # The id breaks ties, so pages never repeat or skip a statement.
                f" ORDER BY bm25({table}, 10.0, 3.0, 1.0), rowid DESC LIMIT ? OFFSET ?",
                [match, *filters, floor, limit, offset],
            )
            ids = [int(r[0]) for r in ranked]
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
        self, query: Query, rows: list[aiosqlite.Row], marks: tuple[str, str]
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
            f"SELECT rowid, snippet({EXACT_TABLE}, -1, ?, ?, '…', 24) FROM {EXACT_TABLE}"
            f" WHERE {EXACT_TABLE} MATCH ? AND rowid IN ({','.join('?' * len(ids))})",
            [*marks, highlight, *ids],
        )
        return {int(r[0]): str(r[1] or "") for r in found}

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
                f"SELECT COUNT(*) FROM ({sql} LIMIT ?)",
                [*params, cap],
            )
        except sqlite3.OperationalError as exc:
            log.error("search count %r failed as %r: %s", what, plan, exc)
            raise StorageError("that search could not be run") from exc
        return int(row[0]) if row else 0


# A correction reaches a message sent this long ago at most; later changes only
# update the archive.
CORRECTION_WINDOW = timedelta(hours=48)


async def _stored_texts(
    db: aiosqlite.Connection, feed_id: int, identities: Sequence[str]
) -> dict[str, tuple[int, str, str, str]]:
    """identity → (item id, title, summary, content), for those of `identities` stored
    for the feed."""
    found: dict[str, tuple[int, str, str, str]] = {}
    unique = list(dict.fromkeys(identities))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = await db.execute_fetchall(
            "SELECT identity, id, title, summary, content FROM items"
            f" WHERE feed_id = ? AND identity IN ({marks})",
            [feed_id, *chunk],
        )
        found.update((str(r[0]), (int(r[1]), str(r[2]), str(r[3]), str(r[4]))) for r in rows)
    return found


async def _queue_corrections(db: aiosqlite.Connection, item_ids: Sequence[int], now: float) -> int:
    """Queue an edit of every message sent for these statements in the last 48 hours,
    and of every one being sent right now (it may carry the old text); a message not
    sent yet is rendered from the new text anyway. One pending edit per message is
    enough: it renders the statement as it is when its turn comes."""
    cur = await db.execute(
        "INSERT INTO outbox (chat_id, kind, edit_of, created_at)"
        " SELECT o.chat_id, 'edit', o.id, :now FROM outbox o"
        " JOIN chats c ON c.id = o.chat_id AND c.active = 1"
        " WHERE o.item_id IN (SELECT value FROM json_each(:items))"
        " AND o.kind = 'item' AND o.digest_key IS NULL"
        " AND ((o.state = 'sent' AND o.message_id IS NOT NULL AND o.finished_at >= :since)"
        "  OR (o.state = 'pending' AND o.in_flight_at IS NOT NULL))"
        " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.edit_of = o.id AND e.state = 'pending')"
        " ORDER BY o.chat_id, o.id",
        {
            "items": json.dumps(list(item_ids)),
            "now": now,
            "since": now - CORRECTION_WINDOW.total_seconds(),
        },
    )
    return max(cur.rowcount, 0)


async def _ids_of(
    db: aiosqlite.Connection, feed_id: int, identities: Sequence[str]
) -> dict[str, int]:
    """identity → item id, for those of `identities` stored for the feed."""
    found: dict[str, int] = {}
    unique = list(dict.fromkeys(identities))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = await db.execute_fetchall(
            f"SELECT identity, id FROM items WHERE feed_id = ? AND identity IN ({marks})",
            [feed_id, *chunk],
        )
        found.update((str(r[0]), int(r[1])) for r in rows)
    return found

"""Who gets a new statement: its feed's subscribers (narrowed by their filters) and
the chats whose alerts match it, each chat once.

The saved searches are matched in memory (storage/matching.py), against one index
of alerts and one of filters per feed, built from the database and rebuilt when
`matcher_version` says another write (in any process) changed them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from storage._core import Tx
from storage.errors import InvalidSearchQueryError
from storage.matching import Document, QueryIndex
from storage.models import Item
from storage.query import Query, parse_saved_query

log = logging.getLogger("storage.store")

# A statement longer than this is read into a Document on a worker thread.
BIG_DOCUMENT = 200_000


@dataclass(slots=True)
class SavedSearches:
    """Every filter and alert, indexed for matching. Inactive chats' too: queueing
    leaves them out, and a chat that comes back finds its saved searches working."""

    version: int
    alerts: QueryIndex = field(default_factory=QueryIndex)
    filters: dict[int, QueryIndex] = field(default_factory=dict)  # by feed id

    @classmethod
    async def load(cls, db: Tx, version: int) -> SavedSearches:
        built = cls(version)
        for row in await db.fetchall("SELECT id, feed_id, query FROM filters"):
            query = _parsed(str(row["query"]), "filter", int(row["id"]))
            if query is not None:
                built.filters.setdefault(int(row["feed_id"]), QueryIndex()).add(
                    int(row["id"]), query
                )
        for row in await db.fetchall("SELECT id, query FROM alerts"):
            query = _parsed(str(row["query"]), "alert", int(row["id"]))
            if query is not None:
                built.alerts.add(int(row["id"]), query)
        return built


def _parsed(text: str, what: str, key: int) -> Query | None:
    try:
        return parse_saved_query(str(text))
    except InvalidSearchQueryError as exc:
        # Saved through the same parser, so only a changed parser gets here.
        log.warning("%s %s (%r) cannot be read any more: %s", what, key, text, exc)
        return None


@dataclass(frozen=True, slots=True)
class Routes:
    """What the saved searches decided for a poll's new statements."""

    passed: list[tuple[int, int]]  # (filter id, item id): the filter lets it through
    alerted: list[tuple[int, int, int]]  # (alert id, item id, position in the poll)

    @property
    def empty(self) -> bool:
        return not self.passed and not self.alerted


async def route(searches: SavedSearches, feed_id: int, items: Sequence[Item]) -> Routes:
    """Match each new statement against the feed's filters and every alert."""
    filters = searches.filters.get(feed_id)
    if not searches.alerts and not filters:
        return Routes([], [])
    passed: list[tuple[int, int]] = []
    alerted: list[tuple[int, int, int]] = []
    for position, item in enumerate(items):
        if len(item.content) > BIG_DOCUMENT:
            document = await asyncio.to_thread(Document, item.title, item.summary, item.content)
        else:
            document = Document(item.title, item.summary, item.content)
        if filters:
            passed += [(key, item.id) for key in filters.match_document(document)]
        if searches.alerts:
            alerted += [
                (key, item.id, position) for key in searches.alerts.match_document(document)
            ]
    return Routes(passed, alerted)


def has_filters(searches: SavedSearches, feed_id: int) -> bool:
    index = searches.filters.get(feed_id)
    return index is not None and len(index) > 0


async def queue_routed(
    db: Tx,
    *,
    feed_id: int,
    items: Sequence[Item],
    routes: Routes,
    digest_key: str | None,
    by_chat: bool,
    now: float,
) -> int:
    """Queue one row per chat and statement: subscribers whose filter (if any) let
    it through, and chats whose alert matched (the row names the first such alert).
    Rows follow publication order within each chat; `by_chat` groups a digest's rows
    chat by chat. Returns the rows queued. SQLite's SQL (JSON parameters);
    storage/postgres/_routing.py has PostgreSQL's (arrays)."""
    order = "r.chat_id, MIN(r.pos)" if by_chat else "MIN(r.pos), r.chat_id"
    queued = await db.execute(
        "INSERT INTO outbox (chat_id, kind, item_id, alert_id, digest_key, state, created_at)"
        " SELECT r.chat_id, 'item', r.item_id, MIN(r.alert_id),"
        " CASE WHEN c.pushes = 'digest' THEN NULL ELSE :digest END,"
        " CASE WHEN c.pushes = 'digest' THEN 'held' ELSE 'pending' END, :now"
        " FROM ("
        # Subscribers: those without a filter on the feed, and those whose filter passed.
        "  SELECT s.chat_id, j.key AS pos, j.value AS item_id, NULL AS alert_id"
        "  FROM subscriptions s CROSS JOIN json_each(:items) j"
        "  LEFT JOIN filters f ON f.chat_id = s.chat_id AND f.feed_id = s.feed_id"
        "  WHERE s.feed_id = :feed AND (f.id IS NULL OR EXISTS (SELECT 1 FROM"
        "   json_each(:passed) p WHERE json_extract(p.value, '$[0]') = f.id"
        "   AND json_extract(p.value, '$[1]') = j.value))"
        "  UNION ALL"
        # Alerts, whether or not the chat follows the feed.
        "  SELECT a.chat_id, json_extract(m.value, '$[2]'), json_extract(m.value, '$[1]'), a.id"
        "  FROM json_each(:alerted) m JOIN alerts a ON a.id = json_extract(m.value, '$[0]')"
        " ) r JOIN chats c ON c.id = r.chat_id AND c.active = 1"
        # WHERE true: SQLite's upsert needs a WHERE to read ON CONFLICT right.
        f" WHERE true GROUP BY r.chat_id, r.item_id ORDER BY {order}"
        " ON CONFLICT DO NOTHING",
        {
            "items": json.dumps([i.id for i in items]),
            "passed": json.dumps(routes.passed),
            "alerted": json.dumps(routes.alerted),
            "digest": digest_key,
            "now": now,
            "feed": feed_id,
        },
    )
    return max(queued, 0)

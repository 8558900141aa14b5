"""Who gets a new statement, on PostgreSQL: the routed rows queued, with arrays where
SQLite's storage/_routing.py has JSON (which decides, and reads the saved searches,
for both)."""

from __future__ import annotations

from collections.abc import Sequence

from storage._core import Tx
from storage._routing import Routes
from storage.models import Item


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
    """Queue one row per chat and statement, as storage/_routing.queue_routed does:
    subscribers whose filter (if any) let it through, and chats whose alert matched.
    Returns the rows queued."""
    order = "r.chat_id, MIN(r.pos)" if by_chat else "MIN(r.pos), r.chat_id"
    queued = await db.execute(
        "INSERT INTO outbox (chat_id, kind, item_id, alert_id, digest_key, state, created_at)"
        " SELECT r.chat_id, 'item', r.item_id, MIN(r.alert_id),"
        " CASE WHEN c.pushes = 'digest' THEN NULL ELSE :digest::text END,"
        " CASE WHEN c.pushes = 'digest' THEN 'held' ELSE 'pending' END, :now"
        " FROM ("
        # Positions count from 0, as the alerts' do.
        "  SELECT s.chat_id, j.pos - 1 AS pos, j.item_id, NULL::bigint AS alert_id"
        "  FROM subscriptions s"
        "  CROSS JOIN unnest(:items::bigint[]) WITH ORDINALITY AS j(item_id, pos)"
        "  LEFT JOIN filters f ON f.chat_id = s.chat_id AND f.feed_id = s.feed_id"
        "  WHERE s.feed_id = :feed AND (f.id IS NULL OR EXISTS (SELECT 1 FROM"
        "   unnest(:passed_filters::bigint[], :passed_items::bigint[]) AS p(fid, iid)"
        "   WHERE p.fid = f.id AND p.iid = j.item_id))"
        "  UNION ALL"
        "  SELECT a.chat_id, m.pos, m.item_id, a.id FROM unnest(:alerts::bigint[],"
        "   :alert_items::bigint[], :positions::bigint[]) AS m(alert_id, item_id, pos)"
        "  JOIN alerts a ON a.id = m.alert_id"
        " ) r JOIN chats c ON c.id = r.chat_id AND c.active = 1"
        f" GROUP BY r.chat_id, r.item_id, c.pushes ORDER BY {order}"
        " ON CONFLICT DO NOTHING",
        {
            "items": [i.id for i in items],
            "passed_filters": [f for f, _ in routes.passed],
            "passed_items": [i for _, i in routes.passed],
            "alerts": [a for a, _, _ in routes.alerted],
            "alert_items": [i for _, i, _ in routes.alerted],
            "positions": [p for _, _, p in routes.alerted],
            "digest": digest_key,
            "now": now,
            "feed": feed_id,
        },
    )
    return max(queued, 0)

"""TRANSITION: what storage/postgres/_items.py still reads natively."""

from __future__ import annotations

from storage.errors import FeedNotFoundError
from storage.postgres._core import Conn, fetchone

# A feed follows a permanent redirect unless another feed (even a removed one) has
# the new URL already: then it keeps its own.
MOVED_URL = (
    "CASE WHEN %(url)s::text IS NULL OR EXISTS"
    " (SELECT 1 FROM feeds other WHERE other.url = %(url)s AND other.id != %(id)s)"
    " THEN url ELSE %(url)s END"
)


async def mark_success(db: Conn, feed_id: int, now: float) -> bool:
    row = await fetchone(
        db,
        "UPDATE feeds f SET consecutive_failures = 0, failure_alerted = 0,"
        " last_success_at = %(now)s FROM feeds old WHERE f.id = %(id)s AND old.id = f.id"
        " RETURNING old.failure_alerted",
        {"id": feed_id, "now": now},
    )
    if row is None:
        raise FeedNotFoundError(feed_id)
    return bool(row["failure_alerted"])

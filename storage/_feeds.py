"""Feeds (and web pages read as lists, kind 'page'): adding and removing them,
scheduling polls, and recording a poll that changed nothing or failed (a poll that
brought statements is storage/_items.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage._core import _MOVED_URL, CoreBase, Tx, _feed, _ts
from storage.errors import FeedExistsError, FeedNotFoundError
from storage.models import Feed, FeedKind, NewFeed

FAILURE_ALERT_THRESHOLD = 3


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A feed with its counts, for /feedstatus."""

    feed: Feed
    statements: int  # stored statements
    subscribers: int  # active chats that follow it


@dataclass(frozen=True, slots=True)
class FailureOutcome:
    consecutive_failures: int
    should_alert: bool  # crossed the alert threshold just now


class FeedsMixin(CoreBase):
    # ---------------------------------------------------------------------- feeds

    async def add_feed(
        self,
        url: str,
        title: str | None = None,
        *,
        kind: FeedKind = "feed",
        selectors: str | None = None,
    ) -> Feed:
        """Add a source (a feed, or a web page read as a list); one removed earlier
        comes back with its statements, as the kind given now."""
        async with self._write() as db:
            feed_id, there = await _insert_feed(
                db, NewFeed(url, title, kind, selectors), self.now()
            )
            if feed_id is None:
                raise FeedExistsError(url, there)
        return await self.get_feed(feed_id)

    async def get_feed(self, feed_id: int) -> Feed:
        row = await self._fetchone(
            "SELECT * FROM feeds WHERE id = :id AND removed = 0", {"id": feed_id}
        )
        if row is None:
            raise FeedNotFoundError(feed_id)
        return _feed(row)

    async def feed_by_url(self, url: str) -> Feed | None:
        row = await self._fetchone(
            "SELECT * FROM feeds WHERE url = :url AND removed = 0", {"url": url}
        )
        return None if row is None else _feed(row)

    async def list_feeds(self) -> list[Feed]:
        rows = await self._fetchall("SELECT * FROM feeds WHERE removed = 0 ORDER BY id")
        return [_feed(r) for r in rows]

    async def due_feeds(self, now: datetime, limit: int = 10_000) -> list[Feed]:
        rows = await self._fetchall(
            "SELECT * FROM feeds WHERE removed = 0 AND paused = 0"
            " AND (next_poll_at IS NULL OR next_poll_at <= :now)"
            " ORDER BY COALESCE(next_poll_at, 0), id LIMIT :limit",
            {"now": _ts(now), "limit": limit},
        )
        return [_feed(r) for r in rows]

    async def remove_feed(self, feed_id: int) -> None:
        """Stop polling and forget subscriptions; its statements stay searchable."""
        async with self._write() as db:
            changed = await db.execute(
                "UPDATE feeds SET removed = 1 WHERE id = :id AND removed = 0", {"id": feed_id}
            )
            if changed == 0:
                raise FeedNotFoundError(feed_id)
            await db.execute("DELETE FROM subscriptions WHERE feed_id = :id", {"id": feed_id})

    async def set_feed_paused(self, feed_id: int, paused: bool) -> Feed:
        async with self._write() as db:
            changed = await db.execute(
                "UPDATE feeds SET paused = :p, next_poll_at = CASE WHEN :p = 1 THEN next_poll_at"
                " ELSE NULL END WHERE id = :id AND removed = 0",
                {"id": feed_id, "p": int(paused)},
            )
            if changed == 0:
                raise FeedNotFoundError(feed_id)
        return await self.get_feed(feed_id)

    async def record_not_modified(
        self,
        feed_id: int,
        *,
        etag: str | None,
        last_modified: str | None,
        next_poll_at: datetime,
        url: str | None = None,
    ) -> bool:
        """A 304 or an identical body. Returns True when a failing feed recovered."""
        now = _ts(self.now())
        async with self._write() as db:
            recovered = await _mark_success(db, feed_id, now)
            await db.execute(
                "UPDATE feeds SET etag = COALESCE(:etag, etag),"
                " last_modified = COALESCE(:lm, last_modified),"
                f" next_poll_at = :next, url = {_MOVED_URL} WHERE id = :id",
                {
                    "id": feed_id,
                    "etag": etag,
                    "lm": last_modified,
                    "next": _ts(next_poll_at),
                    "url": url,
                },
            )
        return recovered

    async def record_failure(
        self, feed_id: int, error: str, *, next_poll_at: datetime, pause: bool = False
    ) -> FailureOutcome:
        """Count a failed poll; the feed is never disabled (except a 410, `pause`)."""
        now = _ts(self.now())
        async with self._write() as db:
            row = await db.fetchone(
                "UPDATE feeds SET consecutive_failures = consecutive_failures + 1,"
                " last_error = :error, last_error_at = :now, next_poll_at = :next,"
                " paused = CASE WHEN :pause = 1 THEN 1 ELSE paused END WHERE id = :id"
                " RETURNING consecutive_failures, failure_alerted",
                {
                    "id": feed_id,
                    "error": error[:1000],
                    "now": now,
                    "next": _ts(next_poll_at),
                    "pause": int(pause),
                },
            )
            if row is None:
                raise FeedNotFoundError(feed_id)
            failures = int(row["consecutive_failures"])
            alert = failures >= FAILURE_ALERT_THRESHOLD and not row["failure_alerted"]
            if alert:
                await db.execute(
                    "UPDATE feeds SET failure_alerted = 1 WHERE id = :id", {"id": feed_id}
                )
        return FailureOutcome(consecutive_failures=failures, should_alert=alert)

    async def feed_item_count(self, feed_id: int) -> int:
        row = await self._fetchone(
            "SELECT COUNT(*) AS n FROM items WHERE feed_id = :id", {"id": feed_id}
        )
        return int(row["n"]) if row else 0

    async def feed_statuses(self) -> list[FeedStatus]:
        """Every feed with its counts, in id order, in one query."""
        rows = await self._fetchall(
            "SELECT f.*,"
            " (SELECT COUNT(*) FROM items i WHERE i.feed_id = f.id) AS statements,"
            " (SELECT COUNT(*) FROM subscriptions s JOIN chats c ON c.id = s.chat_id"
            "  WHERE s.feed_id = f.id AND c.active = 1) AS subscribers"
            " FROM feeds f WHERE f.removed = 0 ORDER BY f.id"
        )
        return [
            FeedStatus(_feed(r), statements=int(r["statements"]), subscribers=int(r["subscribers"]))
            for r in rows
        ]

    # ------------------------------------------------------------------ bulk feeds

    async def add_feeds(
        self, feeds: Sequence[NewFeed | tuple[str, str | None]]
    ) -> tuple[list[Feed], list[tuple[str, int]]]:
        """Add many sources (NewFeed, or (url, title) for a feed) in one transaction,
        as `add_feed` adds one.

        Returns (feeds added or brought back, (url, feed id) of those already there).
        """
        now = self.now()
        added_ids: list[int] = []
        existing: list[tuple[str, int]] = []
        async with self._write() as db:
            for given in feeds:
                new = given if isinstance(given, NewFeed) else NewFeed(*given)
                feed_id, other = await _insert_feed(db, new, now)
                if feed_id is None:
                    existing.append((new.url, other))
                else:
                    added_ids.append(feed_id)
        rows = await self._fetchall(
            f"SELECT * FROM feeds WHERE {self._in_list('id', 'ids')} ORDER BY id",
            {"ids": self._list_param(added_ids)},
        )
        return [_feed(r) for r in rows], existing

    # ------------------------------------------------------- what a source turns out to be

    async def set_feed_url(self, feed_id: int, url: str) -> Feed:
        """A source never polled successfully turned out to be a page that names its
        feed (an OPML outline of a site's home page): poll the feed instead. Raises
        FeedExistsError when another source (even a removed one) has that URL."""
        async with self._write() as db:
            row = await db.fetchone(
                "SELECT id FROM feeds WHERE url = :url AND id != :id",
                {"url": url, "id": feed_id},
            )
            if row is not None:
                raise FeedExistsError(url, int(row["id"]))
            changed = await db.execute(
                "UPDATE feeds SET url = :url, etag = NULL, last_modified = NULL,"
                " content_hash = NULL WHERE id = :id AND removed = 0",
                {"url": url, "id": feed_id},
            )
            if changed == 0:
                raise FeedNotFoundError(feed_id)
        return await self.get_feed(feed_id)

    async def set_page_source(self, feed_id: int) -> Feed:
        """A source added as a feed turned out to be a web page with a list of
        statements and no feed: from now on it is read as a page."""
        async with self._write() as db:
            changed = await db.execute(
                "UPDATE feeds SET kind = 'page', etag = NULL, last_modified = NULL,"
                " content_hash = NULL, ttl_seconds = NULL WHERE id = :id AND removed = 0",
                {"id": feed_id},
            )
            if changed == 0:
                raise FeedNotFoundError(feed_id)
        return await self.get_feed(feed_id)


async def _insert_feed(db: Tx, new: NewFeed, now: datetime) -> tuple[int | None, int]:
    """Insert a source, or bring back a removed one with the same URL (as `new`'s
    kind). Returns (its id, 0), or (None, the id) when it is there already."""
    row = await db.fetchone("SELECT id, removed FROM feeds WHERE url = :url", {"url": new.url})
    if row is not None and not row["removed"]:
        return None, int(row["id"])
    params = {
        "url": new.url,
        "title": new.title,
        "locked": int(new.title is not None),
        "kind": new.kind,
        "selectors": new.selectors,
    }
    if row is not None:
        await db.execute(
            "UPDATE feeds SET removed = 0, paused = 0, next_poll_at = NULL,"
            " title = COALESCE(:title, title), title_locked = :locked,"
            # A page that was a feed before (or the reverse) is read afresh.
            " etag = CASE WHEN kind = :kind THEN etag END,"
            " last_modified = CASE WHEN kind = :kind THEN last_modified END,"
            " content_hash = CASE WHEN kind = :kind THEN content_hash END,"
            " kind = :kind, selectors = :selectors WHERE id = :id",
            {**params, "id": int(row["id"])},
        )
        return int(row["id"]), 0
    inserted = await db.fetchone(
        "INSERT INTO feeds (url, title, title_locked, kind, selectors, created_at)"
        " VALUES (:url, COALESCE(:title, ''), :locked, :kind, :selectors, :now) RETURNING id",
        {**params, "now": _ts(now)},
    )
    assert inserted is not None
    return int(inserted["id"]), 0


async def _mark_success(db: Tx, feed_id: int, now: float) -> bool:
    row = await db.fetchone("SELECT failure_alerted FROM feeds WHERE id = :id", {"id": feed_id})
    if row is None:
        raise FeedNotFoundError(feed_id)
    await db.execute(
        "UPDATE feeds SET consecutive_failures = 0, failure_alerted = 0,"
        " last_success_at = :now WHERE id = :id",
        {"id": feed_id, "now": now},
    )
    return bool(row["failure_alerted"])

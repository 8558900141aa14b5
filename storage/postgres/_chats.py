"""Chats on PostgreSQL, with subscriptions, a group's move to a supergroup and
channels: as storage/_chats.py, statement for statement."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from typing import Any

from storage._chats import TOPIC_IDS_BELOW, Channel
from storage._core import _ts
from storage.errors import ChatNotFoundError, FeedNotFoundError
from storage.models import Chat
from storage.postgres._core import PgStoreCore, Row, fetchone


class PgChatsMixin(PgStoreCore):
    async def upsert_chat(
        self, chat_id: int, chat_type: str, title: str, language: str | None = None
    ) -> tuple[Chat, bool]:
        """Record a chat we heard from; an inactive chat becomes active again.
        `language`: the interface language it starts in (kept once it has one).

        Returns the chat and whether it was reactivated."""
        now = _ts(self.now())
        async with self._write() as db:
            row = await fetchone(db, "SELECT active FROM chats WHERE id = %(id)s", {"id": chat_id})
            reactivated = row is not None and not row["active"]
            await db.execute(
                "INSERT INTO chats (id, type, title, language, created_at)"
                " VALUES (%(id)s, %(type)s, %(title)s, %(lang)s, %(now)s)"
                " ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, title = EXCLUDED.title,"
                " active = 1, inactive_reason = NULL,"
                " language = COALESCE(chats.language, EXCLUDED.language)",
                {
                    "id": chat_id,
                    "type": chat_type,
                    "title": title[:200],
                    "lang": language,
                    "now": now,
                },
            )
            if reactivated:
                # A forum back with the bot: its topics come back too, but a deleted one.
                await db.execute(
                    "UPDATE chats SET active = 1, inactive_reason = NULL WHERE parent_id = %(id)s"
                    " AND active = 0 AND inactive_reason IS DISTINCT FROM 'topic deleted'",
                    {"id": chat_id},
                )
        return await self.get_chat(chat_id), reactivated

    async def touch_chat(
        self, chat_id: int, chat_type: str, title: str, language: str | None = None
    ) -> Chat:
        """Like upsert_chat, but a read-only command does not reactivate a chat."""
        chat = await self.find_chat(chat_id)
        if chat is not None:
            return chat
        created, _ = await self.upsert_chat(chat_id, chat_type, title, language)
        return created

    async def topic_chat(self, parent_id: int, thread_id: int, title: str) -> Chat:
        """The subscriber a forum topic is: its own chat row (see storage/_chats.py)."""
        now = _ts(self.now())
        async with self._write() as db:
            row = await fetchone(
                db,
                "SELECT id FROM chats WHERE parent_id = %(parent)s AND thread_id = %(thread)s",
                {"parent": parent_id, "thread": thread_id},
            )
            if row is None:
                row = await fetchone(
                    db,
                    "INSERT INTO chats (id, type, title, parent_id, thread_id, created_at)"
                    " VALUES ((SELECT LEAST(COALESCE(MIN(id), %(floor)s), %(floor)s) - 1"
                    " FROM chats WHERE id < %(floor)s), 'topic', %(title)s, %(parent)s,"
                    " %(thread)s, %(now)s) RETURNING id",
                    {
                        "floor": TOPIC_IDS_BELOW,
                        "title": title[:200],
                        "parent": parent_id,
                        "thread": thread_id,
                        "now": now,
                    },
                )
                assert row is not None
        return await self.get_chat(int(row["id"]))

    async def find_chat(self, chat_id: int) -> Chat | None:
        row = await self._fetchone("SELECT * FROM chats WHERE id = %(id)s", {"id": chat_id})
        return None if row is None else self._chat(row)

    async def get_chat(self, chat_id: int) -> Chat:
        chat = await self.find_chat(chat_id)
        if chat is None:
            raise ChatNotFoundError(chat_id)
        return chat

    async def update_chat_settings(
        self,
        chat_id: int,
        *,
        timezone: str | None = None,
        daily_time: time | None = None,
        daily_enabled: bool | None = None,
        pushes: str | None = None,
        language: str | None = None,
    ) -> Chat:
        """Change what is given (see storage/_chats.py)."""
        if pushes not in (None, "instant", "digest"):
            raise ValueError(f"pushes must be instant or digest, not {pushes!r}")
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE chats SET timezone = COALESCE(%(tz)s::text, timezone),"
                " daily_time = COALESCE(%(t)s::text, daily_time),"
                " daily_enabled = COALESCE(%(on)s::integer, daily_enabled),"
                " pushes = COALESCE(%(pushes)s::text, pushes),"
                " language = COALESCE(%(lang)s::text, language) WHERE id = %(id)s",
                {
                    "id": chat_id,
                    "tz": timezone,
                    "t": None if daily_time is None else daily_time.strftime("%H:%M"),
                    "on": None if daily_enabled is None else int(daily_enabled),
                    "pushes": pushes,
                    "lang": language,
                },
            )
            if cur.rowcount == 0:
                raise ChatNotFoundError(chat_id)
            if pushes == "instant":
                released = await db.execute(
                    "UPDATE outbox SET state = 'pending', digest_key = %(key)s"
                    " WHERE chat_id = %(id)s AND state = 'held'",
                    {"id": chat_id, "key": f"day:{chat_id}:{_ts(self.now()):.0f}"},
                )
                if released.rowcount > 0:
                    self.outbox_changed.set()
            if daily_enabled is False:
                await db.execute(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'daily turned off'"
                    " WHERE chat_id = %(id)s AND kind = 'daily' AND state = 'pending'",
                    {"id": chat_id},
                )
        return await self.get_chat(chat_id)

    async def deactivate_chat(self, chat_id: int, reason: str) -> int:
        """Stop sending to a chat (and a forum's topics); pending rows are cancelled."""
        now = _ts(self.now())
        async with self._write() as db:
            await db.execute(
                "UPDATE chats SET active = 0, inactive_reason = %(r)s"
                " WHERE id = %(id)s OR (parent_id = %(id)s AND active = 1)",
                {"id": chat_id, "r": reason},
            )
            cur = await db.execute(
                "UPDATE outbox SET state = 'cancelled', last_error = %(r)s, finished_at = %(now)s"
                " WHERE state IN ('pending', 'held') AND (chat_id = %(id)s OR chat_id IN"
                " (SELECT id FROM chats WHERE parent_id = %(id)s))",
                {"id": chat_id, "r": reason, "now": now},
            )
            return max(cur.rowcount, 0)

    async def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Group → supergroup: subscriptions, settings and pending rows move to new_id."""
        params = {"old": old_id, "new": new_id}
        async with self._write() as db:
            old = await fetchone(db, "SELECT * FROM chats WHERE id = %(old)s", params)
            if old is None or old_id == new_id:
                return
            if await fetchone(db, "SELECT 1 FROM chats WHERE id = %(new)s", params) is None:
                # ON UPDATE CASCADE carries subscriptions, outbox and daily records along.
                await db.execute(
                    "UPDATE chats SET id = %(new)s, type = 'supergroup' WHERE id = %(old)s", params
                )
                return
            await db.execute(
                "INSERT INTO subscriptions (chat_id, feed_id, created_at)"
                " SELECT %(new)s, feed_id, created_at FROM subscriptions WHERE chat_id = %(old)s"
                " ON CONFLICT DO NOTHING",
                params,
            )
            await db.execute(
                "INSERT INTO filters (chat_id, feed_id, query, created_at)"
                " SELECT %(new)s, feed_id, query, created_at FROM filters WHERE chat_id = %(old)s"
                " ON CONFLICT DO NOTHING",
                params,
            )
            # What would collide with the new chat's own rows stays behind (SQLite's
            # UPDATE OR IGNORE) and goes with the old chat below.
            for table, key in (
                ("alerts", "canonical"),
                ("digest_releases", "local_date"),
                ("outbox", "item_id"),
                ("daily_sends", "local_date"),
            ):
                await db.execute(
                    f"UPDATE {table} t SET chat_id = %(new)s WHERE t.chat_id = %(old)s"
                    f" AND NOT EXISTS (SELECT 1 FROM {table} x WHERE x.chat_id = %(new)s"
                    f" AND x.{key} = t.{key})",
                    params,
                )
            await db.execute(
                "UPDATE chats SET timezone = o.timezone, daily_time = o.daily_time,"
                " daily_enabled = o.daily_enabled, pushes = o.pushes, active = 1,"
                " inactive_reason = NULL FROM chats o WHERE o.id = %(old)s AND chats.id = %(new)s",
                params,
            )
            await db.execute("DELETE FROM chats WHERE id = %(old)s", params)

    def _chat(self, row: Row) -> Chat:
        daily = row["daily_time"]
        return Chat(
            id=int(row["id"]),
            type=str(row["type"]),
            title=str(row["title"]),
            timezone=row["timezone"] or self.default_timezone,
            daily_time=time.fromisoformat(daily) if daily else self.default_daily_time,
            daily_enabled=bool(row["daily_enabled"]),
            active=bool(row["active"]),
            inactive_reason=row["inactive_reason"],
            pushes=str(row["pushes"]),
            parent_id=row["parent_id"],
            thread_id=row["thread_id"],
            language=row["language"] or self.default_language,
        )

    # -------------------------------------------------------------- subscriptions

    async def subscribe(self, chat_id: int, feed_ids: Iterable[int]) -> list[int]:
        """Subscribe to feeds; returns the ids newly subscribed."""
        now = _ts(self.now())
        added: list[int] = []
        async with self._write() as db:
            for feed_id in feed_ids:
                found = await fetchone(
                    db, "SELECT 1 FROM feeds WHERE id = %(id)s AND removed = 0", {"id": feed_id}
                )
                if found is None:
                    raise FeedNotFoundError(feed_id)
                cur = await db.execute(
                    "INSERT INTO subscriptions (chat_id, feed_id, created_at)"
                    " VALUES (%(chat)s, %(feed)s, %(now)s) ON CONFLICT DO NOTHING",
                    {"chat": chat_id, "feed": feed_id, "now": now},
                )
                if cur.rowcount > 0:
                    added.append(feed_id)
        return added

    async def unsubscribe(self, chat_id: int, feed_ids: Iterable[int]) -> list[int]:
        removed: list[int] = []
        async with self._write() as db:
            for feed_id in feed_ids:
                cur = await db.execute(
                    "DELETE FROM subscriptions WHERE chat_id = %(chat)s AND feed_id = %(feed)s",
                    {"chat": chat_id, "feed": feed_id},
                )
                if cur.rowcount > 0:
                    removed.append(feed_id)
            if removed:
                # What is still queued for those feeds would now be unwanted.
                await db.execute(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'unsubscribed'"
                    " WHERE chat_id = %(chat)s AND state IN ('pending', 'held')"
                    " AND alert_id IS NULL AND item_id IN"
                    " (SELECT id FROM items WHERE feed_id = ANY(%(feeds)s))",
                    {"chat": chat_id, "feeds": removed},
                )
                # The daily message goes to subscribers: the last unsubscribe stops it too.
                await db.execute(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'unsubscribed'"
                    " WHERE chat_id = %(id)s AND kind = 'daily' AND state = 'pending'"
                    " AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE chat_id = %(id)s)",
                    {"id": chat_id},
                )
        return removed

    async def subscriptions(self, chat_id: int) -> set[int]:
        rows = await self._fetchall(
            "SELECT feed_id FROM subscriptions WHERE chat_id = %(id)s", {"id": chat_id}
        )
        return {int(r["feed_id"]) for r in rows}

    # ------------------------------------------------------------------- channels

    async def add_channel(
        self, chat_id: int, title: str, username: str | None, added_by: int
    ) -> Chat:
        """Record a channel as a subscriber (active again if it was removed)."""
        now = _ts(self.now())
        params: dict[str, Any] = {
            "id": chat_id,
            "title": title[:200],
            "u": username,
            "by": added_by,
            "now": now,
        }
        async with self._write() as db:
            await db.execute(
                "INSERT INTO chats (id, type, title, created_at)"
                " VALUES (%(id)s, 'channel', %(title)s, %(now)s)"
                " ON CONFLICT (id) DO UPDATE SET type = 'channel', title = EXCLUDED.title,"
                " active = 1, inactive_reason = NULL",
                params,
            )
            # A username moves when a channel is renamed: the old holder gives it up.
            await db.execute(
                "UPDATE channels SET username = NULL"
                " WHERE lower(username) = lower(%(u)s::text) AND chat_id != %(id)s",
                params,
            )
            await db.execute(
                "INSERT INTO channels (chat_id, username, added_by, added_at)"
                " VALUES (%(id)s, %(u)s, %(by)s, %(now)s) ON CONFLICT (chat_id) DO UPDATE SET"
                " username = EXCLUDED.username, added_by = EXCLUDED.added_by,"
                " added_at = EXCLUDED.added_at",
                params,
            )
        return await self.get_chat(chat_id)

    async def find_channel(self, ref: int | str) -> Channel | None:
        """A channel by chat id, or by @name (with or without the @)."""
        params: dict[str, int | str]
        if isinstance(ref, int):
            where, params = "ch.chat_id = %(ref)s", {"ref": ref}
        else:
            where, params = "lower(ch.username) = lower(%(ref)s)", {"ref": ref.lstrip("@")}
        row = await self._fetchone(
            f"SELECT c.*, ch.username AS channel_username FROM channels ch"
            f" JOIN chats c ON c.id = ch.chat_id WHERE {where}",
            params,
        )
        if row is None:
            return None
        return Channel(
            chat=self._chat(row),
            username=row["channel_username"],
            feed_ids=frozenset(await self.subscriptions(int(row["id"]))),
        )

    async def list_channels(self) -> list[Channel]:
        rows = await self._fetchall(
            "SELECT c.*, ch.username AS channel_username FROM channels ch"
            " JOIN chats c ON c.id = ch.chat_id ORDER BY lower(c.title), c.id"
        )
        return [
            Channel(
                chat=self._chat(r),
                username=r["channel_username"],
                feed_ids=frozenset(await self.subscriptions(int(r["id"]))),
            )
            for r in rows
        ]

    async def remove_channel(self, chat_id: int) -> int:
        """Forget a channel (see storage/_chats.py). Returns its subscriptions."""
        now = _ts(self.now())
        reason = "removed by an admin"
        params = {"id": chat_id, "r": reason, "now": now}
        async with self._write() as db:
            cur = await db.execute("DELETE FROM channels WHERE chat_id = %(id)s", params)
            if cur.rowcount == 0:
                raise ChatNotFoundError(chat_id)
            cur = await db.execute("DELETE FROM subscriptions WHERE chat_id = %(id)s", params)
            subscriptions = max(cur.rowcount, 0)
            await db.execute(
                "UPDATE chats SET active = 0, inactive_reason = %(r)s WHERE id = %(id)s", params
            )
            await db.execute(
                "UPDATE outbox SET state = 'cancelled', last_error = %(r)s,"
                " finished_at = %(now)s WHERE chat_id = %(id)s AND state IN ('pending', 'held')",
                params,
            )
        return subscriptions

"""Chats and what belongs to them: settings, subscriptions, a group's move to a
supergroup, and channels an admin made subscribers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

import aiosqlite

from storage._core import StoreCore, _ts
from storage.errors import ChatNotFoundError, FeedNotFoundError
from storage.models import Chat


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel an admin made a subscriber; its settings live in its chat row."""

    chat: Chat
    username: str | None
    feed_ids: frozenset[int]


# Forum topics get chat ids of ours below this; Telegram's have at most 52 bits.
TOPIC_IDS_BELOW = -(2**60)


class ChatsMixin(StoreCore):
    # ---------------------------------------------------------------------- chats

    async def upsert_chat(
        self, chat_id: int, chat_type: str, title: str, language: str | None = None
    ) -> tuple[Chat, bool]:
        """Record a chat we heard from; a chat that was inactive becomes active again.
        `language`: the interface language it starts in (kept once it has one).

        Returns the chat and whether it was reactivated.
        """
        now = _ts(self.now())
        async with self._write() as db:
            async with db.execute(
                "SELECT active FROM chats WHERE id = :id", {"id": chat_id}
            ) as cur:
                row = await cur.fetchone()
            reactivated = row is not None and not row["active"]
            await db.execute(
                "INSERT INTO chats (id, type, title, language, created_at)"
                " VALUES (:id, :type, :title, :lang, :now)"
                " ON CONFLICT (id) DO UPDATE SET type = :type, title = :title, active = 1,"
                " inactive_reason = NULL, language = COALESCE(language, :lang)",
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
                    "UPDATE chats SET active = 1, inactive_reason = NULL WHERE parent_id = :id"
                    " AND active = 0 AND inactive_reason IS NOT 'topic deleted'",
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
        """The subscriber a forum topic is: its own chat row, made on first use, with
        an id below -2^60 (no Telegram id is that low) and its own settings."""
        now = _ts(self.now())
        async with self._write() as db:
            rows = list(
                await db.execute_fetchall(
                    "SELECT id FROM chats WHERE parent_id = :parent AND thread_id = :thread",
                    {"parent": parent_id, "thread": thread_id},
                )
            )
            if rows:
                chat_id = int(rows[0][0])
            else:
                async with db.execute(
                    "INSERT INTO chats (id, type, title, parent_id, thread_id, created_at)"
                    " VALUES ((SELECT MIN(COALESCE(MIN(id), :floor), :floor) - 1 FROM chats"
                    " WHERE id < :floor), 'topic', :title, :parent, :thread, :now) RETURNING id",
                    {
                        "floor": TOPIC_IDS_BELOW,
                        "title": title[:200],
                        "parent": parent_id,
                        "thread": thread_id,
                        "now": now,
                    },
                ) as cur:
                    inserted = await cur.fetchone()
                    assert inserted is not None
                chat_id = int(inserted[0])
        return await self.get_chat(chat_id)

    async def find_chat(self, chat_id: int) -> Chat | None:
        row = await self._fetchone("SELECT * FROM chats WHERE id = :id", {"id": chat_id})
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
        """Change what is given; `pushes` is 'instant' or 'digest'. Back to instant,
        the statements held for today's digest go at once, as one digest."""
        if pushes not in (None, "instant", "digest"):
            raise ValueError(f"pushes must be instant or digest, not {pushes!r}")
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE chats SET timezone = COALESCE(:tz, timezone),"
                " daily_time = COALESCE(:t, daily_time),"
                " daily_enabled = COALESCE(:on, daily_enabled),"
                " pushes = COALESCE(:pushes, pushes), language = COALESCE(:lang, language)"
                " WHERE id = :id",
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
                    "UPDATE outbox SET state = 'pending', digest_key = :key"
                    " WHERE chat_id = :id AND state = 'held'",
                    {"id": chat_id, "key": f"day:{chat_id}:{_ts(self.now()):.0f}"},
                )
                if released.rowcount > 0:
                    self.outbox_changed.set()
            if daily_enabled is False:
                # Turned off is honoured at once, even for a message still in the queue.
                await db.execute(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'daily turned off'"
                    " WHERE chat_id = :id AND kind = 'daily' AND state = 'pending'",
                    {"id": chat_id},
                )
        return await self.get_chat(chat_id)

    async def deactivate_chat(self, chat_id: int, reason: str) -> int:
        """Stop sending to a chat (and a forum's topics with it); pending rows are
        cancelled (kept) with the reason. Returns how many."""
        now = _ts(self.now())
        async with self._write() as db:
            await db.execute(
                "UPDATE chats SET active = 0, inactive_reason = :r"
                " WHERE id = :id OR (parent_id = :id AND active = 1)",
                {"id": chat_id, "r": reason},
            )
            cur = await db.execute(
                "UPDATE outbox SET state = 'cancelled', last_error = :r, finished_at = :now"
                " WHERE state IN ('pending', 'held') AND (chat_id = :id OR chat_id IN"
                " (SELECT id FROM chats WHERE parent_id = :id))",
                {"id": chat_id, "r": reason, "now": now},
            )
            return max(cur.rowcount, 0)

    async def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Group → supergroup: subscriptions, settings and pending rows move to new_id."""
        async with self._write() as db:
            async with db.execute("SELECT * FROM chats WHERE id = :id", {"id": old_id}) as cur:
                old = await cur.fetchone()
            if old is None or old_id == new_id:
                return
            async with db.execute("SELECT 1 FROM chats WHERE id = :id", {"id": new_id}) as cur:
                new_exists = await cur.fetchone() is not None
            if not new_exists:
                # ON UPDATE CASCADE carries subscriptions, outbox and daily records along.
                await db.execute(
                    "UPDATE chats SET id = :new, type = 'supergroup' WHERE id = :old",
                    {"old": old_id, "new": new_id},
                )
                return
            params = {"old": old_id, "new": new_id}
            await db.execute(
                "INSERT OR IGNORE INTO subscriptions (chat_id, feed_id, created_at)"
                " SELECT :new, feed_id, created_at FROM subscriptions WHERE chat_id = :old",
                params,
            )
            await db.execute(
                "INSERT OR IGNORE INTO filters (chat_id, feed_id, query, created_at)"
                " SELECT :new, feed_id, query, created_at FROM filters WHERE chat_id = :old",
                params,
            )
            for table in ("alerts", "digest_releases"):
                await db.execute(
                    f"UPDATE OR IGNORE {table} SET chat_id = :new WHERE chat_id = :old", params
                )
            await db.execute(
                "UPDATE OR IGNORE outbox SET chat_id = :new WHERE chat_id = :old", params
            )
            await db.execute(
                "UPDATE chats SET timezone = (SELECT timezone FROM chats WHERE id = :old),"
                " daily_time = (SELECT daily_time FROM chats WHERE id = :old),"
                " daily_enabled = (SELECT daily_enabled FROM chats WHERE id = :old),"
                " pushes = (SELECT pushes FROM chats WHERE id = :old),"
                " active = 1, inactive_reason = NULL WHERE id = :new",
                params,
            )
            await db.execute(
                "UPDATE OR IGNORE daily_sends SET chat_id = :new WHERE chat_id = :old", params
            )
            await db.execute("DELETE FROM chats WHERE id = :old", params)

    def _chat(self, row: aiosqlite.Row) -> Chat:
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
                async with db.execute(
                    "SELECT 1 FROM feeds WHERE id = :id AND removed = 0", {"id": feed_id}
                ) as cur:
                    if await cur.fetchone() is None:
                        raise FeedNotFoundError(feed_id)
                cur2 = await db.execute(
                    "INSERT OR IGNORE INTO subscriptions (chat_id, feed_id, created_at)"
                    " VALUES (:chat, :feed, :now)",
                    {"chat": chat_id, "feed": feed_id, "now": now},
                )
                if cur2.rowcount > 0:
                    added.append(feed_id)
        return added

    async def unsubscribe(self, chat_id: int, feed_ids: Iterable[int]) -> list[int]:
        removed: list[int] = []
        async with self._write() as db:
            for feed_id in feed_ids:
                cur = await db.execute(
                    "DELETE FROM subscriptions WHERE chat_id = :chat AND feed_id = :feed",
                    {"chat": chat_id, "feed": feed_id},
                )
                if cur.rowcount > 0:
                    removed.append(feed_id)
            # What is still queued for those feeds would now be unwanted.
            if removed:
                marks = ",".join("?" * len(removed))
                await db.execute(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'unsubscribed'"
                    " WHERE chat_id = ? AND state IN ('pending', 'held') AND alert_id IS NULL"
                    " AND item_id IN"
                    f" (SELECT id FROM items WHERE feed_id IN ({marks}))",
                    [chat_id, *removed],
                )
                # The daily message goes to subscribers: the last unsubscribe stops it too.
                await db.execute(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'unsubscribed'"
                    " WHERE chat_id = :id AND kind = 'daily' AND state = 'pending'"
                    " AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE chat_id = :id)",
                    {"id": chat_id},
                )
        return removed

    async def subscriptions(self, chat_id: int) -> set[int]:
        rows = await self._fetchall(
            "SELECT feed_id FROM subscriptions WHERE chat_id = :id", {"id": chat_id}
        )
        return {int(r[0]) for r in rows}

    # ------------------------------------------------------------------- channels

    async def add_channel(
        self, chat_id: int, title: str, username: str | None, added_by: int
    ) -> Chat:
        """Record a channel as a subscriber (active again if it was removed)."""
        now = _ts(self.now())
        async with self._write() as db:
            await db.execute(
                "INSERT INTO chats (id, type, title, created_at)"
                " VALUES (:id, 'channel', :title, :now)"
                " ON CONFLICT (id) DO UPDATE SET type = 'channel', title = :title, active = 1,"
                " inactive_reason = NULL",
                {"id": chat_id, "title": title[:200], "now": now},
            )
            # A username moves when a channel is renamed: the old holder gives it up.
            await db.execute(
                "UPDATE channels SET username = NULL"
                " WHERE username = :u COLLATE NOCASE AND chat_id != :id",
                {"u": username, "id": chat_id},
            )
            await db.execute(
                "INSERT INTO channels (chat_id, username, added_by, added_at)"
                " VALUES (:id, :u, :by, :now) ON CONFLICT (chat_id) DO UPDATE SET"
                " username = :u, added_by = :by, added_at = :now",
                {"id": chat_id, "u": username, "by": added_by, "now": now},
            )
        return await self.get_chat(chat_id)

    async def find_channel(self, ref: int | str) -> Channel | None:
        """A channel by chat id, or by @name (with or without the @)."""
        params: dict[str, int | str]
        if isinstance(ref, int):
            where, params = "ch.chat_id = :ref", {"ref": ref}
        else:
            where, params = "ch.username = :ref COLLATE NOCASE", {"ref": ref.lstrip("@")}
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
            " JOIN chats c ON c.id = ch.chat_id ORDER BY c.title COLLATE NOCASE, c.id"
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
        """Forget a channel: its subscriptions go, queued messages are cancelled, the
        chat stays (inactive) so delivery history and /stats still explain it.
        Returns how many subscriptions it had."""
        now = _ts(self.now())
        reason = "removed by an admin"
        async with self._write() as db:
            cur = await db.execute("DELETE FROM channels WHERE chat_id = :id", {"id": chat_id})
            if cur.rowcount == 0:
                raise ChatNotFoundError(chat_id)
            cur = await db.execute("DELETE FROM subscriptions WHERE chat_id = :id", {"id": chat_id})
            subscriptions = max(cur.rowcount, 0)
            await db.execute(
                "UPDATE chats SET active = 0, inactive_reason = :r WHERE id = :id",
                {"id": chat_id, "r": reason},
            )
            await db.execute(
                "UPDATE outbox SET state = 'cancelled', last_error = :r, finished_at = :now"
                " WHERE chat_id = :id AND state IN ('pending', 'held')",
                {"id": chat_id, "r": reason, "now": now},
            )
        return subscriptions

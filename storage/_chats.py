"""Chats and what belongs to them: settings, subscriptions, a group's move to a
supergroup, and channels an admin made subscribers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from storage._core import CoreBase, RowLike, _ts
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


class ChatsMixin(CoreBase):
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
            row = await db.fetchone("SELECT active FROM chats WHERE id = :id", {"id": chat_id})
            reactivated = row is not None and not row["active"]
            await db.execute(
                "INSERT INTO chats (id, type, title, language, created_at)"
                " VALUES (:id, :type, :title, :lang, :now)"
                " ON CONFLICT (id) DO UPDATE SET type = excluded.type, title = excluded.title,"
                " active = 1, inactive_reason = NULL,"
                " language = COALESCE(chats.language, excluded.language)",
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
        """The subscriber a forum topic is: its own chat row, made on first use, with
        an id below -2^60 (no Telegram id is that low) and its own settings."""
        now = _ts(self.now())
        async with self._write() as db:
            row = await db.fetchone(
                "SELECT id FROM chats WHERE parent_id = :parent AND thread_id = :thread",
                {"parent": parent_id, "thread": thread_id},
            )
            if row is None:
                # Every id below the floor is a topic's: the next is one below the lowest.
                row = await db.fetchone(
                    "INSERT INTO chats (id, type, title, parent_id, thread_id, created_at)"
                    " VALUES ((SELECT COALESCE(MIN(id), :floor) - 1 FROM chats"
                    " WHERE id < :floor), 'topic', :title, :parent, :thread, :now) RETURNING id",
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
            changed = await db.execute(
                "UPDATE chats SET timezone = COALESCE(CAST(:tz AS TEXT), timezone),"
                " daily_time = COALESCE(CAST(:t AS TEXT), daily_time),"
                " daily_enabled = COALESCE(CAST(:on AS INTEGER), daily_enabled),"
                " pushes = COALESCE(CAST(:pushes AS TEXT), pushes),"
                " language = COALESCE(CAST(:lang AS TEXT), language) WHERE id = :id",
                {
                    "id": chat_id,
                    "tz": timezone,
                    "t": None if daily_time is None else daily_time.strftime("%H:%M"),
                    "on": None if daily_enabled is None else int(daily_enabled),
                    "pushes": pushes,
                    "lang": language,
                },
            )
            if changed == 0:
                raise ChatNotFoundError(chat_id)
            if pushes == "instant":
                released = await db.execute(
                    "UPDATE outbox SET state = 'pending', digest_key = :key"
                    " WHERE chat_id = :id AND state = 'held'",
                    {"id": chat_id, "key": f"day:{chat_id}:{_ts(self.now()):.0f}"},
                )
                if released > 0:
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
            cancelled = await db.execute(
                "UPDATE outbox SET state = 'cancelled', last_error = :r, finished_at = :now"
                " WHERE state IN ('pending', 'held') AND (chat_id = :id OR chat_id IN"
                " (SELECT id FROM chats WHERE parent_id = :id))",
                {"id": chat_id, "r": reason, "now": now},
            )
            return max(cancelled, 0)

    async def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Group → supergroup: subscriptions, settings and pending rows move to new_id."""
        params = {"old": old_id, "new": new_id}
        async with self._write() as db:
            old = await db.fetchone("SELECT * FROM chats WHERE id = :old", params)
            if old is None or old_id == new_id:
                return
            if await db.fetchone("SELECT 1 AS found FROM chats WHERE id = :new", params) is None:
                # ON UPDATE CASCADE carries subscriptions, outbox and daily records along.
                await db.execute(
                    "UPDATE chats SET id = :new, type = 'supergroup' WHERE id = :old", params
                )
                return
            # (The WHERE lets SQLite read ON CONFLICT as the upsert's.)
            await db.execute(
                "INSERT INTO subscriptions (chat_id, feed_id, created_at)"
                " SELECT :new, feed_id, created_at FROM subscriptions WHERE chat_id = :old"
                " ON CONFLICT DO NOTHING",
                params,
            )
            await db.execute(
                "INSERT INTO filters (chat_id, feed_id, query, created_at)"
                " SELECT :new, feed_id, query, created_at FROM filters WHERE chat_id = :old"
                " ON CONFLICT DO NOTHING",
                params,
            )
            # What would collide with the new chat's own rows (its one unique key besides
            # the id) stays behind and goes with the old chat below.
            for table, key in (
                ("alerts", "canonical"),
                ("digest_releases", "local_date"),
                ("outbox", "item_id"),
                ("daily_sends", "local_date"),
            ):
                await db.execute(
                    f"UPDATE {table} AS t SET chat_id = :new WHERE t.chat_id = :old"
                    f" AND NOT EXISTS (SELECT 1 FROM {table} x WHERE x.chat_id = :new"
                    f" AND x.{key} = t.{key})",
                    params,
                )
            await db.execute(
                "UPDATE chats SET timezone = (SELECT timezone FROM chats WHERE id = :old),"
                " daily_time = (SELECT daily_time FROM chats WHERE id = :old),"
                " daily_enabled = (SELECT daily_enabled FROM chats WHERE id = :old),"
                " pushes = (SELECT pushes FROM chats WHERE id = :old),"
                " active = 1, inactive_reason = NULL WHERE id = :new",
                params,
            )
            await db.execute("DELETE FROM chats WHERE id = :old", params)

    def _chat(self, row: RowLike) -> Chat:
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
                found = await db.fetchone(
                    "SELECT 1 AS found FROM feeds WHERE id = :id AND removed = 0", {"id": feed_id}
                )
                if found is None:
                    raise FeedNotFoundError(feed_id)
                inserted = await db.execute(
                    "INSERT INTO subscriptions (chat_id, feed_id, created_at)"
                    " VALUES (:chat, :feed, :now) ON CONFLICT DO NOTHING",
                    {"chat": chat_id, "feed": feed_id, "now": now},
                )
                if inserted > 0:
                    added.append(feed_id)
        return added

    async def unsubscribe(self, chat_id: int, feed_ids: Iterable[int]) -> list[int]:
        removed: list[int] = []
        async with self._write() as db:
            for feed_id in feed_ids:
                deleted = await db.execute(
                    "DELETE FROM subscriptions WHERE chat_id = :chat AND feed_id = :feed",
                    {"chat": chat_id, "feed": feed_id},
                )
                if deleted > 0:
                    removed.append(feed_id)
            # What is still queued for those feeds would now be unwanted.
            if removed:
                await db.execute(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'unsubscribed'"
                    " WHERE chat_id = :chat AND state IN ('pending', 'held') AND alert_id IS NULL"
                    " AND item_id IN"
                    f" (SELECT id FROM items WHERE {self._in_list('feed_id', 'feeds')})",
                    {"chat": chat_id, "feeds": self._list_param(removed)},
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
        return {int(r["feed_id"]) for r in rows}

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
                " ON CONFLICT (id) DO UPDATE SET type = 'channel', title = excluded.title,"
                " active = 1, inactive_reason = NULL",
                {"id": chat_id, "title": title[:200], "now": now},
            )
            # A username moves when a channel is renamed: the old holder gives it up.
            # (lower() folds ASCII only on SQLite, as NOCASE does; usernames are ASCII.)
            await db.execute(
                "UPDATE channels SET username = NULL"
                " WHERE lower(username) = lower(CAST(:u AS TEXT)) AND chat_id != :id",
                {"u": username, "id": chat_id},
            )
            await db.execute(
                "INSERT INTO channels (chat_id, username, added_by, added_at)"
                " VALUES (:id, :u, :by, :now) ON CONFLICT (chat_id) DO UPDATE SET"
                " username = excluded.username, added_by = excluded.added_by,"
                " added_at = excluded.added_at",
                {"id": chat_id, "u": username, "by": added_by, "now": now},
            )
        return await self.get_chat(chat_id)

    async def find_channel(self, ref: int | str) -> Channel | None:
        """A channel by chat id, or by @name (with or without the @)."""
        params: dict[str, int | str]
        if isinstance(ref, int):
            where, params = "ch.chat_id = :ref", {"ref": ref}
        else:
            where, params = "lower(ch.username) = lower(:ref)", {"ref": ref.lstrip("@")}
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
        """Forget a channel: its subscriptions go, queued messages are cancelled, the
        chat stays (inactive) so delivery history and /stats still explain it.
        Returns how many subscriptions it had."""
        now = _ts(self.now())
        reason = "removed by an admin"
        async with self._write() as db:
            deleted = await db.execute("DELETE FROM channels WHERE chat_id = :id", {"id": chat_id})
            if deleted == 0:
                raise ChatNotFoundError(chat_id)
            subscriptions = max(
                await db.execute("DELETE FROM subscriptions WHERE chat_id = :id", {"id": chat_id}),
                0,
            )
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

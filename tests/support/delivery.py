"""What the delivery tests share: a feed on the local feed server, chats subscribed to
it through the store, statements published through the real poll, and a look at the
outbox rows as they are in the database."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator import ApiCall, ChatType
from jobs.delivery_policy import DeliveryTuning
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry, rss
from tests.support.rig import Rig, start_rig, stop_rig

FEED_PATH = "/statements.xml"
# Short waits so that backoff, timeouts and retries happen within a test's second.
FAST = DeliveryTuning(backoff=0.05, backoff_cap=1.0, max_attempts=3, timeout_pause=0.05)


@dataclass(frozen=True)
class OutboxState:
    chat_id: int
    item_id: int | None
    state: str
    last_error: str | None
    possible_duplicate: bool
    message_id: int | None


async def delivery_rig(
    tmp_path: Path,
    fake: FakeBotApi,
    feeds: FeedServer,
    *,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Rig:
    """The rig with several sends at once, no per-chat spacing and short waits."""
    settings = {"DELIVERY_CONCURRENCY": "4", **(env or {})}
    options: dict[str, Any] = {"chat_pacing": False, "delivery": FAST, **overrides}
    return await start_rig(tmp_path, fake, feeds, env=settings, **options)


async def running_rig(
    tmp_path: Path, fake: FakeBotApi, feeds: FeedServer, **kwargs: Any
) -> AsyncIterator[Rig]:
    rig = await delivery_rig(tmp_path, fake, feeds, **kwargs)
    try:
        yield rig
    finally:
        await stop_rig(rig)


async def add_feed(rig: Rig, *backlog: Entry) -> int:
    """A feed whose first poll stores the backlog and pushes nothing."""
    rig.feeds.set(FEED_PATH, rss(backlog))
    feed = await rig.services.store.add_feed(rig.feeds.url(FEED_PATH))
    await rig.run_job("poll")
    await rig.delivered()
    return feed.id


async def subscribe(
    rig: Rig, feed_id: int, chat_ids: Iterable[int], chat_type: ChatType = "private"
) -> None:
    store = rig.services.store
    for chat_id in chat_ids:
        if chat_type == "private":
            rig.api.add_user(chat_id, f"User{chat_id}")
        else:
            rig.api.add_chat(chat_id, chat_type, title=f"Group {chat_id}")
        await store.upsert_chat(chat_id, chat_type, f"Chat {chat_id}")
        await store.subscribe(chat_id, [feed_id])


async def publish(rig: Rig, *items: Entry) -> None:
    """The feed now holds `items`; the next poll stores and queues what is new."""
    rig.feeds.set(FEED_PATH, rss(items))
    rig.clock.advance(seconds=600)
    await rig.run_job("poll")


def titles(rig: Rig, chat_id: int) -> list[str]:
    """The first line of every message the bot sent to a chat."""
    return [(m.plain_text or "").split("\n", 1)[0] for m in rig.api.messages(chat_id)]


def sends_to(rig: Rig, chat_id: int) -> list[ApiCall]:
    return [c for c in rig.api.calls_to("sendMessage") if str(c.params["chat_id"]) == str(chat_id)]


def outbox(rig: Rig) -> list[OutboxState]:
    """Every outbox row, read from the database file as another process would."""
    with sqlite3.connect(rig.settings.database_path) as db:
        rows = db.execute(
            "SELECT chat_id, item_id, state, last_error, possible_duplicate, message_id"
            " FROM outbox ORDER BY id"
        ).fetchall()
    return [OutboxState(int(r[0]), r[1], str(r[2]), r[3], bool(r[4]), r[5]) for r in rows]

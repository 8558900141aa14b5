"""What the delivery tests share: a rig that sends several messages at once with short
waits, what each chat received, and the outbox rows as they are in the database.
(Feeds, subscriptions and publishing are in rig.py.)"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from emulator import ApiCall
from jobs.delivery_policy import DeliveryTuning
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.rig import Rig, start_rig, stop_rig

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


async def start_delivery_rig(
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
    rig = await start_delivery_rig(tmp_path, fake, feeds, **kwargs)
    try:
        yield rig
    finally:
        await stop_rig(rig)


def titles(rig: Rig, chat_id: int) -> list[str]:
    """The first line of every message the bot sent to a chat."""
    return [(m.plain_text or "").split("\n", 1)[0] for m in rig.api.messages(chat_id)]


def sends_to(rig: Rig, chat_id: int) -> list[ApiCall]:
    return [c for c in rig.api.calls_to("sendMessage") if str(c.params["chat_id"]) == str(chat_id)]


def outbox(rig: Rig) -> list[OutboxState]:
    """Every outbox row, read from the database as another process would (the SQLite
    file, or the PostgreSQL database under --store=postgres)."""
    query = (
        "SELECT chat_id, item_id, state, last_error, possible_duplicate, message_id"
        " FROM outbox ORDER BY id"
    )
    if rig.settings.database_url is not None:
        with psycopg.connect(rig.settings.database_url.url) as pg:
            rows: list[Any] = pg.execute(query).fetchall()
    else:
        with sqlite3.connect(rig.settings.database_path) as db:
            rows = db.execute(query).fetchall()
    return [OutboxState(int(r[0]), r[1], str(r[2]), r[3], bool(r[4]), r[5]) for r in rows]

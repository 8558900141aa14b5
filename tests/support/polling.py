"""What the poll-loop tests share: a real Store on a temporary database, the real
Poller with a real HTTP client against the local feed server, a FakeClock, and
the admin alerts the Poller raised, recorded in order."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bot import USER_AGENT
from jobs.fetch import make_client
from jobs.poll import CycleReport, Poller
from storage.models import Feed
from storage.store import Store
from tests.support.feed_server import FeedServer
from tests.support.rig import FakeClock

INTERVAL = 300.0
DAY = 24 * 60 * 60.0


@dataclass
class PollEnv:
    store: Store
    clock: FakeClock
    server: FeedServer
    client: httpx.AsyncClient
    poller: Poller = field(init=False)
    alerts: list[tuple[str, int, str]] = field(default_factory=list)

    async def add_feed(self, path: str, title: str | None = None) -> Feed:
        return await self.store.add_feed(self.server.url(path), title)

    async def feed(self, feed: Feed | int) -> Feed:
        return await self.store.get_feed(feed if isinstance(feed, int) else feed.id)

    async def poll(self) -> CycleReport:
        return await self.poller.poll_due()

    async def poll_when_due(self, feed: Feed | int) -> CycleReport:
        """Move the clock to the feed's next poll time, then run a cycle."""
        current = await self.feed(feed)
        assert current.next_poll_at is not None
        self.clock.set(max(self.clock.now, current.next_poll_at))
        return await self.poll()

    async def delay_of(self, feed: Feed | int) -> float:
        """Seconds from now until the feed's next poll."""
        current = await self.feed(feed)
        assert current.next_poll_at is not None
        return (current.next_poll_at - self.clock.now).total_seconds()

    def new_poller(self, **kwargs: Any) -> Poller:
        async def alert(kind: str, feed: Feed, text: str) -> None:
            self.alerts.append((kind, feed.id, text))

        options: dict[str, Any] = {
            "poll_interval": INTERVAL,
            "allow_private": True,
            "clock": self.clock,
            "alert": alert,
            "rng": random.Random(4),
            "fetch_timeout": 2.0,
        }
        options.update(kwargs)
        return Poller(self.store, self.client, **options)


@asynccontextmanager
async def poll_env(
    tmp_path: Path, server: FeedServer, *, now: datetime | None = None, **poller: Any
) -> AsyncIterator[PollEnv]:
    clock = FakeClock() if now is None else FakeClock(now)
    store = await Store.open(tmp_path / "poll.sqlite3", clock=clock)
    client = make_client(user_agent=USER_AGENT, allow_private=True)
    try:
        env = PollEnv(store, clock, server, client)
        env.poller = env.new_poller(**poller)
        yield env
    finally:
        await client.aclose()
        await store.close()

"""The end-to-end rig: the real Application, long-polling the fake Bot API over HTTP,
with a temporary database, feeds from the local feed server and a clock the test
moves. Registered as a pytest plugin (fixture `rig`). Also what tests do around it:
add a feed, subscribe chats, publish statements."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.error import TelegramError

from bot.app import App, Overrides, build_application, start_application, stop_application
from bot.config import Settings, load_settings
from bot.services import Services, services_of
from emulator import BotApiEmulator, ChatType, SentMessage
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry, rss

ADMIN = 1001
USER = 2002
OTHER = 3003
FEED_PATH = "/statements.xml"


@dataclass
class FakeClock:
    """A clock the test moves; every time the bot reads goes through it."""

    now: datetime = field(default_factory=lambda: datetime(2021, 12, 3, 4, 30, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


def rig_settings(
    tmp_path: Path, fake: FakeBotApi, extra: Mapping[str, str] | None = None
) -> Settings:
    env = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_PATH": str(tmp_path / "db" / "communique.sqlite3"),
        "ADMIN_IDS": str(ADMIN),
        "ALLOW_PRIVATE_FEEDS": "true",
        "POLL_INTERVAL": "300",
        "BROADCAST_RATE": "1000",
        "LOG_LEVEL": "DEBUG",
    }
    env.update(extra or {})
    return load_settings(env, env_file=None)


class Rig:
    """A running bot plus the fakes around it, and what a test needs to drive it."""

    def __init__(
        self, app: App, fake: FakeBotApi, feeds: FeedServer, clock: FakeClock, settings: Settings
    ) -> None:
        self.app = app
        self.fake = fake
        self.api: BotApiEmulator = fake.emulator
        self.feeds = feeds
        self.clock = clock
        self.settings = settings

    @property
    def services(self) -> Services:
        return services_of(self.app)

    async def say(
        self, chat_id: int, user_id: int, text: str, *, replies: int = 1
    ) -> list[SentMessage]:
        """A user writes in a chat; returns the bot's new messages there (waits for them)."""
        before = len(self.api.messages(chat_id))
        self.api.send_text(chat_id, user_id, text)
        got = await self.api.wait_for_messages(chat_id, before + replies)
        return got[before:]

    async def reply_to(self, chat_id: int, user_id: int, text: str) -> SentMessage:
        return (await self.say(chat_id, user_id, text))[-1]

    async def run_job(self, name: str) -> None:
        """Run a scheduled job now, as the JobQueue would when its time comes."""
        assert self.app.job_queue is not None
        jobs = self.app.job_queue.get_jobs_by_name(name)
        assert jobs, f"no job named {name}"
        await jobs[0].run(self.app)

    async def wait_delivered(self, within: float = 5.0) -> None:
        """Wait until delivery has nothing left to send."""
        await self.services.deliverer.wait_idle(within)

    def texts(self, chat_id: int) -> list[str]:
        return [m.plain_text or "" for m in self.api.messages(chat_id)]


async def start_rig(
    tmp_path: Path,
    fake: FakeBotApi,
    feeds: FeedServer,
    *,
    env: Mapping[str, str] | None = None,
    clock: FakeClock | None = None,
    **overrides: Any,
) -> Rig:
    settings = rig_settings(tmp_path, fake, env)
    clock = clock or FakeClock()
    fake.emulator.add_user(ADMIN, "Ada")
    fake.emulator.add_user(USER, "Uma")
    fake.emulator.add_user(OTHER, "Otto")
    app = build_application(
        settings,
        Overrides(clock=clock, rng=random.Random(7), **overrides),
    )
    # Jobs are registered but the test decides when they run (run_job), so the
    # real-time JobQueue never races the test's clock.
    await start_application(app)
    assert app.updater is not None

    def polling_error(exc: TelegramError) -> None:
        # What run_polling does with an error fetching updates: the error handler.
        app.create_task(app.process_error(error=exc, update=None))

    await app.updater.start_polling(
        poll_interval=0.0,
        timeout=1,
        allowed_updates=Update.ALL_TYPES,
        error_callback=polling_error,
    )
    if app.job_queue is not None:
        for job in app.job_queue.jobs():
            job.enabled = False
    return Rig(app, fake, feeds, clock, settings)


async def stop_rig(rig: Rig) -> None:
    await stop_application(rig.app)


STORE_OPTION = "--store"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        STORE_OPTION,
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the store the running bot of the rig uses: postgres runs every test that"
        " drives the bot on a fresh PostgreSQL database (make test runs both)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under --store=postgres only the tests that drive the bot through the rig run
    (the store's own tests run on both backends in every session)."""
    if config.getoption(STORE_OPTION) != "postgres":
        return
    skip = pytest.mark.skip(reason="reads or writes the SQLite file itself")
    kept, left = [], []
    for item in items:
        if "rig" not in getattr(item, "fixturenames", ()):
            left.append(item)
            continue
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)
        kept.append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture
async def rig(
    tmp_path: Path,
    fake_bot_api: FakeBotApi,
    feed_server: FeedServer,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Rig]:
    env: dict[str, str] = {}
    if request.config.getoption(STORE_OPTION) == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("postgres_server").new_database()
    running = await start_rig(tmp_path, fake_bot_api, feed_server, env=env)
    try:
        yield running
    finally:
        await stop_rig(running)


async def add_feed(
    rig: Rig, *entries: Entry, path: str = FEED_PATH, title: str = "Embassy statements"
) -> int:
    """Serve a feed and add it as /addfeed does: the entries are stored as its
    backlog and nothing is pushed. Returns the feed's id."""
    rig.feeds.set(path, rss(entries, title=title), etag='"v1"')
    added = await rig.services.poller.add_feed(rig.feeds.url(path), None)
    assert added.stored == len(entries)
    return added.feed.id


async def subscribe(
    rig: Rig, feed_id: int, chat_ids: Iterable[int], chat_type: ChatType = "private"
) -> None:
    """Chats (made known to Telegram too) subscribed to a feed, through the store."""
    store = rig.services.store
    for chat_id in chat_ids:
        if chat_type == "private":
            rig.api.add_user(chat_id, f"User{chat_id}")
        else:
            rig.api.add_chat(chat_id, chat_type, title=f"Group {chat_id}")
        await store.upsert_chat(chat_id, chat_type, f"Chat {chat_id}")
        await store.subscribe(chat_id, [feed_id])


async def publish(
    rig: Rig, *entries: Entry, path: str = FEED_PATH, title: str = "Embassy statements"
) -> None:
    """The feed now holds `entries`; the next poll (run now, ten minutes later)
    stores and queues what is new."""
    rig.feeds.set(path, rss(entries, title=title))
    rig.clock.advance(seconds=600)
    await rig.run_job("poll")

"""The one store API: what the bot and the jobs may ask of the store, whichever
backend holds the data (`storage.store.Store` on SQLite, `storage.postgres.store.
PgStore` on PostgreSQL). `open_store` picks the backend from the settings.

Both backends are `StoreAPI`s: its methods are written once, for both. Code
outside storage/ types its store as `StoreAPI` and so cannot come to rely on one
backend, and tests/storage runs the same contract tests on both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path

from storage._alerts import AlertsMixin
from storage._chats import ChatsMixin
from storage._core import _system_clock
from storage._daily import DailyMixin
from storage._feeds import FeedsMixin
from storage._items import ItemsMixin
from storage._outbox import OutboxMixin
from storage._stats import StatsMixin
from storage._summaries import SummariesMixin

__all__ = ["StoreAPI", "open_store"]


class StoreAPI(
    FeedsMixin,
    ItemsMixin,
    ChatsMixin,
    AlertsMixin,
    OutboxMixin,
    DailyMixin,
    StatsMixin,
    SummariesMixin,
):
    """Every read and write of the bot's state: the entity methods, written once in
    the mixins (storage/_feeds.py, _items.py, …) over `CoreBase`, and the lifecycle
    below. Each backend adds its core (the connection, the transaction, the dialect's
    few pieces of SQL) and may override a method whose SQL differs."""

    async def close(self) -> None:
        raise NotImplementedError

    async def schema_version(self) -> int:
        raise NotImplementedError

    async def integrity_check(self) -> str:
        """ "ok", or what is wrong with the database."""
        raise NotImplementedError

    async def backup_to(self, target: str | Path) -> None:
        """A consistent copy of the database (SQLite only; PostgreSQL refuses)."""
        raise NotImplementedError


async def open_store(
    *,
    path: str | Path,
    url: str | None = None,
    clock: Callable[[], datetime] | None = None,
    default_timezone: str = "Europe/London",
    default_daily_time: time = time(9, 0),
    default_language: str = "en",
    migrate: bool = True,
) -> StoreAPI:
    """The store the settings name: PostgreSQL at `url` when given, else SQLite at
    `path`. Raises StorageError (never showing a password) when it cannot be used."""
    clock = clock or _system_clock
    if url is not None:
        from storage.postgres import require_driver

        require_driver()
        from storage.postgres.store import PgStore

        return await PgStore.open(
            url,
            clock=clock,
            default_timezone=default_timezone,
            default_daily_time=default_daily_time,
            default_language=default_language,
            migrate=migrate,
        )
    from storage.store import Store

    return await Store.open(
        path,
        clock=clock,
        default_timezone=default_timezone,
        default_daily_time=default_daily_time,
        default_language=default_language,
        migrate=migrate,
    )

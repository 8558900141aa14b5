"""What handlers and jobs share: settings, the store, the poller, delivery and paced
replies, the daily schedule, admins' alerts, the clock and per-user allowances.

Created in `post_init` (the database connection and HTTP client must be opened on
the running event loop) and kept in `application.bot_data`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from telegram.ext import Application, CallbackContext

from bot.alerts import Alerts
from bot.config import Settings
from bot.limits import PerUserLimit
from jobs.daily import DailyScheduler
from jobs.delivery import Deliverer
from jobs.paced_replies import PacedReplies
from jobs.poll import Poller
from storage.api import StoreAPI
from text.dates import Clock

if TYPE_CHECKING:
    from storage.postgres.leader import Leadership

SERVICES_KEY = "communique.services"


@dataclass(slots=True)
class Services:
    settings: Settings
    store: StoreAPI
    http: httpx.AsyncClient
    poller: Poller
    deliverer: Deliverer
    clock: Clock
    alerts: Alerts
    daily: DailyScheduler
    searches: PerUserLimit
    replies: PacedReplies  # replies of several messages (full texts), paced
    full_texts: PerUserLimit
    # PostgreSQL: who leads among the instances on the database; None on SQLite,
    # where one process is all there is (storage/lock.py).
    leadership: Leadership | None = None
    # Tasks of the leadership's (waiting for the lead, watching it), cancelled at stop.
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def is_leader(self) -> bool:
        """Whether this instance runs the jobs and delivers."""
        return self.leadership is None or self.leadership.is_leader

    @property
    def role(self) -> str | None:
        """'leader' or 'standby' on PostgreSQL; None on SQLite."""
        return None if self.leadership is None else self.leadership.role


def services_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    found = app.bot_data.get(SERVICES_KEY)
    if not isinstance(found, Services):
        raise RuntimeError("the bot is not started yet (post_init has not run)")
    return found


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    return services_of(context.application)

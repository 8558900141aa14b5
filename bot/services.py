"""What handlers and jobs share: settings, the store, the poller, delivery and paced
replies, the daily schedule, admins' alerts, the clock and per-user allowances.

Created in `post_init` (the database connection and HTTP client must be opened on
the running event loop) and kept in `application.bot_data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from telegram.ext import Application, CallbackContext

from bot.alerts import Alerts
from bot.config import Settings
from bot.limits import PerUserLimit
from jobs.daily import DailyScheduler
from jobs.delivery import Deliverer
from jobs.paced_replies import PacedReplies
from jobs.poll import Poller
from storage.store import Store
from text.dates import Clock

SERVICES_KEY = "communique.services"


@dataclass(slots=True)
class Services:
    settings: Settings
    store: Store
    http: httpx.AsyncClient
    poller: Poller
    deliverer: Deliverer
    clock: Clock
    alerts: Alerts
    daily: DailyScheduler
    searches: PerUserLimit
    replies: PacedReplies  # replies of several messages (full texts), paced
    full_texts: PerUserLimit


def services_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    found = app.bot_data.get(SERVICES_KEY)
    if not isinstance(found, Services):
        raise RuntimeError("the bot is not started yet (post_init has not run)")
    return found


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    return services_of(context.application)

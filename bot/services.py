"""What handlers and jobs share: settings, the store, the poller, delivery, the clock.

Created in `post_init` (the database connection and HTTP client must be opened on
the running event loop) and kept in `application.bot_data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from telegram.ext import Application, CallbackContext

from bot.settings import Settings
from jobs.delivery import Deliverer
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
    extras: dict[str, Any] = field(default_factory=dict)


def services_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    found = app.bot_data.get(SERVICES_KEY)
    if not isinstance(found, Services):
        raise RuntimeError("the bot is not started yet (post_init has not run)")
    return found


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    return services_of(context.application)

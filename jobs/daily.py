"""The daily message schedule: one tick a minute queues the message for every chat
whose local time has come, so 100,000 chats cost a few queries, not 100,000 jobs.

A chat gets the message once per local date (a unique record), at its own time in
its own zone; a bot that was down at that time sends it when it starts, the same
local day. A time that does not exist on a spring-forward day is sent at the first
minute after the gap; on a fall-back day, at the first of the two.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.daily import render_daily_message
from bot.settings import Settings
from storage.store import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def due_instant(local_date: date, at: time, tz: ZoneInfo) -> datetime:
    """The moment `at` happens on `local_date` in `tz` (aware, in `tz`).

    In a spring-forward gap the wall time does not exist: the first minute after
    the gap is used. In a fall-back overlap, the first occurrence (fold=0).
    """
    wall = datetime.combine(local_date, at, tzinfo=tz)
    for minutes in range(0, 24 * 60):
        candidate = wall + timedelta(minutes=minutes)
        # A wall time exists when it survives a round trip through UTC unchanged.
        back = candidate.astimezone(ZoneInfo("UTC")).astimezone(tz)
        if back.replace(tzinfo=None) == candidate.replace(tzinfo=None):
            return back
    return wall


class DailyScheduler:
    def __init__(self, store: Store, settings: Settings, *, clock: Clock) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock

    async def tick(self) -> int:
        """Queue the daily message for every chat that is due now. Returns how many."""
        now = self._clock()
        counters = None
        queued = 0
        for zone_name, at, _ in await self._store.daily_groups():
            try:
                tz = ZoneInfo(zone_name)
            except Exception:
                log.warning("chats with the unknown time zone %r get no daily message", zone_name)
                continue
            local_date = now.astimezone(tz).date()
            if now < due_instant(local_date, at, tz):
                continue
            if counters is None:
                counters = await self._store.list_counters()
            text = render_daily_message(counters, now, self._settings.clocks)
            added = await self._store.enqueue_daily(zone_name, at, local_date, text)
            if added:
                log.info(
                    "daily message queued for %d chat(s) (%s %s, %s)",
                    added,
                    zone_name,
                    at.strftime("%H:%M"),
                    local_date.isoformat(),
                )
            queued += added
        return queued

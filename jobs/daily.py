"""The daily message schedule: one tick a minute queues the message for every chat
whose local time has come, so 100,000 chats cost a few queries, not 100,000 jobs.

A chat gets the message once per local date (a unique record), at its own time in
its own zone; a bot that was down at that time sends it when it starts, the same
local day. A time that does not exist on a spring-forward day is sent at the first
minute after the gap; on a fall-back day, at the first of the two.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.api import StoreAPI
from text.counters import render_daily_message
from text.dates import Clock, due_instant
from text.i18n import LANGUAGES

log = logging.getLogger(__name__)


class DailyScheduler:
    """Queues the daily message for the chats that are due; run once a minute.

    Stateless between ticks: what was sent lives in the database, so a new
    scheduler on the same file (a restart) neither repeats nor forgets a day.
    """

    def __init__(self, store: StoreAPI, *, clocks: Sequence[str], clock: Clock) -> None:
        self._store = store
        self._clocks = tuple(clocks)  # zones shown as clocks in the message
        self._clock = clock
        # Zones already warned about, so a bad row costs one log line, not one a minute.
        self._bad_zones: set[str] = set()

    def due_groups(
        self, groups: Iterable[tuple[str, time]], now: datetime
    ) -> list[tuple[str, time, date]]:
        """The (zone, time) groups whose time has come today in their zone, with that
        local date. Today only: a day that has passed is not caught up."""
        due: list[tuple[str, time, date]] = []
        for zone_name, at in groups:
            try:
                tz = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                if zone_name not in self._bad_zones:
                    self._bad_zones.add(zone_name)
                    log.warning(
                        "chats with the unknown time zone %r get no daily message", zone_name
                    )
                continue
            local_date = now.astimezone(tz).date()
            if now >= due_instant(local_date, at, tz):
                due.append((zone_name, at, local_date))
        return due

    async def tick(self) -> int:
        """Queue the daily message for every chat that is due now. Returns how many."""
        now = self._clock()
        groups = await self._store.daily_groups()
        due = self.due_groups(((zone, at) for zone, at, _, _ in groups), now)
        if not due:
            return 0
        # The day's digest first, so it comes just before the daily message.
        with_digests = {(zone, at) for zone, at, _, digests in groups if digests}
        if any((zone, at) in with_digests for zone, at, _ in due):
            await self._store.release_digests(
                [(zone, at, day) for zone, at, day in due if (zone, at) in with_digests]
            )
        # One text per language for every group: the message shows the same instant
        # everywhere (its clocks and counters do not depend on the chat's zone).
        counters = await self._store.list_counters()
        texts = {
            language: render_daily_message(
                counters, now, self._clocks, admin_hint=False, language=language
            )
            for language in LANGUAGES
        }
        added = await self._store.enqueue_daily(due, texts)
        if added:
            log.info("daily message queued for %d chat(s) in %d due group(s)", added, len(due))
        return added

"""Dates, times of day and time zones, as the bot reads and writes them.

The clock is always a parameter (`Clock`), so tests move time instead of waiting.
"""

from __future__ import annotations

import contextlib
import functools
import re
import zoneinfo
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import babel.dates

Clock = Callable[[], datetime]
"""What every part that needs the time is given: returns an aware `datetime`."""


def utcnow() -> datetime:
    """The production clock."""
    return datetime.now(UTC)


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_date(dt: datetime, tz: ZoneInfo, language: str = "en") -> str:
    """The day in the chat's zone and language: "3 December 2021", "3 декабря 2021"
    (a naive ``dt`` is taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    local = dt.astimezone(tz)
    if language != "en":
        # CLDR's own forms (Russian months are in the genitive after a day).
        return babel.dates.format_date(local.date(), format="d MMMM y", locale=language)
    # A fixed table, not strftime: the month must not depend on the machine's locale.
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}"


def require_aware(now: datetime) -> None:
    """A naive "now" would silently be read in the machine's zone and shift the day."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def days_since(start: date, tz: ZoneInfo, now: datetime) -> int:
    """Whole calendar days from ``start`` to today's date in ``tz`` (negative before it)."""
    require_aware(now)
    return (now.astimezone(tz).date() - start).days


def due_instant(local_date: date, at: time, tz: ZoneInfo) -> datetime:
    """The moment `at` happens on `local_date` in `tz`, in UTC.

    In a spring-forward gap the wall time does not exist: the first minute after
    the gap is used. In a fall-back overlap, the first occurrence (fold=0).
    UTC, because an aware time inside a fall-back overlap never compares equal
    to one in another zone (PEP 495), which would surprise a caller's `==`.
    """
    wall = datetime.combine(local_date, at, tzinfo=tz)
    for minutes in range(0, 24 * 60):
        candidate = wall + timedelta(minutes=minutes)
        # A wall time exists when it survives a round trip through UTC unchanged.
        instant = candidate.astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == candidate.replace(tzinfo=None):
            return instant
    return wall.astimezone(UTC)


# 24-hour HH:MM or H:MM, ASCII digits only (int() would also take "０８").
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


def parse_time(text: str) -> time | None:
    """`HH:MM` or `H:MM`, 24-hour; None if it is not one."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        return None
    return time(int(match.group(1)), int(match.group(2)))


def clock_label(zone_name: str, language: str = "en") -> str:
    """The city of an IANA zone in the reader's language: "Europe/Moscow" -> "Moscow",
    "Москва"; "America/Argentina/Buenos_Aires" -> "Buenos Aires"."""
    if language != "en":
        with contextlib.suppress(LookupError, ValueError):
            city = babel.dates.get_timezone_location(zone_name, locale=language, return_city=True)
            if city:
                return str(city)
    return zone_name.rsplit("/", 1)[-1].replace("_", " ")


# Names in the zone database that are no place: the host's own zone, placeholders.
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})


@functools.lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    return {
        name.casefold(): name
        for name in zoneinfo.available_timezones()
        if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
    }


def canonical_zone(text: str) -> str | None:
    """The IANA zone a person meant, spelled as the database does ("europe/berlin"
    → "Europe/Berlin"), or None when there is no such zone."""
    text = text.strip()
    if not text or len(text) > 64:
        return None
    return _zones_by_folded_name().get(text.casefold())


def is_valid_zone(value: str) -> bool:
    """An IANA zone, spelled exactly as the database does."""
    return canonical_zone(value) == value


@functools.lru_cache(maxsize=512)
def zone_or_utc(name: str) -> ZoneInfo:
    """The zone of that name; UTC for a name that is no zone (a stored value that
    a newer zone database dropped), so one bad row never stops a message."""
    try:
        return ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")

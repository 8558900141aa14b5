"""Finding a statement's date in text, as web pages write it.

Pages without a feed show dates the way people write them: `03.12.2021`,
`3 December 2021`, `Dec 3, 2021`, `2021-12-03`, `3 декабря 2021 г.`, sometimes
with a time. This reads those forms (English and Russian month names) and gives an
aware datetime in the source's zone. Pure: no clock, no locale (month names are
tables here, so the machine's locale never changes a result).

Numeric dates are ambiguous (`03.12.2021`); they are read day-first unless told
month-first, and `date_order_for` decides that for a whole page from its language
and from the dates it shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DateOrder = Literal["dmy", "mdy"]

MIN_YEAR = 1990  # the same bounds as feed dates: anything outside is a misreading
MAX_YEAR = 2100

_MONTH_WORDS: dict[str, int] = {}
for _number, _words in enumerate(
    (
        "january jan январь января янв",
        "february feb февраль февраля фев февр",
        "march mar март марта мар",
        "april apr апрель апреля апр",
        "may май мая",
        "june jun июнь июня июн",
        "july jul июль июля июл",
        "august aug август августа авг",
        "september sep sept сентябрь сентября сен сент",
        "october oct октябрь октября окт",
        "november nov ноябрь ноября ноя нояб",
        "december dec декабрь декабря дек",
    ),
    start=1,
):
    for _word in _words.split():
        _MONTH_WORDS[_word] = _number

# Longest first, so "sept" is tried before "sep" and "июня" before "июн".
_MONTH = "|".join(sorted(_MONTH_WORDS, key=len, reverse=True))
# A month name is a whole word, maybe abbreviated with a dot.
_MONTH_NAME = rf"(?:{_MONTH})(?![^\W\d_])\.?"
# "г.", "г" or "года" after a Russian year.
_RU_YEAR = r"(?:\s*(?:г\.|года|г)(?![^\W\d_]))?"
# A time after the date: ", 14:30", " at 2:30 pm", " в 14:30", " | 14:30:05".
_TIME = (
    r"(?:\s*(?:,|\||-|–|—|/|at|в)?\s*"
    r"(?P<hh>\d{1,2}):(?P<mm>\d{2})(?::(?P<ss>\d{2}))?"
    r"(?:\s*(?P<ampm>[ap]\.?\s?m\.?)(?![^\W\d_]))?)?"
)
_ISO = (
    r"(?<![\d.])(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    r"(?:[T ](?P<ih>\d{1,2}):(?P<imin>\d{2})(?::(?P<isec>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<ioff>Z|[+-]\d{2}:?\d{2})?)?(?![\d-])"
)
_NUMERIC = (
    r"(?<![\d.,/-])(?P<na>\d{1,2})(?P<sep>[./-])(?P<nb>\d{1,2})(?P=sep)(?P<ny>\d{4})"
    r"(?![\d.]\d)"
)
_DAY_MONTH = (
    rf"(?<![\d.])(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<dm>{_MONTH_NAME}),?\s+(?P<dy>\d{{4}})"
    + _RU_YEAR
)
_MONTH_DAY = (
    rf"(?<![^\W\d_])(?P<mm_>{_MONTH_NAME})\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<my>\d{{4}})"
)
_DATE = re.compile(
    rf"(?:{_ISO})|(?:(?:{_NUMERIC}|{_DAY_MONTH}|{_MONTH_DAY})(?!\d){_TIME})",
    re.IGNORECASE,
)
# "03.12." just before a year.
# (Only a digit may not precede it: text glued from a page's elements reads
# "…the lead.03.12.2021".)
_NUMERIC_BEFORE_YEAR = re.compile(r"(?<!\d)(\d{1,2})([./-])(\d{1,2})\2$")
_YEAR = re.compile(r"(?<!\d)(?:199\d|20\d\d|2100)(?!\d)")
# How far a date reaches before its year ("September 30th, ") and after it (an ISO
# time with seconds, fraction and offset; "г., 14:30:05 p.m.").
_BEFORE_YEAR = 32
_AFTER_YEAR = 48
_RU_YEAR_TAIL = re.compile(_RU_YEAR, re.IGNORECASE)
# "December 3, " just before a year: a word, a day, maybe a comma.
_WORD_DAY_BEFORE_YEAR = re.compile(r"([^\W\d_]+)\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+$")


@dataclass(frozen=True, slots=True)
class FoundDate:
    """A date found in text: the moment, where it was (`text[start:end]`) and
    whether the text gave a time of day (else the moment is midnight)."""

    moment: datetime
    start: int
    end: int
    has_time: bool


def as_zone(zone: tzinfo | str | None) -> tzinfo:
    """A zone from its IANA name (or a tzinfo as it is); UTC for None or an unknown name."""
    if zone is None:
        return UTC
    if isinstance(zone, tzinfo):
        return zone
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def find_dates(
    text: str, *, zone: tzinfo | str | None = None, order: DateOrder = "dmy"
) -> list[FoundDate]:
    """Every date in `text`, in order. Impossible dates (31.02.2021, a 13th month, a
    year outside 1990-2100) are skipped, not guessed at. A date written without an
    offset is a wall time in `zone` (default UTC); one with an offset (ISO 8601) is
    that instant, given in `zone`."""
    return list(_found(text, as_zone(zone), order))


def find_date(
    text: str, *, zone: tzinfo | str | None = None, order: DateOrder = "dmy"
) -> FoundDate | None:
    """The first possible date in `text` (see `find_dates`), or None."""
    return next(_found(text, as_zone(zone), order), None)


def parse_date(
    text: str, *, zone: tzinfo | str | None = None, order: DateOrder = "dmy"
) -> datetime | None:
    """`text` read as one date (and maybe a time), nothing else around it but
    whitespace and punctuation; None when it is not one."""
    found = find_date(text, zone=zone, order=order)
    if found is None:
        return None
    rest = text[: found.start] + text[found.end :]
    if any(ch.isalnum() for ch in rest):
        return None
    return found.moment


def date_order_for(texts: Iterable[str], language: str | None = None) -> DateOrder:
    """How a page writes numeric dates: "mdy" when its dates can only be month-first
    (a second number above 12 and never a first one), or when they are all ambiguous
    and the page is in US English (or writes its dates in words month-first);
    else "dmy", the order of most of the world."""
    day_first = month_first = False
    texts = list(texts)
    for text in texts:
        for year in _YEAR.finditer(text):
            match = _NUMERIC_BEFORE_YEAR.search(text, max(0, year.start() - 8), year.start())
            if match:
                a, b = int(match.group(1)), int(match.group(3))
                day_first |= a > 12 >= b
                month_first |= b > 12 >= a
    if month_first != day_first:
        return "mdy" if month_first else "dmy"
    if (language or "").strip().lower().replace("_", "-") == "en-us":
        return "mdy"
    return "mdy" if any(_month_first_in_words(text) for text in texts) else "dmy"


def _month_first_in_words(text: str) -> bool:
    """A date in words, month first ("December 3, 2021"), somewhere in the text. Only
    the few characters before each year are searched: pages are large, years rare."""
    for year in _YEAR.finditer(text):
        before = _WORD_DAY_BEFORE_YEAR.search(text, max(0, year.start() - 24), year.start())
        if before and before.group(1).lower() in _MONTH_WORDS:
            return True
    return False


def parse_iso_datetime(value: str, *, zone: tzinfo | str | None = None) -> datetime | None:
    """An ISO 8601 / RFC 3339 date or date-time (`<time datetime>`, JSON Feed,
    `article:published_time`) in `zone`; a value without an offset is wall time in
    `zone`. None for anything else, or a year outside 1990-2100."""
    text = value.strip()
    if not text or len(text) > 64:
        return None
    tz = as_zone(zone)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            day = date.fromisoformat(text[:10])
        except ValueError:
            return None
        if len(text) > 10:
            return None
        moment = datetime.combine(day, time())
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=tz)
    return moment.astimezone(tz)


def _found(text: str, tz: tzinfo, order: DateOrder) -> Iterator[FoundDate]:
    """The dates of `text` in order. Every form has a four-digit year, and years are
    rare in text: the large pattern only runs in a window around each year."""
    done = 0  # where the last date found ends
    for year in _YEAR.finditer(text):
        if year.start() < done:
            continue
        start = max(done, year.start() - _BEFORE_YEAR)
        for match in _DATE.finditer(text, start, min(len(text), year.end() + _AFTER_YEAR)):
            if match.end() <= year.start():
                continue  # ends before this year: a shorter match that has no year
            if match.start() > year.start():
                break
            found = _read(match, tz, order)
            if found is not None:
                done = found.end
                yield found
            break


def _read(match: re.Match[str], tz: tzinfo, order: DateOrder) -> FoundDate | None:
    """The match as a FoundDate, or None when it names no real day (or, in ISO form,
    no real time or offset)."""
    groups = match.groupdict()
    if groups["iy"]:
        day = _real_date(int(groups["iy"]), int(groups["im"]), int(groups["id"]))
        clock = _real_time(groups["ih"], groups["imin"], groups["isec"], None)
        offset = _offset(groups["ioff"])
        if day is None or clock is None or (groups["ioff"] and offset is None):
            return None
        moment = datetime.combine(day, clock, offset or tz).astimezone(tz)
        return FoundDate(moment, match.start(), match.end(), bool(groups["ih"]))
    if groups["ny"]:
        a, b, year = int(groups["na"]), int(groups["nb"]), int(groups["ny"])
        day_month = (a, b) if order == "dmy" else (b, a)
        # A first reading with a month above 12 is no reading at all; the other
        # order is then the only one possible (25/12/2021 on a month-first page).
        if day_month[1] > 12:
            day_month = day_month[::-1]
        found = _real_date(year, day_month[1], day_month[0])
        date_end = match.end("ny")
    elif groups["dy"]:
        month = _MONTH_WORDS[groups["dm"].rstrip(".").lower()]
        found = _real_date(int(groups["dy"]), month, int(groups["dd"]))
        date_end = match.end("dy")
        if tail := _RU_YEAR_TAIL.match(match.string, date_end):
            date_end = tail.end()
    else:
        month = _MONTH_WORDS[groups["mm_"].rstrip(".").lower()]
        found = _real_date(int(groups["my"]), month, int(groups["md"]))
        date_end = match.end("my")
    if found is None:
        return None
    clock = _real_time(groups["hh"], groups["mm"], groups["ss"], groups["ampm"])
    if groups["hh"] is None or clock is None:
        # No time, or something after the date that is no time ("3.12.2021 25:99"):
        # the date stands at midnight, and the rest is not part of it.
        return FoundDate(datetime.combine(found, time(), tz), match.start(), date_end, False)
    return FoundDate(datetime.combine(found, clock, tz), match.start(), match.end(), True)


def _real_date(year: int, month: int, day: int) -> date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _real_time(
    hours: str | None, minutes: str | None, seconds: str | None, ampm: str | None
) -> time | None:
    if hours is None or minutes is None:
        return time()
    hour, minute, second = int(hours), int(minutes), int(seconds or 0)
    if ampm:
        if not 1 <= hour <= 12:
            return None
        pm = ampm.lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))

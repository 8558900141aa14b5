"""The daily counter message ("N days have passed since …"), as the seed page shows it.

The message is the seed page's header: the date, one clock per configured zone,
a blank line, then one line per counter. Each counter counts whole calendar days
in its own zone, so the seed's Moscow counters tick over at 21:00 London time in
winter. Everything here is pure: the clock is a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from text.dates import clock_label, days_since, format_date, require_aware
from text.markup import TELEGRAM_LIMIT, esc, truncate_text, visible_length

DAYS_PLACEHOLDER = "{days}"
TEMPLATE_MAX = 1000
NO_COUNTERS = "No counters are set yet. Admins add them with /addcounter."


class Counter(Protocol):
    """What rendering reads of a counter (storage's `Counter` is one)."""

    @property
    def id(self) -> int: ...
    @property
    def start_date(self) -> date: ...
    @property
    def timezone(self) -> str: ...
    @property
    def template(self) -> str: ...
    @property
    def position(self) -> int: ...


def render_counter_line(counter: Counter, now: datetime) -> str:
    """The counter's template with ``{days}`` filled in, as plain text.

    ``str.replace``, never ``str.format``: templates come from admins, and
    ``format`` would choke on other braces or reach into attributes.
    """
    days = days_since(counter.start_date, ZoneInfo(counter.timezone), now)
    return counter.template.replace(DAYS_PLACEHOLDER, str(days))


def render_daily_message(
    counters: Sequence[Counter],
    now: datetime,
    clocks: Sequence[str],
    limit: int = TELEGRAM_LIMIT,
    admin_hint: bool = True,
) -> str:
    """The daily message as Telegram HTML.

    The date in the first zone of ``clocks`` (UTC if there are none) in bold, a
    clock "City: HH:MM" per zone, a blank line, then each counter's line in order
    of position. Counter lines are escaped; lines that would push the message past
    ``limit`` are left out with a note rather than making Telegram refuse it all.
    With no counters, `admin_hint` adds how admins set one (for /counters; the
    scheduled message to subscribers is the date and clocks alone).
    """
    require_aware(now)
    first_zone = ZoneInfo(clocks[0]) if clocks else ZoneInfo("UTC")
    head_lines = [f"<b>{esc(format_date(now, first_zone))}</b>"]
    for zone_name in clocks:
        local = now.astimezone(ZoneInfo(zone_name))
        head_lines.append(f"{esc(clock_label(zone_name))}: {local:%H:%M}")
    head = "\n".join(head_lines)

    ordered = sorted(counters, key=lambda counter: (counter.position, counter.id))
    if not ordered:
        return f"{head}\n\n{esc(NO_COUNTERS)}" if admin_hint else head

    message = head + "\n"
    for index, counter in enumerate(ordered):
        line = esc(truncate_text(render_counter_line(counter, now), TEMPLATE_MAX + 20))
        left = len(ordered) - index
        note = f"\n…and {left - 1} more" if left > 1 else ""
        if visible_length(f"{message}\n{line}{note}") > limit:
            return f"{message}\n…and {left} more"
        message = f"{message}\n{line}"
    return message


def validate_template(template: str) -> None:
    """Raise ``ValueError`` with a reply-ready reason if an admin's template is unusable."""
    if not template.strip():
        raise ValueError("the template is empty")
    if DAYS_PLACEHOLDER not in template:
        raise ValueError("the template must contain {days}")
    if len(template) > TEMPLATE_MAX:
        raise ValueError(f"the template is too long (at most {TEMPLATE_MAX} characters)")
    if any(ord(char) < 0x20 and char != "\t" for char in template):
        raise ValueError("the template must be a single line")

"""The daily counter message ("N days have passed since …"), as the seed page shows it.

The message is the seed page's header: the date, one clock per configured zone,
a blank line, then one line per counter. Each counter counts whole calendar days
in its own zone, so the seed's Moscow counters tick over at 21:00 London time in
winter. Everything here is pure: the clock is a parameter.

A counter's template holds `{days}` and may hold choice groups `{form1|form2|…}`,
one form per plural category of its language (CLDR: English one|other, Russian
one|few|many), chosen by the number: `{прошёл|прошло|прошло} {days} {день|дня|дней}`.
A counter may have a text per language; a chat whose language has none gets the
counter's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from babel import Locale

from text.dates import clock_label, days_since, format_date, require_aware
from text.i18n import N_, Translator, translator
from text.markup import TELEGRAM_LIMIT, esc, truncate_text, visible_length

DAYS_PLACEHOLDER = "{days}"
TEMPLATE_MAX = 1000
NO_COUNTERS = N_("No counters are set yet. Admins add them with /addcounter.")

# The plural categories a choice group lists, in order, per language (the integer
# ones: a count of days is never a fraction, so Russian's "other" never comes up).
PLURAL_FORMS: dict[str, tuple[str, ...]] = {"en": ("one", "other"), "ru": ("one", "few", "many")}
# {a|b|…}: at least one bar, no braces inside.
_CHOICE = re.compile(r"\{([^{}|]*(?:\|[^{}|]*)+)\}")
_CYRILLIC = re.compile("[\u0400-\u04ff]")


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
    @property
    def language(self) -> str: ...
    @property
    def texts(self) -> Mapping[str, str]: ...


def template_language(template: str) -> str:
    """The language a template is written in, for its plural forms: Russian when it
    has Cyrillic letters, else English."""
    return "ru" if _CYRILLIC.search(template) else "en"


def fill_template(template: str, days: int, language: str) -> str:
    """`{days}` and every choice group filled for this number, in `language`.

    ``str.replace`` and a regular expression, never ``str.format``: templates come
    from admins, and ``format`` would choke on other braces or reach into attributes.
    """
    forms = PLURAL_FORMS.get(language, PLURAL_FORMS["en"])
    category = Locale(language).plural_form(abs(days))

    def choose(match: re.Match[str]) -> str:
        options = match.group(1).split("|")
        index = forms.index(category) if category in forms else len(forms) - 1
        return options[min(index, len(options) - 1)]

    return _CHOICE.sub(choose, template).replace(DAYS_PLACEHOLDER, str(days))


def render_counter_line(counter: Counter, now: datetime, language: str = "en") -> str:
    """The counter's line for a reader of `language`, as plain text: its text in that
    language if it has one, else its own, with the number and its word forms."""
    days = days_since(counter.start_date, ZoneInfo(counter.timezone), now)
    own = counter.texts.get(language)
    if own is not None:
        return fill_template(own, days, language)
    return fill_template(counter.template, days, counter.language)


def render_daily_message(
    counters: Sequence[Counter],
    now: datetime,
    clocks: Sequence[str],
    limit: int = TELEGRAM_LIMIT,
    admin_hint: bool = True,
    language: str = "en",
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
    _ = translator(language).gettext
    first_zone = ZoneInfo(clocks[0]) if clocks else ZoneInfo("UTC")
    head_lines = [f"<b>{esc(format_date(now, first_zone, language))}</b>"]
    for zone_name in clocks:
        local = now.astimezone(ZoneInfo(zone_name))
        head_lines.append(f"{esc(clock_label(zone_name, language))}: {local:%H:%M}")
    head = "\n".join(head_lines)

    ordered = sorted(counters, key=lambda counter: (counter.position, counter.id))
    if not ordered:
        return f"{head}\n\n{esc(_(NO_COUNTERS))}" if admin_hint else head

    def and_more(count: int) -> str:
        return (
            translator(language)
            .ngettext("…and {count} more", "…and {count} more", count)
            .format(count=count)
        )

    message = head + "\n"
    for index, counter in enumerate(ordered):
        line = esc(truncate_text(render_counter_line(counter, now, language), TEMPLATE_MAX + 20))
        left = len(ordered) - index
        note = f"\n{and_more(left - 1)}" if left > 1 else ""
        if visible_length(f"{message}\n{line}{note}") > limit:
            return f"{message}\n{and_more(left)}"
        message = f"{message}\n{line}"
    return message


def validate_template(
    template: str, language: str | None = None, tr: Translator | None = None
) -> None:
    """Raise ``ValueError`` with a reply-ready reason (in `tr`'s language) if an
    admin's template is unusable; `language` is the one its choice groups follow
    (found from the template when not given)."""
    _ = (tr or translator("en")).gettext
    if not template.strip():
        raise ValueError(_("the template is empty"))
    if DAYS_PLACEHOLDER not in template:
        raise ValueError(_("the template must contain {days}"))
    if len(template) > TEMPLATE_MAX:
        raise ValueError(
            _("the template is too long (at most {limit} characters)").format(limit=TEMPLATE_MAX)
        )
    if any(ord(char) < 0x20 and char != "\t" for char in template):
        raise ValueError(_("the template must be a single line"))
    forms = PLURAL_FORMS[language or template_language(template)]
    for match in _CHOICE.finditer(template):
        if len(match.group(1).split("|")) != len(forms):
            raise ValueError(
                _("{group} needs {count} forms, one for each of {forms}").format(
                    group=match.group(0), count=len(forms), forms="|".join(forms)
                )
            )

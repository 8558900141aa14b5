"""What an admin sees before an address becomes a source: the preview of a web page
read as a list (how many statements, the first five, why these), and the choice
between the feeds a page names. Pure: values in, Telegram HTML out in the admin's
language, every string from the page escaped, always within Telegram's 4096. How the
list was found (the detector's own lines) is quoted as it came.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from text.dates import format_date
from text.i18n import N_, translator
from text.markup import TELEGRAM_LIMIT, esc, truncate_text, utf16_length

PREVIEW_ITEMS = 5  # statements shown
EXPLANATION_LINES = 6  # lines of "why these" shown
_TITLE_CAP = 160
_URL_CAP = 200
_LINE_CAP = 180

UNDATED = N_("no date")


class PreviewItem(Protocol):
    """A statement as the preview shows it (jobs' NewItem is one)."""

    @property
    def title(self) -> str: ...
    @property
    def link(self) -> str | None: ...
    @property
    def published_at(self) -> datetime | None: ...


def render_page_preview(
    *,
    url: str,
    page_title: str | None,
    items: Sequence[PreviewItem],
    explanation: Sequence[str],
    tz: ZoneInfo,
    feeds_tried: int = 0,
    selectors: str | None = None,
    more_pages: int = 0,
    language: str = "en",
) -> str:
    """The preview of a page source: the count, the first PREVIEW_ITEMS statements
    (date, title, link), why these blocks (the explanation's first lines), and what
    adding it does. `more_pages`: further pages of the list read when it is added
    (0: it links none)."""
    tr = translator(language)
    _ = tr.gettext
    name = f" ({esc(truncate_text(page_title, 100))})" if page_title else ""
    found = {"count": len(items), "url": esc(url[:_URL_CAP]), "name": name}
    if selectors:
        head = [
            tr.ngettext(
                "<b>{count} statement(s) found</b> on {url}{name}, with {selectors}.",
                "<b>{count} statement(s) found</b> on {url}{name}, with {selectors}.",
                len(items),
            ).format(selectors=esc(truncate_text(selectors, 200)), **found)
        ]
    else:
        head = [
            tr.ngettext(
                "<b>{count} statement(s) found</b> on {url}{name}, detected.",
                "<b>{count} statement(s) found</b> on {url}{name}, detected.",
                len(items),
            ).format(**found)
        ]
    if feeds_tried:
        head.append(
            tr.ngettext(
                "It names no feed ({count} feed address tried): read as a page.",
                "It names no feed ({count} feed addresses tried): read as a page.",
                feeds_tried,
            ).format(count=feeds_tried)
        )
    if more_pages:
        head.append(
            tr.ngettext(
                "Its list goes on over more pages: up to {count} more are read when it is added.",
                "Its list goes on over more pages: up to {count} more are read when it is added.",
                more_pages,
            ).format(count=more_pages)
        )
    shown = []
    for item in items[:PREVIEW_ITEMS]:
        day = format_date(item.published_at, tz, language) if item.published_at else _(UNDATED)
        line = f"• {day} — {esc(truncate_text(item.title, _TITLE_CAP))}"
        if item.link:
            line += f"\n   {esc(item.link[:_URL_CAP])}"
        shown.append(line)
    why = [esc(truncate_text(line, _LINE_CAP)) for line in explanation[:EXPLANATION_LINES]]
    heading = _("<i>How they were found:</i>")
    tail = _(
        "Add it? Its statements are stored now and not pushed; each new one is pushed"
        " with the text of its own page."
    )
    text = _join(head, shown, heading, why, tail)
    # Long lines of every kind at once: fewer lines of explanation, never a cut tag.
    while utf16_length(text) > TELEGRAM_LIMIT and why:
        why.pop()
        text = _join(head, shown, heading, why, tail)
    return text


def _join(head: list[str], shown: list[str], heading: str, why: list[str], tail: str) -> str:
    parts = ["\n".join(head), "\n".join(shown)]
    if why:
        parts.append(heading + "\n" + "\n".join(why))
    parts.append(tail)
    return "\n\n".join(part for part in parts if part)


def render_feed_choice(
    page_url: str, feeds: Sequence[tuple[str, str | None]], language: str = "en"
) -> str:
    """A page that names several feeds: which one to add. `feeds` are (url, title)."""
    tr = translator(language)
    lines = [
        tr.ngettext(
            "<b>{url}</b> names {count} feeds. Which one should be added?",
            "<b>{url}</b> names {count} feeds. Which one should be added?",
            len(feeds),
        ).format(url=esc(page_url[:_URL_CAP]), count=len(feeds))
    ]
    for number, (url, title) in enumerate(feeds, start=1):
        name = esc(truncate_text(title, 100)) if title else tr.gettext("untitled")
        lines.append(f"{number}. {name}\n   {esc(url[:_URL_CAP])}")
    return "\n".join(lines)


def feed_button_label(number: int, url: str, title: str | None) -> str:
    """A feed's button: its number and title (or address), short."""
    return truncate_text(f"{number}. {title or url}", 40)

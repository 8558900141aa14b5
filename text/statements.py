"""Messages about statements, rendered as Telegram HTML by pure functions.

Every string that came from a feed (titles, summaries, feed names, links, search
snippets) and every string a user typed (search queries) is escaped here, and no
result is over Telegram's 4096 visible characters: long text is cut as plain text,
between words, before it is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from text.dates import format_date
from text.full_text import adds_to_summary
from text.i18n import N_, Translator, translator
from text.markup import (
    TELEGRAM_LIMIT,
    esc,
    is_link_url,
    link,
    pack_blocks,
    truncate_text,
    utf16_length,
    visible_length,
)
from text.plain import CONTROL_CHARS

# Search snippets mark each matched word with these (the store is asked for
# snippets marked so); rendering turns them into <b>…</b> after escaping. Feed text
# never holds them: normalising strips control characters.
MARK_START = "\x02"
MARK_END = "\x03"


class Statement(Protocol):
    """What rendering reads of a stored statement (storage's `Item` is one)."""

    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def link(self) -> str | None: ...
    @property
    def published_at(self) -> datetime: ...
    @property
    def feed_title(self) -> str: ...


class NamedFeed(Protocol):
    """What rendering reads of a feed (storage's `Feed` is one)."""

    @property
    def title(self) -> str: ...
    @property
    def url(self) -> str: ...


class Hit(Protocol):
    """A search result: the statement and a snippet marked with MARK_START/MARK_END."""

    @property
    def item(self) -> Statement: ...
    @property
    def snippet(self) -> str: ...


UNTITLED = N_("Untitled statement")
READ_LABEL = N_("Read the statement")

# Caps on feed strings, in UTF-16 units: a title is a line, not an essay, and a
# feed's name only labels the message.
TITLE_MAX = 512
FEED_TITLE_MAX = 100
QUERY_MAX = 100
DIGEST_TITLE_MAX = 300

_SPACES = re.compile(r"[ \t\u00a0\u2028\u2029]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_LINE = re.compile(r"[^\r\n]+")


def feed_name(feed: NamedFeed, cap: int) -> str:
    """A feed's title (its URL when it has none) on one line, at most `cap` long; not escaped."""
    return truncate_text(" ".join((feed.title or feed.url).split()), cap)


def _one_line(text: str) -> str:
    """Feed text squeezed onto one line (titles, names, queries)."""
    return " ".join(CONTROL_CHARS.sub(" ", text).split())


def _paragraphs(text: str) -> str:
    """Feed text with its paragraphs kept but spaces and blank lines tidied."""
    text = CONTROL_CHARS.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _first_line(text: str) -> str:
    """The first non-blank line, tidied; scans lazily since summaries can be long."""
    for match in _LINE.finditer(text):
        line = _one_line(match.group())
        if line:
            return line
    return ""


def _title(item: Statement, cap: int, tr: Translator) -> str:
    return truncate_text(_one_line(item.title) or tr.gettext(UNTITLED), cap)


def _linked_title(item: Statement, cap: int, tr: Translator) -> str:
    return link(item.link or "", _title(item, cap, tr))


UPDATED_MARK = N_("✏️ Updated")
# Said instead of a "Full text" button when the source gave no more than the summary.
SUMMARY_ONLY_NOTE = N_("ℹ️ The source gave only this summary.")
SUMMARY_ONLY_MARK = N_("summary only")


def render_item(
    item: Statement,
    tz: ZoneInfo,
    limit: int = TELEGRAM_LIMIT,
    *,
    alert: str | None = None,
    updated: bool = False,
    summary_only: bool = False,
    language: str = "en",
) -> str:
    """The push message for one new statement.

    The title in bold; the date and the feed's name; the summary; a link to the
    statement. The summary (and, if need be, the title) is cut between words so
    the message stays within ``limit`` visible characters. `alert` is the saved
    search that brought it (said first); `updated` marks a corrected message;
    `summary_only` says, where a "Full text" button would be, that the source gave
    no more than the summary. In the reader's `language`.
    """
    tr = translator(language)
    _ = tr.gettext
    title = _title(item, min(TITLE_MAX, limit // 4), tr)
    meta = format_date(item.published_at, tz, language)
    feed_title = truncate_text(_one_line(item.feed_title), FEED_TITLE_MAX)
    if feed_title:
        meta = f"{meta} · {feed_title}"
    link_line = link(item.link, _(READ_LABEL)) if item.link and is_link_url(item.link) else ""
    if summary_only:
        note = f"<i>{esc(_(SUMMARY_ONLY_NOTE))}</i>"
        link_line = f"{link_line}\n{note}" if link_line else note

    notes = []
    if updated:
        notes.append(f"<i>{esc(_(UPDATED_MARK))}</i>")
    if alert is not None:
        notes.append(_("🔔 Alert: «{query}»").format(query=_quoted_query(alert)))
    head = "".join(f"{note}\n" for note in notes) + f"<b>{esc(title)}</b>\n{esc(meta)}"
    tail = f"\n\n{link_line}" if link_line else ""
    # Escaping does not change the visible length, so the summary's budget is
    # exactly what the other parts leave, less the blank line before it.
    budget = limit - visible_length(head) - visible_length(tail) - 2
    summary = truncate_text(_paragraphs(item.summary), budget)
    body = f"\n\n{esc(summary)}" if summary else ""
    return head + body + tail


class Part(NamedTuple):
    """One message of a list that may take several: its text, and which of the
    statements given (by index) it shows."""

    text: str
    shows: list[int]


def _with_header(
    header: str, lines: Sequence[str], limit: int, sep: str, tr: Translator
) -> list[Part]:
    """Lines packed into messages under a bold header; "(part i of n)" when several."""
    count = len(lines)

    def headed(number: int, of: int) -> str:
        return tr.gettext("{header} (part {number} of {count})").format(
            header=header, number=number, count=of
        )

    # Reserve room for the longest header a part can carry, so packing the lines
    # first and adding headers afterwards can never overflow.
    reserve = utf16_length(headed(count, count)) + 2
    parts = pack_blocks(lines, limit=limit - reserve, sep=sep)
    if not parts:
        return [Part(f"<b>{esc(header)}</b>", [])]
    if len(parts) == 1:
        text, shows = parts[0]
        return [Part(f"<b>{esc(header)}</b>\n\n{text}", shows)]
    return [
        Part(f"<b>{esc(headed(number, len(parts)))}</b>\n\n{text}", shows)
        for number, (text, shows) in enumerate(parts, start=1)
    ]


def render_digest(
    items: Sequence[Statement],
    feed_title: str,
    tz: ZoneInfo,
    limit: int = TELEGRAM_LIMIT,
    *,
    language: str = "en",
) -> list[str]:
    """A burst of new statements as one message (several at the limit); see
    `render_digest_parts`."""
    parts = render_digest_parts(items, feed_title, tz, limit, language=language)
    return [part.text for part in parts]


def render_digest_parts(
    items: Sequence[Statement],
    feed_title: str,
    tz: ZoneInfo,
    limit: int = TELEGRAM_LIMIT,
    *,
    language: str = "en",
) -> list[Part]:
    """A burst of new statements as one message (several at the limit).

    A header "N new statements from FEED", then a line per statement with its date
    and linked title. When it takes several messages each repeats the header with
    "(part i of n)".
    """
    tr = translator(language)
    count = len(items)
    name = truncate_text(_one_line(feed_title), FEED_TITLE_MAX) or tr.gettext("a feed")
    header = tr.ngettext(
        "{count} new statement from {feed}", "{count} new statements from {feed}", count
    ).format(count=count, feed=name)
    title_cap = min(DIGEST_TITLE_MAX, (limit - utf16_length(header) - 40) // 2)
    lines = [
        f"{esc(format_date(item.published_at, tz, language))} — "
        f"{_linked_title(item, title_cap, tr)}"
        for item in items
    ]
    return _with_header(header, lines, limit, "\n", tr)


DAY_SUMMARY_MAX = 200  # the one line of summary a statement gets in the daily digest


def render_day_digest(
    items: Sequence[Statement],
    tz: ZoneInfo,
    *,
    alerts: Sequence[str | None] = (),
    limit: int = TELEGRAM_LIMIT,
    language: str = "en",
) -> list[Part]:
    """The day's statements for a chat in digest mode: per statement its linked title,
    date and feed, and one line of its summary (and the alert that brought it, if
    one did; `alerts` runs parallel to `items`). Several messages only when
    Telegram's limit demands."""
    tr = translator(language)
    count = len(items)
    header = tr.ngettext(
        "Your daily digest: {count} new statement",
        "Your daily digest: {count} new statements",
        count,
    ).format(count=count)
    blocks: list[str] = []
    for index, item in enumerate(items):
        meta = format_date(item.published_at, tz, language)
        feed_title = truncate_text(_one_line(item.feed_title), 40)
        if feed_title:
            meta = f"{meta} · {feed_title}"
        alert = alerts[index] if index < len(alerts) else None
        if alert is not None:
            meta = f"{meta} · 🔔 «{truncate_text(_one_line(alert), 40)}»"
        block = f"{_linked_title(item, DIGEST_TITLE_MAX, tr)}\n{esc(meta)}"
        first = truncate_text(_first_line(item.summary), DAY_SUMMARY_MAX)
        blocks.append(f"{block}\n{esc(first)}" if first else block)
    return _with_header(header, blocks, limit, "\n\n", tr)


# (title cap, text cap) pairs tried in turn until a list of entries fits: first
# roomy, then ever tighter, so 20 entries still fit in one message.
_ENTRY_CAPS = ((200, 300), (200, 200), (140, 140), (100, 100), (80, 60), (60, 0))


def _fit_entries(
    header: str,
    count: int,
    build: Callable[[int, int, int], str],
    limit: int,
    tr: Translator,
) -> str:
    """Join a header and ``count`` entries, shrinking entries until they fit.

    ``build(index, title_cap, text_cap)`` renders entry ``index``. If even the
    tightest entries do not fit, the tail is replaced by "…and K more".
    """
    for title_cap, text_cap in _ENTRY_CAPS:
        entries = [build(index, title_cap, text_cap) for index in range(count)]
        message = "\n\n".join([header, *entries])
        if visible_length(message) <= limit:
            return message

    # Only a very long list reaches this: keep what fits and say what was left.
    def and_more(left: int) -> str:
        return tr.ngettext("…and {count} more", "…and {count} more", left).format(count=left)

    kept = header
    for index, entry in enumerate(entries):
        more = f"\n\n{and_more(count - index - 1)}" if index < count - 1 else ""
        candidate = f"{kept}\n\n{entry}"
        if visible_length(candidate + more) > limit:
            return f"{kept}\n\n{and_more(count - index)}"
        kept = candidate
    return kept


def render_latest(
    items: Sequence[Statement],
    tz: ZoneInfo,
    *,
    title: str | None = None,
    limit: int = TELEGRAM_LIMIT,
    first_number: int | None = None,
    language: str = "en",
) -> str:
    """The /latest reply: per statement its date, linked title and summary's first line.

    With `first_number`, the entries are numbered from it (for the "Full text N"
    buttons under the list), and a statement with no more text than its summary is
    marked so (it has no button). `title` defaults to "Latest statements".
    """
    tr = translator(language)
    if not items:
        return render_no_statements(language)
    title = title if title is not None else tr.gettext("Latest statements")
    header = f"<b>{esc(truncate_text(_one_line(title), QUERY_MAX * 2))}</b>"

    # Tidy each feed string once; build() runs again for every tighter cap.
    metas: list[str] = []
    for index, item in enumerate(items):
        feed_title = truncate_text(_one_line(item.feed_title), 40)
        date_text = format_date(item.published_at, tz, language)
        meta = esc(f"{date_text} · {feed_title}" if feed_title else date_text)
        metas.append(_numbered(meta, item, first_number, index, tr))
    titles = [_one_line(item.title) or tr.gettext(UNTITLED) for item in items]
    firsts = [_first_line(item.summary) for item in items]

    def build(index: int, title_cap: int, text_cap: int) -> str:
        label = truncate_text(titles[index], title_cap)
        entry = f"{metas[index]}\n{link(items[index].link or '', label)}"
        first = truncate_text(firsts[index], text_cap)
        return f"{entry}\n{esc(first)}" if first else entry

    return _fit_entries(header, len(items), build, limit, tr)


def _numbered(
    line: str, item: Statement, first_number: int | None, index: int, tr: Translator
) -> str:
    """An entry's first line (HTML) with its number in front, and "summary only" at
    the end when the statement has no more text; as it was without a number."""
    if first_number is None:
        return line
    if not adds_to_summary(item.summary, item.content):
        line = f"{line} · <i>{esc(tr.gettext(SUMMARY_ONLY_MARK))}</i>"
    return f"<b>{first_number + index}.</b> {line}"


def render_no_statements(language: str = "en") -> str:
    """What /latest says when nothing is stored yet."""
    return translator(language).gettext(
        "No statements stored yet. Use /feeds to see the feeds and /subscribe to follow them."
    )


def bold_marks(snippet: str) -> str:
    """Escape a search snippet, then turn its match markers into balanced ``<b>``.

    Escaping first means feed text can never forge a tag; a marker without its
    partner (the snippet was cut) is dropped or closed, so no tag is left open,
    and an empty match adds no empty tag.
    """
    out: list[str] = []
    is_open = False
    for piece in re.split(f"([{MARK_START}{MARK_END}])", esc(snippet)):
        if piece == MARK_START:
            if not is_open:
                out.append("<b>")
                is_open = True
        elif piece == MARK_END:
            if is_open:
                if out[-1] == "<b>":
                    out.pop()  # nothing between the marks
                else:
                    out.append("</b>")
                is_open = False
        elif piece:
            out.append(piece)
    if is_open:
        if out[-1] == "<b>":
            out.pop()
        else:
            out.append("</b>")
    return "".join(out)


def _keep_marks(match: re.Match[str]) -> str:
    return match.group() if match.group() in (MARK_START, MARK_END) else " "


def _clean_snippet(snippet: str, cap: int) -> str:
    """The snippet as one tidy line of at most ``cap`` units, markers kept."""
    # Controls are spaces, but for the markers, which must only come from the store.
    text = " ".join(CONTROL_CHARS.sub(_keep_marks, snippet).split())
    # Markers are invisible once rendered, so counting them only errs on the short
    # side; a cut between two markers is mended by bold_marks.
    return truncate_text(text, cap)


def _quoted_query(query: str) -> str:
    return esc(truncate_text(_one_line(query), QUERY_MAX))


def render_search_results(
    query: str,
    hits: Sequence[Hit],
    tz: ZoneInfo,
    *,
    offset: int,
    total: int | None,
    limit: int = TELEGRAM_LIMIT,
    numbered: bool = False,
    language: str = "en",
) -> str:
    """The /search reply: header, then date, linked title and bolded snippet per hit.

    `numbered`: each hit carries its rank (offset + 1 on), as `render_latest`'s
    `first_number` does, for the "Full text N" buttons."""
    tr = translator(language)
    if not hits:
        return render_no_results(query, language)
    first, last = offset + 1, offset + len(hits)
    span = f"{first}–{last}" if last > first else f"{first}"
    if total is not None:
        header = tr.gettext("Results {span} of {total} for «{query}»").format(
            span=span, total=total, query=_quoted_query(query)
        )
    else:
        header = tr.gettext("Results {span} for «{query}»").format(
            span=span, query=_quoted_query(query)
        )
    header = f"<b>{header}</b>"

    def build(index: int, title_cap: int, text_cap: int) -> str:
        hit = hits[index]
        date_text = esc(format_date(hit.item.published_at, tz, language))
        entry = _numbered(
            f"{date_text} · {_linked_title(hit.item, title_cap, tr)}",
            hit.item,
            offset + 1 if numbered else None,
            index,
            tr,
        )
        snippet = bold_marks(_clean_snippet(hit.snippet, text_cap))
        return f"{entry}\n{snippet}" if snippet.strip() else entry

    return _fit_entries(header, len(hits), build, limit, tr)


def render_no_results(query: str, language: str = "en") -> str:
    """The /search reply when nothing matches."""
    return (
        translator(language)
        .gettext(
            "No statements match «{query}».\n"
            'Try fewer words, a "phrase in quotes", or a prefix like sanction*.'
        )
        .format(query=_quoted_query(query))
    )

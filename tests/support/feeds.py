"""Feed documents for every test: one builder per format, from typed entries.

A test says what a feed holds (``Entry``, or the ready-made ``statement(n)``,
``numbered(count)``, ``sample_feed(index)``) and gets the bytes a feed server
serves: ``rss(entries)`` for RSS 2.0, ``atom(entries)`` for Atom. Text is escaped
here, so a title may hold ``<`` and ``&`` as a reader sees them; ``extra`` is
XML put in as given, for what a test needs beyond the usual elements.

Documents whose odd shape is the point of a test (a cut-off body, a wrong
encoding, an entity bomb) stay as literal bytes in that test, and the parse
corpus with its expectations is in tests/data/parse (``PARSE_CORPUS``).

Web pages without a feed come from the same ``Entry``: ``html_list(entries)`` is
a seed-like list page (or the same statements in a new layout), and
``statement_page`` a statement's own page; ``statements_of_the_seed(count)`` are
statements as such a page lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

__all__ = [
    "PARSE_CORPUS",
    "SITE",
    "Entry",
    "atom",
    "big_feed",
    "html_list",
    "numbered",
    "rss",
    "sample_feed",
    "statement",
    "statement_page",
    "statements_of_the_seed",
]

SITE = "https://embassy.example"
PARSE_CORPUS = Path(__file__).parents[1] / "data" / "parse"


@dataclass(frozen=True)
class Entry:
    """One statement in a feed; a field left None is left out of the document.

    ``date`` is an aware datetime (written in each format's own way) or a string
    written as it is (RFC 822 in RSS; an odd or broken date on purpose). ``link``
    defaults to the statement's page on SITE, after its guid; "" leaves it out.
    """

    guid: str | None = None
    title: str | None = None
    lead: str | None = None  # <description> in RSS, <summary> in Atom: HTML as text
    date: datetime | str | None = None
    link: str | None = None
    extra: str = ""  # XML at the end of the item, as given

    @property
    def url(self) -> str:
        if self.link is not None:
            return self.link
        return f"{SITE}/statements/{self.guid}" if self.guid is not None else ""


# --- RSS 2.0 ------------------------------------------------------------------------


def rss(
    entries: Iterable[Entry],
    *,
    title: str = "Embassy statements",
    link: str = f"{SITE}/",
    description: str | None = None,
    extra: str = "",
) -> bytes:
    """An RSS 2.0 document; ``extra`` goes in <channel> before the items (<ttl>…)."""
    channel = _element("title", title) + _element("link", link or None)
    channel += _element("description", description) + extra
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"{channel}{''.join(map(_rss_item, entries))}</channel></rss>"
    ).encode()


def _rss_item(entry: Entry) -> str:
    date = entry.date
    if isinstance(date, datetime):
        date = format_datetime(date.astimezone(UTC), usegmt=True)
    return (
        "<item>"
        + _element("guid", entry.guid)
        + _element("title", entry.title)
        + _element("link", entry.url or None)
        + _element("description", entry.lead)
        + _element("pubDate", date)
        + f"{entry.extra}</item>"
    )


# --- Atom ---------------------------------------------------------------------------


def atom(
    entries: Iterable[Entry],
    *,
    title: str = "Embassy statements",
    link: str = f"{SITE}/",
    feed_id: str = f"{SITE}/feed",
    extra: str = "",
) -> bytes:
    """An Atom document; ``extra`` goes in <feed> before the entries."""
    head = _element("title", title) + _element("id", feed_id)
    head += (f'<link href="{escape(link)}"/>' if link else "") + extra
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"{head}{''.join(map(_atom_entry, entries))}</feed>"
    ).encode()


def _atom_entry(entry: Entry) -> str:
    date = entry.date
    if isinstance(date, datetime):
        date = date.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return (
        "<entry>"
        + _element("id", entry.guid)
        + _element("title", entry.title)
        + (f'<link href="{escape(entry.url)}"/>' if entry.url else "")
        + ("" if entry.lead is None else f'<summary type="html">{escape(entry.lead)}</summary>')
        + _element("updated", date)
        + f"{entry.extra}</entry>"
    )


# --- web pages without a feed --------------------------------------------------------

# The page around a list: what a seed-like site repeats on every page (the date,
# the clocks and the counters in its header, a menu, a footer), never statements.
_CHROME_TOP = (
    '<header class="top"><div class="today">3 December 2021</div>'
    '<div class="clocks">Moscow: 07:30 London: 04:30</div>'
    '<div class="counters"><p>1370 days have passed since the Salisbury incident</p>'
    "<p>1362 days have passed since the death of Nikolay Glushkov</p></div></header>"
    '<nav class="main-menu"><a href="/">Home</a> <a href="/embassy">The Embassy</a>'
    ' <a href="/consular">Consular services</a> <a href="/contacts">Contacts</a></nav>'
)
_CHROME_BOTTOM = '<footer class="footer"><a href="/terms">Terms of use</a> © Embassy</footer>'


def html_list(
    entries: Iterable[Entry],
    *,
    title: str = "Embassy statements",
    next_page: str | None = None,
    layout: str = "list",
    lang: str = "en",
    head: str = "",
) -> bytes:
    """A web page without a feed whose statements are `entries`, in the seed's shape:
    "03.12.2021 - Title" and a lead paragraph, in the chrome such pages carry.
    Links are relative (``/statements/GUID`` unless the entry has a ``link``), so the
    page works from any server. ``layout`` "list" is the seed's (div.news-item),
    "table" the same statements as a table of releases (a redesign), "none" a page
    whose list is gone. ``next_page``: the link of "Older statements"; ``head``:
    HTML put in <head> (a <link rel="alternate"> to a feed)."""
    rows = []
    for entry in entries:
        href = escape(entry.link if entry.link is not None else f"/statements/{entry.guid}")
        day = entry.date.strftime("%d.%m.%Y") if isinstance(entry.date, datetime) else ""
        lead = "" if entry.lead is None else escape(entry.lead)
        name = escape(entry.title or "")
        if layout == "table":
            rows.append(
                f'<tr class="release"><td class="when">{day}</td>'
                f'<td><a href="{href}">{name}</a><p>{lead}</p></td></tr>'
            )
        else:
            rows.append(
                f'<div class="news-item"><span class="date">{day}</span> - '
                f'<a class="title" href="{href}">{name}</a><p class="lead">{lead}</p></div>'
            )
    if layout == "table":
        body = f'<table class="releases"><tbody>{"".join(rows)}</tbody></table>'
    elif layout == "none":
        body = "<p>This section is being updated. Please come back later.</p>"
    else:
        body = f'<div class="news-list">{"".join(rows)}</div>'
    pager = ""
    if next_page:
        link = f'<a class="next" href="{escape(next_page)}">Older statements »</a>'
        pager = f'<div class="pages">{link}</div>'
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>{head}</head><body>{_CHROME_TOP}"
        f'<div id="content"><h1>{escape(title)}</h1>{body}{pager}</div>{_CHROME_BOTTOM}'
        "</body></html>"
    ).encode()


def statement_page(title: str, paragraphs: Iterable[str]) -> bytes:
    """A statement's own page: its title and text in an <article>, inside the same
    chrome as the list, with a share bar that is not the text."""
    text = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in paragraphs)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>{_CHROME_TOP}"
        f'<article><h1>{escape(title)}</h1><div class="share"><a href="/share">Share</a></div>'
        f"{text}</article>{_CHROME_BOTTOM}</body></html>"
    ).encode()


def statements_of_the_seed(count: int, *, first: int = 1) -> list[Entry]:
    """`count` statements as a seed-like page lists them: one a day counting back
    from 3 December 2021 (statement `first` newest), each title a sentence and each
    lead one, so that detection reads them as statements."""
    return [
        Entry(
            f"{n}",
            f"Embassy comment number {n} on the situation around the talks in Geneva",
            f"The Embassy notes that statement {n} sets out our position on the talks "
            "once again, in detail and for the record.",
            datetime(2021, 12, 3, tzinfo=UTC) - timedelta(days=n - first),
        )
        for n in range(first, first + count)
    ]


def _element(name: str, text: str | None) -> str:
    return "" if text is None else f"<{name}>{escape(text)}</{name}>"


# --- ready-made entries and feeds ---------------------------------------------------


def statement(n: int, day: int = 1, hour: int = 10) -> Entry:
    """Statement n, published on `day` December 2021 at `hour`: a later day or hour
    is newer."""
    return Entry(
        f"s{n}",
        f"Statement {n}",
        f"Lead of statement {n}.",
        datetime(2021, 12, day, hour, tzinfo=UTC),
    )


def numbered(count: int) -> list[Entry]:
    """`count` statements, one a day in November 2021 (statement N on day N), each
    with a two-paragraph HTML lead."""
    return [
        Entry(
            f"n{i}",
            f"Statement number {i}",
            f"<p>Lead of statement {i}.</p><p>Second paragraph of statement {i}.</p>",
            datetime(2021, 11, i, 10, tzinfo=UTC),
        )
        for i in range(1, count + 1)
    ]


def sample_feed(index: int, *, items: int = 10) -> bytes:
    """A small valid RSS 2.0 feed, different for each ``index``."""
    home = f"https://example.org/feeds/{index}"
    published = datetime(2021, 12, 3, 7, 30, tzinfo=UTC)
    return rss(
        [
            Entry(
                f"feed-{index}-item-{n}",
                f"Statement {index}-{n}",
                f"Lead paragraph of statement {n} of feed {index}.",
                published,
                link=f"{home}/{n}",
            )
            for n in range(items)
        ],
        title=f"Feed {index}",
        link=home,
        description="Generated",
    )


def big_feed(count: int) -> bytes:
    """`count` statements with relative links (/s/N, resolved against the feed's
    own URL) and HTML leads, in a channel without a link of its own."""
    return rss(
        [
            Entry(f"id-{n}", f"Statement {n}", f"<p>Text of statement {n}.</p>", link=f"/s/{n}")
            for n in range(count)
        ],
        title="Big",
        link="",
    )

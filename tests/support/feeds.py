"""Feed documents for every test: one builder per format, from typed entries.

A test says what a feed holds (``Entry``, or the ready-made ``statement(n)``,
``numbered(count)``, ``sample_feed(index)``) and gets the bytes a feed server
serves: ``rss(entries)`` for RSS 2.0, ``atom(entries)`` for Atom. Text is escaped
here, so a title may hold ``<`` and ``&`` as a reader sees them; ``extra`` is
XML put in as given, for what a test needs beyond the usual elements.

Documents whose odd shape is the point of a test (a cut-off body, a wrong
encoding, an entity bomb) stay as literal bytes in that test, and the parse
corpus with its expectations is in tests/data/parse (``PARSE_CORPUS``).

Sources to come get their builder here, from the same ``Entry``: a JSON Feed
next to ``atom``, an HTML list page after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path

__all__ = [
    "PARSE_CORPUS",
    "SITE",
    "Entry",
    "atom",
    "big_feed",
    "numbered",
    "rss",
    "sample_feed",
    "statement",
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


# (JSON Feed and HTML list pages go here, each a function of a list of Entry.)


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

"""A statements site without a feed, served by the local feed server: its list of
statements split into pages (``/news``, ``/news/page/2``, …, each linking the next
with "Older statements »"), and statements' own pages. The pages are the builders
of tests.support.feeds (``html_list``, ``statement_page``)."""

from __future__ import annotations

from collections.abc import Sequence

from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry, html_list, statement_page

HTML = "text/html; charset=utf-8"
LIST_PATH = "/news"


def list_path(number: int, path: str = LIST_PATH) -> str:
    """The path of page `number` of the list (1 is the list's own address)."""
    return path if number == 1 else f"{path}/page/{number}"


def serve_list(
    server: FeedServer,
    entries: Sequence[Entry],
    *,
    per_page: int = 5,
    path: str = LIST_PATH,
    layout: str = "list",
    head: str = "",
    etag: str | None = None,
) -> int:
    """Serve `entries` (newest first) as a list of `per_page` statements a page;
    returns how many pages. The first page may carry `head` and an `etag`."""
    pages = max(1, -(-len(entries) // per_page))
    for number in range(1, pages + 1):
        chunk = entries[(number - 1) * per_page : number * per_page]
        following = list_path(number + 1, path) if number < pages else None
        server.set(
            list_path(number, path),
            html_list(chunk, next_page=following, layout=layout, head=head if number == 1 else ""),
            content_type=HTML,
            etag=etag if number == 1 else None,
        )
    return pages


def body_of(entry: Entry) -> list[str]:
    """The text of a statement's own page: longer than its lead, and saying so."""
    return [
        f"Full text of statement {entry.guid}: the Embassy sets out its position on the"
        " talks in Geneva in full, with the background that the list's short lead leaves"
        " out, so that a reader knows what was said and why it matters now.",
        f"The second paragraph of statement {entry.guid} gives the details of the"
        " consultations and the dates of the next round.",
    ]


def serve_statement(server: FeedServer, entry: Entry) -> str:
    """Serve the statement's own page (at its relative link); returns its path."""
    path = entry.link if entry.link is not None else f"/statements/{entry.guid}"
    server.set(path, statement_page(entry.title or "", body_of(entry)), content_type=HTML)
    return path

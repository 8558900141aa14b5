"""The next page of a list of statements, when the page links one.

The first poll of a page source may read up to three pages of backlog; later polls
read the first page only. The next page is the page's `rel=next`, else a link that
says so in words ("Next", "Older statements", "Следующая страница") or, less
surely, an arrow ("›", "»"), always on the same site and never the page itself.
"""

from __future__ import annotations

import lxml.html
from lxml import etree

from jobs.html_page import HtmlPage

Element = lxml.html.HtmlElement

# A link whose text starts with one of these words, in at most three words
# ("Next", "Older statements", "Следующая страница"), leads to the next page.
_NEXT_WORDS = frozenset(
    {"next", "older", "earlier", "previous entries", "следующая", "следующие", "след",
     "вперёд", "вперед", "далее", "ранее", "более ранние"}
)  # fmt: skip
_NEXT_ARROWS = ("›", "→", ">", "»", ">>", "»»")  # in order of trust: "»" may mean "last"
# The links that may lead to the next page, picked by libxml2 rather than by a loop
# in Python over every link of the page: those with a rel, a class, a label or a
# title, and those whose text starts like a next-word or an arrow.
_MAYBE_NEXT = etree.XPath(
    "//link[@rel] | //a[@href and (@rel or @class or @aria-label or @title"
    " or contains('nNoOeEpPсСвВдДрРбБ›→>»', substring(normalize-space(.), 1, 1))"
    " and string-length(normalize-space(.)) > 0)]"
)
_ARROWS = " \u00a0»›→<>«‹←.…"


def next_page(page: HtmlPage) -> str | None:
    """The next page of the list: `rel=next`, else a link that says "next", "older"
    or "следующая" (or is an arrow), on the same site and not this page."""
    found: list[tuple[int, int, str]] = []
    for position, element in enumerate(_MAYBE_NEXT(page.root)):
        if not isinstance(element, lxml.html.HtmlElement):
            continue
        rank = _next_rank(element)
        if rank is None:
            continue
        url = page.links.resolve(element.get("href"))
        if url is None or url == page.links.page or not page.links.on_site(url):
            continue
        if rank == 0:
            return url
        found.append((rank, position, url))
    return min(found)[2] if found else None


def _next_rank(element: Element) -> int | None:
    """How surely a link leads to the next page: 0 for rel=next, 1 for its words
    ("Next", "Older statements"), 2 for a class "next", 3 and up for arrows; None
    for any other link."""
    if "next" in (element.get("rel") or "").lower().split():
        return 0
    if element.tag != "a":
        return None
    label = element.get("aria-label") or element.get("title")
    if label and _says_next(label.lower()):
        return 1
    text = element.text_content()
    if len(text) > 40:  # a title, not a pager's link
        return None
    text = " ".join(text.split()).lower()
    if _says_next(text):
        return 1
    if "next" in (element.get("class") or "").lower().split():
        return 2
    if text in _NEXT_ARROWS:
        return 3 + _NEXT_ARROWS.index(text)
    return None


def _says_next(text: str) -> bool:
    words = text.strip(_ARROWS).split()
    return 0 < len(words) <= 3 and (words[0] in _NEXT_WORDS or " ".join(words[:2]) in _NEXT_WORDS)

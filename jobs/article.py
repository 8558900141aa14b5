"""The main text of a statement's own page, for its summary and the search index.

A page source lists statements with a short lead at best; each new statement's own
page is fetched once (by the caller) and its body read here: the article without
the page's navigation, header, footer, sidebars, share bars, tags and comments, as
plain paragraphs. When no readable body is found, NoArticleError says why and the
caller keeps the list's lead. Pure and synchronous.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

import lxml.html

from jobs.html_page import (
    BLOCK_TAGS,
    HtmlPage,
    PageError,
    class_words,
    element_text,
    load_page,
    paragraphs,
)
from jobs.page_chrome import Chrome
from text.date_parse import as_zone, date_order_for, find_date, parse_iso_datetime
from text.summary import summarise

Element = lxml.html.HtmlElement

MIN_TEXT = 200  # characters: less is a caption or a teaser, not a statement's body
# Inside the article: the lines around the text, not the text.
_AROUND_WORDS = frozenset(
    {"meta", "byline", "dateline", "date", "author", "tags", "tag", "share", "sharing",
     "social", "print", "rating", "toolbar", "actions", "buttons", "caption", "credit",
     "source", "photo", "gallery", "subscribe", "comments", "comment", "related"}
)  # fmt: skip
_NEVER_TEXT = ("form", "button", "select", "figure", "figcaption", "h1", "nav", "aside", "footer")
_CONTAINER_TAGS = ("div", "section", "article", "main", "td", "body")


class NoArticleError(PageError):
    """No readable body on the page; the message says why (for logs and admins)."""


@dataclass(frozen=True, slots=True)
class Article:
    title: str | None  # og:title, else the first <h1>, else <title>
    text: str  # plain paragraphs, "\n\n" between them
    published_at: datetime | None  # the page's own date of the statement, if it gives one
    language: str | None

    @property
    def summary(self) -> str:
        return summarise(self.text)


def extract_article(
    content: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    zone: tzinfo | str | None = None,
) -> Article:
    """The statement's body. Raises NoArticleError when there is none to read (an
    index page, a login wall, a page of links) or the bytes are no HTML page."""
    try:
        page = load_page(content, url=url, headers=headers)
    except PageError as exc:
        raise NoArticleError(str(exc)) from None
    chrome = Chrome(page)
    container = _container(page, chrome)
    if container is None:
        raise NoArticleError("no readable text: the page has no paragraphs outside its chrome")
    skipped = _around_text(container, chrome)
    text = paragraphs(container, skipped)
    title = _title(page)
    if title and text.startswith(title):
        text = text[len(title) :].lstrip()
    if len(text) < MIN_TEXT:
        raise NoArticleError(
            f"no readable text: the main block of the page has {len(text)} characters"
        )
    tz = as_zone(zone)
    return Article(title, text, _published_at(page, container, tz), page.language)


def _container(page: HtmlPage, chrome: Chrome) -> Element | None:
    """Where the statement's text is: the element marked as the article body, else
    the <article> (or <main>) with the most paragraph text, else the element whose
    children hold the most text in paragraphs (as readability scores pages)."""
    body = page.body
    marked = body.xpath(".//*[@itemprop='articleBody']")
    if marked:
        return _element(marked[0])
    for tag in ("article", "main"):
        found = [e for e in body.iter(tag) if chrome.enclosing(e) is None]
        if found:
            best = max(found, key=_paragraph_text)
            if _paragraph_text(best) >= MIN_TEXT:
                return best
    scores: dict[Element, float] = {}
    for block in body.iter("p", "div", "td", "pre", "blockquote", "li"):
        own = _own_text(block)
        if len(own) < 25 or chrome.enclosing(block) is not None:
            continue
        # Links are not the text: a menu of long link texts scores nothing.
        weight = len(own) * (1 - _link_share(block))
        parent = block.getparent()
        for share, holder in (
            (1.0, parent),
            (0.5, parent.getparent() if parent is not None else None),
        ):
            if holder is not None and holder.tag in _CONTAINER_TAGS:
                scores[holder] = scores.get(holder, 0.0) + share * weight
    if not scores:
        return None
    return max(scores, key=lambda e: scores[e])


def _around_text(container: Element, chrome: Chrome) -> set[Element]:
    """The elements inside the container that are not the text: chrome, share bars,
    dates and tags, forms, figures, the title, lists of links."""
    skipped: set[Element] = set()
    for element in container.iterdescendants():
        if not isinstance(element.tag, str):
            continue
        if (
            element.tag in _NEVER_TEXT
            or chrome.own(element) is not None
            or _AROUND_WORDS.intersection(class_words(element))
            or (element.tag in BLOCK_TAGS and _link_share(element) > 0.5)
        ):
            skipped.add(element)
    return skipped


def _title(page: HtmlPage) -> str | None:
    for meta in page.root.iter("meta"):
        content = " ".join((meta.get("content") or "").split())
        if (meta.get("property") or "").lower() == "og:title" and content:
            return content
    h1 = next(page.body.iter("h1"), None)
    if h1 is not None and (text := element_text(h1)):
        return text
    return page.title


def _published_at(page: HtmlPage, container: Element, tz: tzinfo) -> datetime | None:
    for meta in page.root.iter("meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if name in ("article:published_time", "datepublished", "date", "dc.date"):
            if moment := parse_iso_datetime(meta.get("content") or "", zone=tz):
                return moment
    scope = container.getparent()
    if scope is None:
        scope = container
    for element in scope.iter("time"):
        if moment := parse_iso_datetime(element.get("datetime") or "", zone=tz):
            return moment
    # A dated line near the text ("18.11.2021" under the title), never the text itself.
    for element in scope.iterdescendants():
        if _AROUND_WORDS.intersection(class_words(element)):
            text = element_text(element)
            order = date_order_for([text], page.language)
            if found := find_date(text, zone=tz, order=order):
                return found.moment
    return None


def _element(value: object) -> Element | None:
    return value if isinstance(value, lxml.html.HtmlElement) else None


def _paragraph_text(element: Element) -> int:
    return sum(len(p.text_content()) for p in element.iter("p"))


def _own_text(element: Element) -> str:
    """The element's text without the blocks nested in it."""
    pieces = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in BLOCK_TAGS:
            pieces.append(child.text_content())
        pieces.append(child.tail or "")
    return " ".join(" ".join(pieces).split())


def _link_share(element: Element) -> float:
    text = len(element.text_content().strip())
    if not text:
        return 0.0
    linked = sum(len(a.text_content().strip()) for a in element.iter("a"))
    return min(1.0, linked / text)

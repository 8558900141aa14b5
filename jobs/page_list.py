"""A web page without a feed, read as a list of statements.

`detect_list` finds the list on its own (jobs.page_detect says how) and explains
its choice; `list_from_selectors` takes an admin's CSS selectors instead (`/addpage
URL item=CSS [title=CSS] [link=CSS] [date=CSS] [summary=CSS]`); `read_list` picks
the one that applies. Both give the same `PageList`: the page's title and language,
the statements as NewItems (identity: the statement's canonical link), the link to
the next page of the list if there is one, and an `Explanation` for tests and for
the admin's preview. A page with no list (an article, a login wall, a search form,
an error page) raises NotAListError with a reason an admin can read. Pure and
synchronous: bytes in, dataclasses out.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import ClassVar, Literal

import cssselect
import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from jobs.html_page import (
    HtmlPage,
    PageError,
    describe,
    load_page,
)
from jobs.page_blocks import Anchors, Block, BlockFields, read_block
from jobs.page_chrome import Chrome
from jobs.page_detect import MAX_BLOCKS, MIN_ITEMS, Candidate, find_candidates
from jobs.page_next import next_page
from jobs.parse import entry_identity
from storage.models import NewItem
from text.date_parse import as_zone, date_order_for
from text.summary import summarise

Element = lxml.html.HtmlElement


class PageListError(ValueError):
    """The page cannot be read as a list of statements; the message is for an admin."""


class NotAListError(PageListError):
    """The page holds no list of statements ("no list of statements found: …")."""


class SelectorError(PageListError):
    """An admin's selectors are malformed (bad CSS, an unknown name, no item=)."""


@dataclass(frozen=True, slots=True)
class Rival:
    """A group that was not taken, and why."""

    signature: str
    blocks: int
    score: float
    lost_because: str

    def __str__(self) -> str:
        return f"{self.signature} ({self.blocks} blocks): {self.lost_because}"


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why these blocks are the statements: for tests and the admin's preview."""

    method: Literal["detected", "selectors"]
    signature: str  # the blocks taken: "div.news-list > div.news-item", or "item=CSS"
    container: str  # where they are: "body > div#content > div.news-list"
    blocks: int  # repeated blocks found (with a link or not)
    items: int  # statements read from them
    dated: int
    with_lead: int
    score: float  # 0 for selectors
    reasons: tuple[str, ...]  # why this group, one sentence each
    rivals: tuple[Rival, ...] = ()  # the next best groups, and why each lost
    ignored: tuple[str, ...] = ()  # the chrome left out: "a sidebar (aside.sidebar): 9 links"

    def lines(self) -> list[str]:
        """The explanation as short lines of plain text."""
        lines = [f"{self.items} statements in {self.signature}, inside {self.container}"]
        lines += [f"- {reason}" for reason in self.reasons]
        lines += [f"- not {rival}" for rival in self.rivals]
        lines += [f"- left out {region}" for region in self.ignored]
        return lines


@dataclass(frozen=True, slots=True)
class PageList:
    url: str
    title: str | None  # the page's <title>, one line
    language: str | None  # <html lang>, else Content-Language
    items: list[NewItem]  # page order, one per canonical link
    next_page: str | None  # the next page of the list on the same site, if linked
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class Selectors:
    """An admin's selectors: `item` finds each statement's block; the others are
    looked for inside a block (when absent, that part is worked out)."""

    item: str
    title: str | None = None
    link: str | None = None
    date: str | None = None
    summary: str | None = None
    _compiled: dict[str, CSSSelector] = field(init=False, repr=False, compare=False)

    NAMES: ClassVar[tuple[str, ...]] = ("item", "title", "link", "date", "summary")

    def __post_init__(self) -> None:
        """Compiles every selector now, so a bad one is refused before any page."""
        compiled = {
            name: _compile(name, css)
            for name in self.NAMES
            if (css := getattr(self, name)) is not None
        }
        object.__setattr__(self, "_compiled", compiled)

    @classmethod
    def from_words(cls, text: str) -> tuple[Selectors, str]:
        """Selectors from command words (`item=".news li" title=h3 Embassy news`),
        and the words left over (the title). Quote a selector that has spaces."""
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise SelectorError(f"cannot read the selectors: {exc}") from None
        given: dict[str, str] = {}
        rest: list[str] = []
        for word in words:
            name, equals, css = word.partition("=")
            if equals and re.fullmatch(r"[a-z]+", name):
                if name not in cls.NAMES:
                    raise SelectorError(f"unknown selector {name}=; use {', '.join(cls.NAMES)}")
                given[name] = css
            else:
                rest.append(word)
        if "item" not in given:
            raise SelectorError('item=CSS is required, e.g. item=".news-list li"')
        return cls(**given), " ".join(rest)

    def to_words(self) -> str:
        """The selectors as `/addpage` words, quoted where needed (`item='.news li'
        title=h3`): how they are stored, and read back with `from_words`."""
        return shlex.join(
            f"{name}={css}" for name in self.NAMES if (css := getattr(self, name)) is not None
        )

    def __reduce__(self) -> tuple[type[Selectors], tuple[str | None, ...]]:
        """Pickled as the selectors' text (compiled ones cannot be): parsing a big
        page runs in another process."""
        return (Selectors, tuple(getattr(self, name) for name in self.NAMES))

    def select(self, name: str, element: Element) -> list[Element]:
        """The elements selector `name` matches in `element` (none when not given)."""
        compiled = self._compiled.get(name)
        if compiled is None:
            return []
        return [e for e in compiled(element) if isinstance(e, lxml.html.HtmlElement)]


def detect_list(
    content: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    zone: tzinfo | str | None = None,
) -> PageList:
    """The page's list of statements, found without selectors. Dates without an
    offset are read in `zone` (the source's; default UTC). Raises NotAListError
    (or PageListError for what is not a web page)."""
    page = _load(content, url, headers)
    refusal = _error_page(page)
    if refusal:
        raise NotAListError(f"no list of statements found: {refusal}")
    tz = as_zone(zone)
    chrome = Chrome(page)
    candidates = find_candidates(page, chrome, zone=tz)
    best = candidates[0] if candidates and candidates[0].rejected is None else None
    if best is None:
        raise NotAListError(_refusal(page, candidates, chrome))
    rivals = tuple(_rival(c, best) for c in candidates[1:4])
    reasons = [
        f"{best.linked} of {best.blocks} repeated blocks link to a page of this site",
        f"titles of {best.title_words:g} words (median)",
        f"{best.dated} of {best.linked} dated, {best.with_lead} with a lead",
        f"score {best.score:g}",
    ]
    if best.read == MAX_BLOCKS < best.blocks:
        reasons[0] = f"{best.linked} of the first {best.read} repeated blocks link to this site"
        reasons.append(f"only the first {MAX_BLOCKS} of {best.blocks} blocks are read")
    items = _items(best.fields)
    explanation = Explanation(
        method="detected",
        signature=best.signature,
        container=best.container,
        blocks=best.blocks,
        items=len(items),
        dated=best.dated,
        with_lead=best.with_lead,
        score=best.score,
        reasons=tuple(reasons),
        rivals=rivals,
        ignored=chrome.summary(),
    )
    return PageList(url, page.title, page.language, items, next_page(page), explanation)


def list_from_selectors(
    content: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    selectors: Selectors,
    zone: tzinfo | str | None = None,
) -> PageList:
    """The page's statements as an admin's selectors find them. Raises NotAListError
    when `item` matches nothing, or no block links to a page of the site."""
    page = _load(content, url, headers)
    tz = as_zone(zone)
    anchors = Anchors(page)
    elements = selectors.select("item", page.body)
    if not elements:
        raise NotAListError(
            f"no list of statements found: item={selectors.item} matches nothing on the page"
        )
    order = date_order_for([" ".join(e.itertext()) for e in elements], page.language)
    fields: list[BlockFields] = []
    for element in elements[:MAX_BLOCKS]:
        given = {
            name: selectors.select(name, element) for name in ("title", "link", "date", "summary")
        }
        fields.append(
            read_block(
                Block(element),
                anchors,
                zone=tz,
                order=order,
                title_element=next(iter(given["title"]), None),
                link_element=next(iter(given["link"]), None),
                date_element=next(iter(given["date"]), None),
                lead_elements=given["summary"] if selectors.summary else None,
            )
        )
    linked = [f for f in fields if f.link and f.title]
    if not linked:
        raise NotAListError(
            f"no list of statements found: item={selectors.item} matches {len(elements)}"
            " blocks, but none has a title and a link to a page of this site"
        )
    items = _items(linked)
    reasons = [f"item={selectors.item} matches {len(elements)} blocks"]
    if len(linked) < len(fields):
        reasons.append(f"{len(fields) - len(linked)} without a title or a link on this site")
    parent = elements[0].getparent()
    explanation = Explanation(
        method="selectors",
        signature=f"item={selectors.item}",
        container=describe(parent) if parent is not None else "html",
        blocks=len(elements),
        items=len(items),
        dated=sum(1 for f in linked if f.published_at),
        with_lead=sum(1 for f in linked if f.lead),
        score=0.0,
        reasons=tuple(reasons),
    )
    return PageList(url, page.title, page.language, items, next_page(page), explanation)


def read_list(
    content: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    selectors: Selectors | None = None,
    zone: tzinfo | str | None = None,
) -> PageList:
    """The page's statements: by the admin's selectors when given, else detected."""
    if selectors is not None:
        return list_from_selectors(
            content, url=url, headers=headers, selectors=selectors, zone=zone
        )
    return detect_list(content, url=url, headers=headers, zone=zone)


# --------------------------------------------------------------------- helpers


def _load(content: bytes, url: str, headers: Mapping[str, str]) -> HtmlPage:
    try:
        return load_page(content, url=url, headers=headers)
    except PageError as exc:
        raise PageListError(str(exc)) from None


def _items(fields: list[BlockFields]) -> list[NewItem]:
    items: list[NewItem] = []
    seen: set[str] = set()
    for block in fields:
        if not block.link or block.link in seen:
            continue  # a statement linked twice (a photo and a title) is one statement
        seen.add(block.link)
        summary = summarise(block.lead)
        published_at = block.published_at.astimezone(UTC) if block.published_at else None
        published = published_at.isoformat() if published_at else None
        items.append(
            NewItem(
                identity=entry_identity(None, block.link, block.title, published, summary),
                guid=None,
                link=block.link,
                title=block.title,
                summary=summary,
                content=block.lead,
                published_at=published_at,
            )
        )
    return items


def _rival(candidate: Candidate, best: Candidate) -> Rival:
    if candidate.rejected:
        because = candidate.rejected
    else:
        because = f"scored {candidate.score:g} against {best.score:g}"
    return Rival(candidate.signature, candidate.blocks, candidate.score, because)


_ERROR_TITLE = re.compile(
    r"\b(?:404|403|410|500)\b|not found|page not found|access denied|forbidden"
    r"|страница не найдена|не найдено|ошибка|доступ запрещ",
    re.IGNORECASE,
)


def _error_page(page: HtmlPage) -> str | None:
    """Why the page is an error page ("Page not found"), or None."""
    for heading in (page.title, *(h.text_content() for h in page.body.iter("h1"))):
        if heading and _ERROR_TITLE.search(heading) and len(heading) < 120:
            return f"the page is an error page (it says “{' '.join(heading.split())}”)"
    return None


def _refusal(page: HtmlPage, candidates: list[Candidate], chrome: Chrome) -> str:
    """The admin's answer when no group qualifies: what the page looks like, and the
    best group found with why it was not taken."""
    what = _what_the_page_is(page, chrome)
    if candidates:
        best = candidates[0]
        why = f"the best candidate, {best.summary()}, was not taken: {best.rejected}"
    else:
        why = (
            f"no {MIN_ITEMS} or more repeated blocks link to pages of this site outside"
            " its navigation, header, footer and sidebars"
        )
        if ignored := chrome.summary(3):
            why += f" (left out: {'; '.join(ignored)})"
    return f"no list of statements found: {what + '; ' if what else ''}{why}"


def _what_the_page_is(page: HtmlPage, chrome: Chrome) -> str | None:
    body = page.body
    if next(iter(body.xpath(".//input[@type='password']")), None) is not None:
        return "the page is a login form (it asks for a password)"
    if body.xpath(
        ".//form[.//input[@type='search' or @name='q' or @name='query'"
        " or @name='search' or @name='s']]"
    ):
        return "the page is a search form"
    longest = max(
        (len(p.text_content()) for p in body.iter("p") if chrome.enclosing(p) is None),
        default=0,
    )
    text = sum(len(p.text_content()) for p in body.iter("p") if chrome.enclosing(p) is None)
    if text > 800 and longest > 200:
        return f"the page reads as one article ({text:,} characters of paragraphs)"
    return None


def _compile(name: str, css: str) -> CSSSelector:
    css = css.strip()
    if not css:
        raise SelectorError(f"{name}= is empty")
    if len(css) > 300:
        raise SelectorError(f"{name}= is too long (over 300 characters)")
    try:
        return CSSSelector(css, translator="html")
    except (cssselect.SelectorError, etree.XPathError) as exc:
        raise SelectorError(f"{name}={css} is not a valid CSS selector: {exc}") from None

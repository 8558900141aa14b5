"""Reading one block of a list of statements: its link, title, date and lead.

A block is the repeated element that stands for one statement (an <li>, a card, a
table row), plus, in flat layouts (`<h3>…</h3><p>…</p><h3>…`), the siblings that
follow it up to the next block. Used both by automatic detection and by an admin's
selectors (jobs.page_list); what a block's link and title are is decided here once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

import lxml.html
from lxml import etree

from jobs.html_page import BLOCK_TAGS, HEADINGS, HtmlPage, element_text, holds_any
from text.date_parse import DateOrder, find_date, parse_iso_datetime

Element = lxml.html.HtmlElement

# Link texts that say where to click, not what the statement is.
_GENERIC_LINK_TEXTS = frozenset(
    {
        "read more", "more", "read", "details", "continue", "continue reading", "full text",
        "view", "open", "link", "here", "click here", "learn more", "see more", "more info",
        "подробнее", "читать далее", "читать", "далее", "ещё", "еще", "смотреть", "перейти",
    }
)  # fmt: skip
_TRAILING_ARROWS = " \u00a0»›→>…."
# Separators between a date and a title: "03.12.2021 - Title", "Title | 3 Dec 2021".
_EDGE_SEPARATORS = " \u00a0-–—|:·•,/"
# A class or id that marks the lead: "lead", "news-summary", "entry_excerpt".
_LEAD_CLASS = re.compile(
    r"(?:^|[\s_-])(?:lead|summary|excerpt|teaser|intro|description|anons|annotation"
    r"|abstract|text|desc|preview)(?=$|[\s_-])",
    re.IGNORECASE,
)
_IN_HEADING = etree.XPath(
    "boolean(ancestor::*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"
    " or descendant::*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6])"
)
_WORD = re.compile(r"[^\W_]+")
# A paragraph shorter than this is a label (a type, a place, "Press release"), not a lead.
_LEAD_MIN_WORDS = 8


@dataclass(frozen=True, slots=True)
class Anchor:
    """A link of the page to a page of the same site, read once."""

    url: str  # canonical absolute http(s) URL
    text: str  # what a reader sees (for a card-sized link: its heading)
    title_like: bool  # its text could be a statement's title (not "Read more", not inline)
    in_heading: bool  # it is in a heading, or holds one


@dataclass(frozen=True, slots=True)
class BlockFields:
    """What a block says about its statement."""

    link: str | None
    title: str
    published_at: datetime | None
    lead: str  # plain paragraphs, "\n\n" between them
    title_links: int  # distinct same-site links with a title-like text in the block


@dataclass(slots=True)
class Block:
    element: Element
    extension: list[Element] = field(default_factory=list)  # siblings that follow, flat layouts

    def parts(self) -> Iterator[Element]:
        yield self.element
        yield from self.extension


class Anchors:
    """The page's links to its own site, each resolved and read once, when asked."""

    def __init__(self, page: HtmlPage) -> None:
        self.page = page
        # "Home" and "this page" links are no statement.
        self._not_statements = {page.links.resolve("/"), page.links.page}
        self._urls: dict[Element, str | None] = {}
        self._read: dict[Element, Anchor] = {}

    def url(self, element: Element) -> str | None:
        """Where the link leads, when that is a page of this site; else None."""
        if element in self._urls:
            return self._urls[element]
        links = self.page.links
        url = links.resolve(element.get("href"))
        if url is not None and (url in self._not_statements or not links.on_site(url)):
            url = None
        self._urls[element] = url
        return url

    def get(self, element: Element) -> Anchor | None:
        """The link as a reader sees it, or None when it leads off the site."""
        found = self._read.get(element)
        if found is None:
            url = self.url(element)
            if url is None:
                return None
            text = _anchor_text(element)
            in_heading = _in_heading(element)
            found = Anchor(url, text, _reads_as_title(element, text, in_heading), in_heading)
            self._read[element] = found
        return found

    def in_block(self, block: Block) -> list[tuple[Element, Anchor]]:
        found: list[tuple[Element, Anchor]] = []
        for part in block.parts():
            for element in part.iter("a"):
                anchor = self.get(element)
                if anchor is not None:
                    found.append((element, anchor))
        return found


def read_block(
    block: Block,
    anchors: Anchors,
    *,
    zone: tzinfo,
    order: DateOrder,
    title_element: Element | None = None,
    link_element: Element | None = None,
    date_element: Element | None = None,
    lead_elements: Sequence[Element] | None = None,
) -> BlockFields:
    """The link, title, date and lead of a block. Elements given (an admin's
    selectors matched them) are used as they are; the rest is worked out."""
    links = anchors.in_block(block)
    title_links = {a.url for _, a in links if a.title_like}
    primary = _primary_link(links)
    if link_element is not None:
        link = _link_of(link_element, anchors)
    elif title_element is not None:
        link = _link_of(title_element, anchors) or (primary[1].url if primary else None)
    else:
        link = primary[1].url if primary else None
    units = [unit for part in block.parts() for unit in _units(part)]
    title_unit = _unit_holding(
        units, title_element if title_element is not None else (primary[0] if primary else None)
    )
    if title_element is not None:
        title = element_text(title_element)
    elif primary is not None and primary[1].text:
        title = primary[1].text
    else:
        heading = next((u for u in units if u.heading), None)
        title = heading.text if heading else ""
        title_unit = heading
    if lead_elements is not None:
        lead = "\n\n".join(t for t in (element_text(e) for e in lead_elements) if t)
        lead_units = [u for u in units if any(e in lead_elements for e in u.elements)]
    else:
        lead_units = [u for u in units if u is not title_unit and _is_lead(u, zone, order)]
        lead = "\n\n".join(u.text for u in lead_units)
    title, title_date = _split_edge_date(title, zone, order)
    if date_element is not None:
        published_at = _date_in([date_element], element_text(date_element), zone, order)
    else:
        # The date is looked for outside the title and the lead: a title that names
        # an event ("…, Moscow, October 2, 2021") does not date the statement; a date
        # at the title's very start or end ("03.12.2021 - Title") does.
        rest = [u.text for u in units if u is not title_unit and u not in lead_units]
        if title_unit is not None:
            rest.insert(0, title_unit.text.replace(title, " ", 1))
        times = [t for part in block.parts() for t in part.iter("time")]
        published_at = _date_in(times, " | ".join(rest), zone, order) or title_date
    return BlockFields(link, title, published_at, lead, len(title_links))


@dataclass(frozen=True, slots=True)
class _Unit:
    """A run of text that reads as one line or paragraph: a block element with no
    block inside, or the inline text between the blocks of a larger one."""

    text: str
    elements: tuple[Element, ...]
    heading: bool
    lead_marked: bool  # its class says it is the lead ("lead", "summary", "teaser")


def _units(element: Element) -> list[_Unit]:
    units: list[_Unit] = []

    def visit(node: Element, lead_marked: bool) -> None:
        if not lead_marked and (names := node.get("class") or node.get("id")):
            lead_marked = _LEAD_CLASS.search(names) is not None
        if not _holds_blocks(node):
            text = element_text(node)
            if text:
                units.append(_Unit(text, (node,), node.tag in HEADINGS, lead_marked))
            return
        run: list[str] = [node.text or ""]
        members: list[Element] = []

        def flush() -> None:
            text = " ".join(" ".join(run).split())
            if text:
                units.append(_Unit(text, tuple(members), False, lead_marked))

        for child in node:
            if not isinstance(child.tag, str):
                continue
            if child.tag in BLOCK_TAGS or _holds_blocks(child):
                flush()
                visit(child, lead_marked)
                run, members = [child.tail or ""], []
            else:
                run += [element_text(child), child.tail or ""]
                members.append(child)
        flush()

    visit(element, False)
    return units


def _holds_blocks(node: Element) -> bool:
    return len(node) > 0 and holds_any(node, BLOCK_TAGS)


def _unit_holding(units: Sequence[_Unit], target: Element | None) -> _Unit | None:
    """The unit the target element is part of."""
    if target is None:
        return None
    around = {target, *target.iterancestors()}
    return next((u for u in units if any(e in around for e in u.elements)), None)


def _is_lead(unit: _Unit, zone: tzinfo, order: DateOrder) -> bool:
    if unit.heading:
        return False
    # Words are counted by their spaces: the text is one line, single-spaced.
    words = unit.text.count(" ") + 1
    if unit.lead_marked and words >= 3:
        return True
    if words < _LEAD_MIN_WORDS:
        return False
    if words >= 2 * _LEAD_MIN_WORDS:
        return True
    # A short line with a date ("Published 3 December 2021 by the press office") is
    # the statement's date line, not its lead.
    return find_date(unit.text, zone=zone, order=order) is None


def _primary_link(links: Sequence[tuple[Element, Anchor]]) -> tuple[Element, Anchor] | None:
    """The statement's own link: a title-like link inside a heading, else the
    longest title-like one, else any link on the site (an image, "Read more")."""
    titled = [(e, a) for e, a in links if a.title_like]
    in_heading = [(e, a) for e, a in titled if a.in_heading]
    if in_heading:
        return in_heading[0]
    if titled:
        return max(titled, key=lambda pair: len(pair[1].text))
    if links:
        element, anchor = links[0]
        return element, Anchor(anchor.url, "", False, anchor.in_heading)
    return None


def _link_of(element: Element, anchors: Anchors) -> str | None:
    """The link an element stands for: itself, a link inside it, or one around it."""
    candidates = [element, *element.iterdescendants("a"), *element.iterancestors("a")]
    for candidate in candidates:
        if candidate.tag == "a" and (url := anchors.url(candidate)) is not None:
            return url
    # Not a link: an element that names its target in href (a <link>, an <area>).
    links = anchors.page.links
    url = links.resolve(element.get("href"))
    return url if url and links.on_site(url) else None


def _date_in(
    times: Sequence[Element], text: str, zone: tzinfo, order: DateOrder
) -> datetime | None:
    for element in times:
        if moment := parse_iso_datetime(element.get("datetime") or "", zone=zone):
            return moment
    found = find_date(text, zone=zone, order=order)
    return found.moment if found else None


def _split_edge_date(title: str, zone: tzinfo, order: DateOrder) -> tuple[str, datetime | None]:
    """A title without the date a link put before it ("03.12.2021 - Title") or
    after it behind a bar or a dash ("Title | 3 Dec 2021"), and that date. A date
    after a comma is part of the title ("Remarks at the UN, November 30, 2021")."""
    found = find_date(title, zone=zone, order=order)
    if found is None:
        return title, None
    before, after = title[: found.start], title[found.end :]
    if not before.strip(_EDGE_SEPARATORS) and after.strip(_EDGE_SEPARATORS):
        return after.strip(_EDGE_SEPARATORS), found.moment
    if (
        not after.strip(_EDGE_SEPARATORS)
        and before.rstrip().endswith(("|", "-", "–", "—", "·", "•"))
        and before.strip(_EDGE_SEPARATORS)
    ):
        return before.strip(_EDGE_SEPARATORS), found.moment
    return title, None


def _in_heading(element: Element) -> bool:
    """The link is in a heading, or holds one."""
    return bool(_IN_HEADING(element))


def _anchor_text(element: Element) -> str:
    """What the link says: a card-sized link (one wrapping a heading and a lead)
    is named by its heading."""
    heading = next(element.iterdescendants(*HEADINGS), None)
    if heading is not None:
        return element_text(heading)
    if _holds_blocks(element):
        units = _units(element)
        return units[0].text if units else ""
    return element_text(element)


def _reads_as_title(element: Element, text: str, in_heading: bool) -> bool:
    """Could this link's text be a statement's title? Not an image, not "Read more",
    not a bare date, and not a few words linked inside running text."""
    bare = text.strip(_TRAILING_ARROWS).lower()
    if not bare or bare in _GENERIC_LINK_TEXTS:
        return False
    words = _WORD.findall(text)
    if len(words) < 2 and len(text) < 12:
        return False
    if find_date(text) is not None and len(words) <= 4:
        return False
    if in_heading or _holds_blocks(element):
        return True
    container = next((a for a in element.iterancestors() if a.tag in BLOCK_TAGS), None)
    if container is None:
        return True
    context = _inline_text(container)
    return len(text) * 2 >= len(context)


def _inline_text(container: Element) -> str:
    """The container's own line: its text without the blocks nested in it."""
    pieces = [container.text or ""]
    for child in container:
        if not isinstance(child.tag, str):
            continue
        if child.tag not in BLOCK_TAGS:
            pieces.append(element_text(child))
        pieces.append(child.tail or "")
    return " ".join(" ".join(pieces).split())

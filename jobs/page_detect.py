"""Finding a page's list of statements without selectors, and saying why.

The list is a group of repeated sibling blocks: elements with the same tag and
first class ("li", "div.news-item", "tr") at the same place in the page (the same
path of such signatures from <body>), each carrying a link to a page of the same
site. Blocks at the same path in different containers join one group (a list split
by month, a table in several <tbody>). Every group is read block by block and
scored on what statements have: a link per block, titles of several words, dates,
leads. Groups in the page's chrome (navigation, header, footer, sidebars,
pagination, language switchers, counters) are not candidates. Each decision is kept
as a sentence, so an admin can be shown why one group was taken and the others not.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import tzinfo

import lxml.html

from jobs.html_page import HEADINGS, HtmlPage, describe
from jobs.page_blocks import Anchors, Block, BlockFields, read_block
from jobs.page_chrome import Chrome
from text.date_parse import DateOrder, date_order_for

Element = lxml.html.HtmlElement

MIN_ITEMS = 3  # fewer repeated links than this are no list
# Blocks read of one group at most: a list page holds tens of statements, and a
# hostile one of 150,000 would keep the parser busy for its whole timeout.
MAX_BLOCKS = 1000
_MAX_LINKS_PER_BLOCK = 3  # a block with more titled links is a section or a menu
_MIN_COVERAGE = 0.5  # at least half of the repeated blocks must carry a link
_MIN_DISTINCT = 0.7  # ... and most of them a link of their own
_GOOD_TITLE_WORDS = 8  # titles this long count fully; shorter ones proportionally
_MENU_TITLE_WORDS = 4  # undated, lead-less links shorter than this read as a menu
# Class words that say where an element is, not what it is: left out of signatures
# so that the first or the featured item joins the others.
_STATE_WORDS = frozenset(
    {"first", "last", "odd", "even", "active", "current", "selected", "featured", "new",
     "sticky", "hot", "highlight", "highlighted", "important", "main", "big", "large",
     "small", "clearfix", "row", "col", "visible", "hidden"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Candidate:
    """One group of repeated blocks and the verdict on it."""

    signature: str  # the blocks' place: "div.news-list > div.news-item"
    container: str  # the element holding them: "body > div#content > div.news-list"
    blocks: int  # repeated blocks in the group (with a link or not)
    fields: list[BlockFields]  # what each block with a link said, in page order
    dated: int
    with_lead: int
    title_words: float  # median words in a title
    distinct_links: int
    score: float
    rejected: str | None  # why this group cannot be the list, or None
    read: int = 0  # blocks read (all of them, up to MAX_BLOCKS)

    @property
    def linked(self) -> int:
        return len(self.fields)

    def summary(self) -> str:
        if not self.fields:
            return f"{self.signature} ({self.blocks} blocks)"
        return (
            f"{self.signature} ({self.linked} of {self.blocks} blocks with a link,"
            f" titles of {self.title_words:g} words, {self.dated} dated,"
            f" {self.with_lead} with a lead)"
        )


def find_candidates(
    page: HtmlPage, chrome: Chrome, *, zone: tzinfo, order: DateOrder | None = None
) -> list[Candidate]:
    """Every group of at least MIN_ITEMS repeated blocks with links, best first.
    Numeric dates are read in `order`; by default in the order the groups' own
    dates show (see text.date_parse.date_order_for)."""
    anchors = Anchors(page)
    grouper = _Grouper(page.body)
    # The chrome's links are left out before grouping: a sidebar or a mega-menu
    # often holds most of a page's links, and never its statements.
    in_chrome = chrome.links()
    for element in page.body.iter("a"):
        if element not in in_chrome and anchors.url(element) is not None:
            grouper.add_link(element)
    groups = [
        _Group.of(blocks, grouper, anchors, chrome)
        for blocks in grouper.groups()
        if len(blocks) >= MIN_ITEMS
    ]
    if order is None:
        texts = [e.text_content() for g in groups if g.early is None for e in g.elements]
        order = date_order_for(texts, page.language)
    candidates = [_judge(group, grouper, anchors, zone=zone, order=order) for group in groups]
    # Equal scores: the group with more blocks first.
    candidates.sort(key=lambda c: (c.rejected is None, c.score, c.blocks), reverse=True)
    return candidates


class _Grouper:
    """Gathers the repeated elements that hold links, by their path of signatures."""

    def __init__(self, body: Element) -> None:
        self._body = body
        self._signatures: dict[Element, str] = {}
        self._class_parts: dict[str | None, str] = {}
        self._paths: dict[Element, int] = {body: 0}
        self._path_ids: dict[tuple[int, str], int] = {}
        self._children: dict[Element, dict[str, int]] = {}
        self._groups: dict[int, dict[Element, None]] = {}
        self._visited: set[Element] = set()

    def add_link(self, link: Element) -> None:
        """Registers every repeated element the link sits in (itself too)."""
        node: Element | None = link
        while node is not None and node is not self._body and node not in self._visited:
            # An element seen from an earlier link has had its ancestors seen too.
            self._visited.add(node)
            if self.siblings_alike(node) >= 2:
                self._groups.setdefault(self.path(node), {})[node] = None
            node = node.getparent()

    def groups(self) -> list[list[Element]]:
        return [list(blocks) for blocks in self._groups.values()]

    def signature(self, element: Element) -> str:
        found = self._signatures.get(element)
        if found is None:
            tag = element.tag if isinstance(element.tag, str) else "?"
            found = tag + self._class_part(element.get("class"))
            self._signatures[element] = found
        return found

    def _class_part(self, classes: str | None) -> str:
        """ ".news-item" for "news-item first col-3": the first class that names a
        kind of element (not a state, not a grid position)."""
        found = self._class_parts.get(classes)
        if found is None:
            words = [
                word
                for word in (classes or "").lower().split()
                if word not in _STATE_WORDS and not any(ch.isdigit() for ch in word)
            ]
            found = f".{words[0]}" if words else ""
            self._class_parts[classes] = found
        return found

    def siblings_alike(self, element: Element) -> int:
        """How many children of the element's parent share its signature (itself too)."""
        parent = element.getparent()
        if parent is None:
            return 1
        counts = self._children.get(parent)
        if counts is None:
            counts = {}
            for child in parent:
                if isinstance(child.tag, str):
                    signature = self.signature(child)
                    counts[signature] = counts.get(signature, 0) + 1
            self._children[parent] = counts
        return counts.get(self.signature(element), 1)

    def path(self, element: Element) -> int:
        chain: list[Element] = []
        node: Element | None = element
        while node is not None and node not in self._paths:
            chain.append(node)
            node = node.getparent()
        path = self._paths[node] if node is not None else 0
        for item in reversed(chain):
            key = (path, self.signature(item))
            path = self._path_ids.setdefault(key, len(self._path_ids) + 1)
            self._paths[item] = path
        return path


@dataclass(frozen=True, slots=True)
class _Group:
    """A group before it is read: where it is, and the cheap verdict if there is one."""

    elements: list[Element]
    signature: str
    container: str
    members: int
    early: str | None  # rejected without reading its blocks: in the chrome, no titles

    @classmethod
    def of(
        cls, elements: list[Element], grouper: _Grouper, anchors: Anchors, chrome: Chrome
    ) -> _Group:
        one_per_parent = {id(e.getparent()): e for e in elements}
        parents = [p for e in one_per_parent.values() if (p := e.getparent()) is not None]
        # Blocks alike without a link count too: a list is mostly links, a text is not.
        members = sum(grouper.siblings_alike(e) for e in one_per_parent.values())
        common = parents[0] if len(parents) == 1 else _common_ancestor(parents)
        where = describe(parents[0]) + (f" (×{len(parents)})" if len(parents) > 1 else "")
        # Cheap verdicts first: most groups of a page are its chrome, or links
        # without titles, and need not be read block by block.
        early = None
        if in_chrome := _in_chrome(elements, chrome):
            early = f"it is in {in_chrome}"
        elif (titled := _count_titled(elements, anchors)) < MIN_ITEMS:
            early = f"only {titled} of its blocks link to a page of this site with a title"
        signature = f"{where} > {grouper.signature(elements[0])}"
        return cls(elements, signature, _path_name(common), members, early)


def _judge(
    group: _Group, grouper: _Grouper, anchors: Anchors, *, zone: tzinfo, order: DateOrder
) -> Candidate:
    if group.early is not None:
        return Candidate(
            group.signature, group.container, group.members, [], 0, 0, 0.0, 0, 0.0, group.early
        )
    elements = group.elements[:MAX_BLOCKS]
    # Blocks alike without a link, in the same share among those read as in all.
    members = max(len(elements), round(group.members * len(elements) / len(group.elements)))
    blocks = _with_extensions(elements, grouper)
    fields = [read_block(b, anchors, zone=zone, order=order) for b in blocks]
    linked = [f for f in fields if f.link and f.title]
    dated = sum(1 for f in linked if f.published_at is not None)
    with_lead = sum(1 for f in linked if f.lead)
    words = statistics.median(len(f.title.split()) for f in linked) if linked else 0.0
    distinct = len({f.link for f in linked})
    rejected = _rejection(
        linked=linked,
        members=members,
        dated=dated,
        with_lead=with_lead,
        words=words,
        distinct=distinct,
    )
    score = 0.0
    if linked:
        n = len(linked)
        score = (
            n
            * min(1.0, n / max(members, 1))
            * min(1.0, words / _GOOD_TITLE_WORDS)
            * (1 + dated / n)
            * (1 + 0.5 * with_lead / n)
        )
    return Candidate(
        signature=group.signature,
        container=group.container,
        blocks=group.members,
        fields=linked,
        dated=dated,
        with_lead=with_lead,
        title_words=float(words),
        distinct_links=distinct,
        score=round(score, 2),
        rejected=rejected,
        read=len(elements),
    )


def _rejection(
    *,
    linked: list[BlockFields],
    members: int,
    dated: int,
    with_lead: int,
    words: float,
    distinct: int,
) -> str | None:
    """Why a group cannot be the list of statements, or None when it can."""
    n = len(linked)
    if n < MIN_ITEMS:
        return f"only {n} of its blocks link to a page of this site with a title"
    if statistics.median(f.title_links for f in linked) > _MAX_LINKS_PER_BLOCK:
        return "each block holds several titled links (sections or a menu, not statements)"
    if n < _MIN_COVERAGE * members:
        return f"only {n} of its {members} blocks carry a link"
    if distinct < _MIN_DISTINCT * n:
        return f"its blocks link to the same few pages ({distinct} distinct links in {n})"
    if words < _MENU_TITLE_WORDS and dated * 2 < n and with_lead * 2 < n:
        return (
            f"its links are short ({words:g} words) with no dates or leads:"
            " a menu or a list of links"
        )
    return None


def _in_chrome(elements: list[Element], chrome: Chrome) -> str | None:
    """The chrome most of the blocks are in, if they are. Blocks of one parent share
    its ancestors: each parent is asked once, and the blocks only about themselves."""
    by_parent: dict[Element, list[Element]] = {}
    for element in elements:
        parent = element.getparent()
        if parent is not None:
            by_parent.setdefault(parent, []).append(element)
    inside = 0
    reason: str | None = None
    for parent, blocks in by_parent.items():
        around = chrome.enclosing(parent)
        for block in blocks:
            found = around or chrome.own(block)
            if found:
                inside += 1
                reason = reason or found
    return reason if inside * 2 > len(elements) else None


def _count_titled(elements: list[Element], anchors: Anchors) -> int:
    """How many blocks carry a titled link, counting no further than MIN_ITEMS."""
    titled = 0
    for element in elements[:MAX_BLOCKS]:
        if _has_title(element, anchors):
            titled += 1
            if titled == MIN_ITEMS:
                break
    return titled


def _has_title(element: Element, anchors: Anchors) -> bool:
    """The block has a link with a title's text, or a heading beside a link."""
    links = anchors.in_block(Block(element))
    return any(anchor.title_like for _, anchor in links) or (
        bool(links) and next(element.iterdescendants(*HEADINGS), None) is not None
    )


def _with_extensions(elements: list[Element], grouper: _Grouper) -> list[Block]:
    """Blocks, each with the siblings that follow it up to the next block when the
    layout is flat (`<h3>title</h3><p>lead</p><h3>…`). The last block of a container
    takes as many siblings as the others had, at most."""
    blocks: list[Block] = []
    for element in elements:
        signature = grouper.signature(element)
        extension: list[Element] = []
        for sibling in element.itersiblings():
            if not isinstance(sibling.tag, str) or grouper.signature(sibling) == signature:
                break
            extension.append(sibling)
        blocks.append(Block(element, extension))
    # The last block of each container ran to the container's end: cut it to the
    # usual number of siblings (pagination and "all news" links are not its lead).
    by_parent: dict[int, list[Block]] = {}
    for block in blocks:
        by_parent.setdefault(id(block.element.getparent()), []).append(block)
    for group in by_parent.values():
        others = [len(b.extension) for b in group[:-1]]
        usual = int(statistics.median(others)) if others else 0
        last = group[-1]
        if not _next_alike(last.element, grouper):
            last.extension = last.extension[:usual]
    return blocks


def _next_alike(element: Element, grouper: _Grouper) -> bool:
    signature = grouper.signature(element)
    return any(grouper.signature(s) == signature for s in element.itersiblings())


def _common_ancestor(elements: list[Element]) -> Element:
    chains = [[e, *e.iterancestors()] for e in elements]
    first = chains[0]
    others = [set(map(id, chain)) for chain in chains[1:]]
    for candidate in first:
        if all(id(candidate) in other for other in others):
            return candidate
    return first[-1]


def _path_name(element: Element, depth: int = 3) -> str:
    names = [describe(element)]
    for ancestor in element.iterancestors():
        if len(names) >= depth or ancestor.tag in ("html",):
            break
        names.append(describe(ancestor))
    return " > ".join(reversed(names))

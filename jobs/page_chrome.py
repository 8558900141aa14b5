"""A page's chrome: what every page of a site repeats around its content.

Navigation, header, footer, sidebars, breadcrumbs, pagination, language switchers,
share bars, counters, clocks. List detection leaves these regions out before it
looks for repeated blocks (and says which it left out); article extraction drops
them from a statement's text.
"""

from __future__ import annotations

import re

import lxml.html

from jobs.html_page import HtmlPage, describe

Element = lxml.html.HtmlElement

_TAGS = {"nav": "navigation", "header": "the header", "footer": "the footer",
         "aside": "a sidebar"}  # fmt: skip
_ROLES = {
    "navigation": "navigation", "banner": "the header", "contentinfo": "the footer",
    "complementary": "a sidebar", "search": "a search form", "menu": "a menu",
    "menubar": "a menu",
}  # fmt: skip
_WORDS = {
    "nav": "navigation", "navbar": "navigation", "navigation": "navigation",
    "menu": "a menu", "submenu": "a menu", "topbar": "the header", "header": "the header",
    "masthead": "the header", "footer": "the footer", "copyright": "the footer",
    "sidebar": "a sidebar", "aside": "a sidebar", "widget": "a sidebar widget",
    "breadcrumb": "breadcrumbs", "breadcrumbs": "breadcrumbs", "pagination": "pagination",
    "pager": "pagination", "paging": "pagination", "lang": "a language switcher",
    "language": "a language switcher", "languages": "a language switcher",
    "social": "social links", "share": "a share bar", "sharing": "a share bar",
    "cookie": "a cookie notice", "cookies": "a cookie notice", "banner": "a banner",
    "counter": "counters", "counters": "counters", "clock": "clocks", "clocks": "clocks",
    "login": "a login form", "signin": "a login form", "comments": "comments",
    "comment": "comments", "related": "related links", "subscribe": "a subscribe box",
    "newsletter": "a subscribe box", "tagcloud": "a tag cloud", "advert": "an advert",
}  # fmt: skip
# A header or a footer inside an article or a card is part of it, not of the page.
_PARTS_OF_BLOCKS = frozenset({"the header", "the footer"})
# One of those words as a whole word of a class or id ("news-header", "top_menu").
_WORD = re.compile(
    r"(?:^|[\s_-])(" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")(?=$|[\s_-])"
)
# Elements that may be chrome: found by libxml2, not by a walk in Python.
_MAYBE = ".//nav | .//header | .//footer | .//aside | .//*[@role] | .//*[@class] | .//*[@id]"


class Chrome:
    """Tells whether an element is (or sits inside) the page's chrome. Semantic tags
    and ARIA roles count as they are; class and id words ("sidebar", "menu") only on
    an element holding less than half of the page's text, since a layout wrapper
    ("page has-sidebar") holds the content too."""

    def __init__(self, page: HtmlPage) -> None:
        self._body = page.body
        self._body_text = max(1, len(self._body.text_content()))
        self._own: dict[Element, str | None] = {}
        self._enclosing: dict[Element, str | None] = {}
        self._regions: list[Element] | None = None
        # For each parent: how many of its children share each (tag, class).
        self._alike: dict[Element, dict[tuple[object, str | None], int]] = {}

    def own(self, element: Element) -> str | None:
        """What chrome the element itself is ("a sidebar (aside.sidebar)"), or None."""
        if element in self._own:
            return self._own[element]
        reason = _TAGS.get(element.tag) if isinstance(element.tag, str) else None
        role = element.get("role")
        if reason is None and role:
            reason = _ROLES.get(role.strip().lower())
        if reason is None and element is not self._body:
            names = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
            word = _WORD.search(names) if names.strip() else None
            if word and len(element.text_content()) * 2 < self._body_text:
                reason = _WORDS[word.group(1)]
        if reason in _PARTS_OF_BLOCKS and self._in_a_block(element):
            reason = None
        if reason is not None:
            reason = f"{reason} ({describe(element)})"
        self._own[element] = reason
        return reason

    def _in_a_block(self, element: Element) -> bool:
        """The element belongs to a piece of content, not to the page: it is inside an
        <article> or <section> (where <header> is no banner, as in ARIA), or inside
        one of several alike siblings (a card's "card-header")."""
        node = element
        while (parent := node.getparent()) is not None and node is not self._body:
            if parent.tag in ("article", "section"):
                return True
            alike = self._alike.get(parent)
            if alike is None:
                alike = {}
                for child in parent:
                    key = (child.tag, child.get("class"))
                    alike[key] = alike.get(key, 0) + 1
                self._alike[parent] = alike
            if node is not element and alike[(node.tag, node.get("class"))] >= 2:
                return True
            node = parent
        return False

    def enclosing(self, element: Element) -> str | None:
        """The chrome the element is part of (itself or an ancestor), or None."""
        if element in self._enclosing:
            return self._enclosing[element]
        chain: list[Element] = []
        reason: str | None = None
        node: Element | None = element
        while node is not None and node is not self._body:
            if node in self._enclosing:
                reason = self._enclosing[node]
                break
            chain.append(node)
            if (reason := self.own(node)) is not None:
                break
            node = node.getparent()
        for seen in chain:
            self._enclosing[seen] = reason
        return reason

    def regions(self) -> list[Element]:
        """The outermost chrome elements of the page, in page order."""
        if self._regions is None:
            found: list[Element] = []
            for element in self._body.xpath(_MAYBE):
                if not isinstance(element, lxml.html.HtmlElement) or self.own(element) is None:
                    continue
                parent = element.getparent()
                # An element inside a region already found is part of it.
                if parent is None or self.enclosing(parent) is None:
                    found.append(element)
            self._regions = found
        return self._regions

    def links(self) -> set[Element]:
        """Every <a> inside the chrome."""
        return {a for region in self.regions() for a in region.iter("a")}

    def summary(self, limit: int = 6) -> tuple[str, ...]:
        """The chrome regions with the most links, as "a sidebar (aside.sidebar): 40
        links", for an explanation of what was left out."""
        counted = [(sum(1 for _ in r.iter("a")), r) for r in self.regions()]
        counted = [(n, r) for n, r in counted if n]
        counted.sort(key=lambda pair: pair[0], reverse=True)
        return tuple(
            f"{self.own(region)}: {n} link{'s' if n != 1 else ''}" for n, region in counted[:limit]
        )

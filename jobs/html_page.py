"""An HTML page as the page readers see it: parsed, its links resolved, its text read.

The one place where fetched HTML bytes become an lxml tree, shared by list
detection (jobs.page_list), statement bodies (jobs.article) and feed discovery
(jobs.discovery). Pure and synchronous: nothing is fetched, scripts never run
(libxml2 does not run them; they are dropped before anything reads the text).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from jobs.fetch import normalise_feed_url
from text.plain import CONTROL_CHARS, one_line


class PageError(ValueError):
    """The body cannot be read as a web page; the message is meant for an admin."""


# Elements whose content is never reading text.
HIDDEN_TAGS = ("script", "style", "noscript", "template", "svg", "math", "iframe", "object")
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption", "summary",
    }
)  # fmt: skip
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

# libxml2 is quadratic in the number of attributes of one element: 50,000 of them
# take it over 20 seconds. No real page has a thousand; such a page is refused
# before parsing instead of keeping the worker busy until it is killed.
_LONG_TAG = re.compile(rb"<[A-Za-z][^<>]{4096,}")
_MAX_ATTRIBUTES = 1000
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_WEB_SCHEMES = frozenset({"http", "https"})
# Second-level labels under which a country's sites are registered (gov.uk, co.jp).
# Without the public suffix list, "the same site" is the last two labels of a host,
# or three under one of these; good enough for the sites of official bodies.
_SECOND_LEVEL = frozenset(
    {"ac", "co", "com", "edu", "go", "gob", "gouv", "gov", "govt", "mil", "mod", "ne",
     "net", "nhs", "nic", "or", "org", "police", "sch"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class HtmlPage:
    """A parsed page. `root` is the <html> element with scripts, styles and comments
    already removed; `base` is what relative links resolve against."""

    url: str
    root: lxml.html.HtmlElement
    base: str
    language: str | None
    title: str | None

    @property
    def body(self) -> lxml.html.HtmlElement:
        found = self.root.find("body")
        return found if found is not None else self.root


def load_page(content: bytes, *, url: str, headers: Mapping[str, str]) -> HtmlPage:
    """Parse HTML bytes. The charset comes from Content-Type, else a BOM, else the
    page's <meta>, else UTF-8 when the bytes are valid UTF-8 (else windows-1252).
    Raises PageError for what is not an HTML page at all."""
    lowered = {key.lower(): value for key, value in headers.items()}
    if not content.strip():
        raise PageError("the page is empty")
    utf16 = content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in content[:1024] and not utf16:
        raise PageError("the page is binary data, not HTML")
    _refuse_attribute_floods(content)
    encoding = _encoding(content, lowered)
    parser = lxml.html.HTMLParser(
        encoding=encoding, remove_comments=True, remove_pis=True, no_network=True
    )
    try:
        root = lxml.html.document_fromstring(content, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise PageError(f"the page could not be parsed as HTML ({exc})") from None
    etree.strip_elements(root, *HIDDEN_TAGS, with_tail=False)
    base = url
    if "content-location" in lowered:
        base = urljoin(url, lowered["content-location"])
    base_href = root.find("head/base[@href]")
    if base_href is not None:
        base = urljoin(base, (base_href.get("href") or "").strip())
    return HtmlPage(
        url=url,
        root=root,
        base=base,
        language=_language(root, lowered),
        title=_title(root),
    )


def _refuse_attribute_floods(content: bytes) -> None:
    for match in _LONG_TAG.finditer(content):
        end = content.find(b">", match.end())
        tag = content[match.start() : end if end >= 0 else len(content)]
        if tag.count(b"=") > _MAX_ATTRIBUTES:
            raise PageError(
                f"the page has an element with over {_MAX_ATTRIBUTES} attributes;"
                " refused, as it is built to be slow to parse"
            )


def _encoding(content: bytes, headers: Mapping[str, str]) -> str:
    candidates: list[str] = []
    # A byte order mark outranks a declared charset, as in browsers.
    for bom, name in _BOMS:
        if content.startswith(bom):
            candidates.append(name)
    if found := _CHARSET_PARAM.search(headers.get("content-type", "")):
        candidates.append(found.group(1))
    if found_meta := _META_CHARSET.search(content[:4096]):
        candidates.append(found_meta.group(1).decode("ascii"))
    for name in candidates:
        try:
            return codecs.lookup(name).name
        except LookupError:
            continue
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def _language(root: lxml.html.HtmlElement, headers: Mapping[str, str]) -> str | None:
    for value in (
        root.get("lang"),
        root.get("{http://www.w3.org/XML/1998/namespace}lang"),
        _meta(root, "http-equiv", "content-language"),
        headers.get("content-language"),
    ):
        if value and value.strip():
            return value.strip().split(",")[0].strip()[:35] or None
    return None


def _title(root: lxml.html.HtmlElement) -> str | None:
    title = root.find("head/title")
    text = element_text(title) if title is not None else ""
    if not text:
        text = one_line(_meta(root, "property", "og:site_name") or "")
    return text or None


def _meta(root: lxml.html.HtmlElement, attribute: str, name: str) -> str | None:
    for meta in root.iter("meta"):
        if (meta.get(attribute) or "").strip().lower() == name:
            return meta.get("content")
    return None


def element_text(element: lxml.html.HtmlElement) -> str:
    """The element's text on one line: whitespace collapsed, with a space wherever
    a tag separates words (so "<p>a</p><p>b</p>" reads "a b", not "ab")."""
    pieces = element.itertext()
    return CONTROL_CHARS.sub("", one_line(" ".join(pieces)))


def paragraphs(element: lxml.html.HtmlElement, skip: Collection[lxml.html.HtmlElement] = ()) -> str:
    """The element's text as paragraphs, "\n\n" between block elements; the
    subtrees in `skip` are left out (their tails are kept: they are the parent's)."""
    out: list[str] = []
    current: list[str] = []

    def flush() -> None:
        line = one_line(" ".join(current))
        if line:
            out.append(line)
        current.clear()

    walker = etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        tag = node.tag if isinstance(node.tag, str) else ""
        if event == "start":
            if node in skip:
                walker.skip_subtree()  # its "end" still comes, and reads its tail
                continue
            if tag in BLOCK_TAGS:
                flush()
            elif tag == "br":
                current.append(" ")
            if node.text:
                current.append(node.text)
        else:
            if tag in BLOCK_TAGS:
                flush()
            if node is not element and node.tail:
                current.append(node.tail)
    flush()
    return CONTROL_CHARS.sub("", "\n\n".join(out))


def absolute_url(href: str | None, base: str) -> str | None:
    """`href` resolved against `base` as one canonical http(s) URL (lower-case scheme
    and host, no default port, no fragment); None for javascript:, mailto:, a bare
    fragment, or anything else that is no web page."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        joined = urljoin(base, href)
        if urlsplit(joined).scheme.lower() not in _WEB_SCHEMES:
            return None
        return normalise_feed_url(joined)
    except ValueError:
        return None


def site_of(url: str) -> str:
    """The registrable part of a URL's host ("www.mid.ru" and "en.mid.ru" → "mid.ru",
    "www.embassy.gov.uk" → "embassy.gov.uk"); an IP address as it is."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""
    if not host or host.replace(".", "").isdigit() or ":" in host:
        return host
    labels = host.split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def same_site(url: str, page_url: str) -> bool:
    """A link to the page's own site: the same registrable host, or a subdomain of it."""
    site = site_of(url)
    return bool(site) and site == site_of(page_url)


def class_words(element: lxml.html.HtmlElement) -> list[str]:
    """The words of an element's class and id ("news-item col_2" → news, item, col, 2)."""
    names = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
    return re.split(r"[\s_\-]+", names.strip()) if names.strip() else []


# The page's chrome: what every page of a site repeats around its content.
_CHROME_TAGS = {"nav": "navigation", "header": "the header", "footer": "the footer",
                "aside": "a sidebar"}  # fmt: skip
_CHROME_ROLES = {
    "navigation": "navigation", "banner": "the header", "contentinfo": "the footer",
    "complementary": "a sidebar", "search": "a search form", "menu": "a menu",
    "menubar": "a menu",
}  # fmt: skip
_CHROME_WORDS = {
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


class Chrome:
    """Tells whether an element is (or sits inside) the page's chrome: navigation,
    header, footer, sidebars, breadcrumbs, pagination, language switchers, share bars,
    counters, clocks. Semantic tags and ARIA roles count as they are; class and id
    words ("sidebar", "menu") only on an element holding less than half of the page's
    text, since a layout wrapper ("page has-sidebar") holds the content too."""

    def __init__(self, page: HtmlPage) -> None:
        self._body = page.body
        self._body_text = max(1, len(self._body.text_content()))
        self._own: dict[lxml.html.HtmlElement, str | None] = {}
        self._enclosing: dict[lxml.html.HtmlElement, str | None] = {}

    def own(self, element: lxml.html.HtmlElement) -> str | None:
        """What chrome the element itself is ("a sidebar", "navigation"), or None."""
        if element in self._own:
            return self._own[element]
        reason = _CHROME_TAGS.get(element.tag) if isinstance(element.tag, str) else None
        role = (element.get("role") or "").strip().lower()
        reason = reason or _CHROME_ROLES.get(role)
        if reason is None and element is not self._body:
            words = [w for w in class_words(element) if w in _CHROME_WORDS]
            if words and len(element.text_content()) * 2 < self._body_text:
                reason = _CHROME_WORDS[words[0]]
        if reason is not None:
            reason = f"{reason} ({describe(element)})"
        self._own[element] = reason
        return reason

    def enclosing(self, element: lxml.html.HtmlElement) -> str | None:
        """The chrome the element is part of (itself or an ancestor), or None."""
        if element in self._enclosing:
            return self._enclosing[element]
        chain: list[lxml.html.HtmlElement] = []
        reason: str | None = None
        node: lxml.html.HtmlElement | None = element
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


def describe(element: lxml.html.HtmlElement) -> str:
    """A short CSS-like name for an element: tag, #id, first class ("div#main",
    "ul.news-list")."""
    tag = element.tag if isinstance(element.tag, str) else "?"
    name = tag
    if element_id := (element.get("id") or "").strip():
        name += f"#{element_id.split()[0]}"
    if classes := (element.get("class") or "").split():
        name += f".{classes[0]}"
    return name

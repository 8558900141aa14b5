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

from jobs.urls import normalise_feed_url
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
# Tags that separate words when they sit inside an element's text.
_WORD_BREAKS = BLOCK_TAGS | {"br"}

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
    links: SiteLinks  # resolves this page's hrefs

    @property
    def body(self) -> lxml.html.HtmlElement:
        found = self.root.find("body")
        return found if found is not None else self.root


def load_page(content: bytes, *, url: str, headers: Mapping[str, str]) -> HtmlPage:
    """Parse HTML bytes. The charset comes from a BOM, else Content-Type, else the
    page's <meta>, else UTF-8 when the bytes are valid UTF-8 (else windows-1252).
    Raises PageError for what is not an HTML page at all."""
    lowered = {key.lower(): value for key, value in headers.items()}
    if not content.strip():
        raise PageError("the page is empty")
    utf16 = content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if b"\x00" in content[:1024] and not utf16:
        raise PageError("the page is binary data, not HTML")
    _refuse_attribute_floods(content)
    root = _parse(content, _encodings(content, lowered))
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
        links=SiteLinks(url, base),
    )


_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body")


def is_html_page(content: bytes, headers: Mapping[str, str]) -> bool:
    """The body is a web page (served as HTML, or starting like one), not a feed
    that failed to parse: what /addfeed then looks into for feeds or a list."""
    media_type = ""
    for key, value in headers.items():
        if key.lower() == "content-type":
            media_type = value.split(";")[0].strip().lower()
    head = content[:4096].lower()
    return media_type in _HTML_TYPES or any(marker in head for marker in _HTML_MARKERS)


def _refuse_attribute_floods(content: bytes) -> None:
    for match in _LONG_TAG.finditer(content):
        end = content.find(b">", match.end())
        tag = content[match.start() : end if end >= 0 else len(content)]
        if tag.count(b"=") > _MAX_ATTRIBUTES:
            raise PageError(
                f"the page has an element with over {_MAX_ATTRIBUTES} attributes;"
                " refused, as it is built to be slow to parse"
            )


def _parse(content: bytes, encodings: list[str]) -> lxml.html.HtmlElement:
    """The document, read in the first encoding that libxml2 knows and that parses."""
    failure = "no encoding to read it in"
    for encoding in encodings:
        try:
            parser = lxml.html.HTMLParser(
                encoding=encoding, remove_comments=True, remove_pis=True, no_network=True
            )
            return lxml.html.document_fromstring(content, parser=parser)
        except LookupError:
            failure = f"libxml2 does not know the encoding {encoding}"
        except (etree.ParserError, ValueError) as exc:
            failure = str(exc)
    raise PageError(f"the page could not be parsed as HTML ({failure})")


def _encodings(content: bytes, headers: Mapping[str, str]) -> list[str]:
    """The encodings to try, best first: a byte order mark (it outranks a declared
    charset, as in browsers), Content-Type's charset, the page's <meta>, then UTF-8
    when the bytes are valid UTF-8, else windows-1252."""
    declared: list[str] = [name for bom, name in _BOMS if content.startswith(bom)]
    if found := _CHARSET_PARAM.search(headers.get("content-type", "")):
        declared.append(found.group(1))
    if found_meta := _META_CHARSET.search(content[:4096]):
        declared.append(found_meta.group(1).decode("ascii"))
    candidates: list[str] = []
    for name in declared:
        try:
            b"<".decode(name)  # LookupError: unknown, or no text encoding ("base64")
        except (LookupError, UnicodeDecodeError):
            continue
        canonical = codecs.lookup(name).name
        candidates.append("utf-8" if canonical == "utf-8-sig" else canonical)
    try:
        content.decode("utf-8")
        candidates.append("utf-8")
    except UnicodeDecodeError:
        candidates.append("windows-1252")
    return list(dict.fromkeys(candidates))


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
    """The element's text on one line, whitespace collapsed. Blocks and line breaks
    inside it separate words ("<p>a</p><p>b</p>" reads "a b"); inline tags do not,
    as in a browser ("<b>Sanc</b>tions" reads "Sanctions")."""
    if len(element) and holds_any(element, _WORD_BREAKS):
        text = " ".join(element.itertext())
    else:
        text = element.text_content()  # one C call: most elements hold inline text only
    return CONTROL_CHARS.sub("", " ".join(text.split()))


def holds_any(element: lxml.html.HtmlElement, tags: Collection[str]) -> bool:
    """Some element inside `element` has one of these tags. (A walk in Python: the
    elements tested are small, and lxml's tag filter costs more to set up.)"""
    return any(node.tag in tags for node in element.iterdescendants())


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


# A path (and query) from the site's root in the characters URLs are made of, which
# urljoin and normalise_feed_url would give back as it is.
_PLAIN_PATH = re.compile(
    r"/(?!/)[A-Za-z0-9._~!$&'()*+,=:@%/-]*(?:\?[A-Za-z0-9._~!$&'()*+,=:@%/?-]*)?\Z"
)


class SiteLinks:
    """The links of one page, resolved as `absolute_url` does, with each href and
    each host worked out once (a page of 300 KB has thousands of links)."""

    def __init__(self, page_url: str, base: str) -> None:
        self._base = base
        self._site = site_of(page_url)
        canonical_base = absolute_url(base, base)
        parts = urlsplit(canonical_base) if canonical_base else None
        # Links like "/en/news/1" are most of a page; they resolve without urljoin.
        self._origin = f"{parts.scheme}://{parts.netloc}" if parts else None
        self._resolved: dict[str, str | None] = {}
        self._sites: dict[str, bool] = {}
        self.page = absolute_url(page_url, page_url)

    def resolve(self, href: str | None) -> str | None:
        if not href:
            return None
        if href in self._resolved:
            return self._resolved[href]
        stripped = href.strip()
        path = stripped.split("#", 1)[0]
        if self._origin and _PLAIN_PATH.match(path) and "/." not in path:
            if path.endswith("?") and path.count("?") == 1:
                path = path[:-1]  # an empty query is no query, as urlunsplit writes it
            url: str | None = self._origin + path
        else:
            url = absolute_url(stripped, self._base)
        self._resolved[href] = url
        return url

    def on_site(self, url: str) -> bool:
        """The URL is on the page's own site (see `same_site`)."""
        netloc = url.split("/", 3)[2] if url.count("/") >= 2 else url
        found = self._sites.get(netloc)
        if found is None:
            found = bool(self._site) and site_of(url) == self._site
            self._sites[netloc] = found
        return found


def class_words(element: lxml.html.HtmlElement) -> list[str]:
    """The words of an element's class and id ("news-item col_2" → news, item, col, 2)."""
    names = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
    return re.split(r"[\s_\-]+", names.strip()) if names.strip() else []


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

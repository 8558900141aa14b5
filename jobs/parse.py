"""Feed bytes to clean statements: feedparser on fetched bytes, normalised into NewItems.

Pure and synchronous (callers run it in a worker thread); nothing here touches the
network. Any input bytes either give a ParsedFeed or raise NotAFeedError.
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import io
import re
import xml.sax
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import feedparser

from storage.models import NewItem
from text.plain import first_words, html_to_text_and_prose, one_line, plain_text
from text.summary import lead, summarise


class NotAFeedError(ValueError):
    """The body is not a feed; the message is meant for an admin."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None  # plain text
    link: str | None  # the site's link, absolute
    ttl_seconds: int | None  # RSS <ttl> (minutes there) in seconds, None if absent/invalid
    entries: list[NewItem]  # feed order, duplicates by identity removed (first kept)
    # For each entry with a guid or link: a hash of that key → a digest of the entry
    # as the feed wrote it. Given back to the next parse of the same feed (`known`),
    # it lets entries that did not change skip normalising and storing.
    digests: dict[int, int] = field(default_factory=dict)
    unchanged: int = 0  # entries skipped because `known` had them, unchanged
    # False: the body was cut short inside an entry, which was left out. Its
    # validators must not be kept, or the next poll would get a 304 and never the
    # whole body.
    whole: bool = True
    language: str | None = None  # <language>, xml:lang or JSON Feed's language, as given


def language_tag(value: object) -> str | None:
    """A source's language as it wrote it ("en-GB", "ru"), one short line, or None."""
    if not isinstance(value, str):
        return None
    tag = one_line(value).split(",")[0].strip()
    return tag[:35] or None


_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_LINK_SCHEMES = frozenset({"http", "https"})
_MIN_YEAR = 1990
_MAX_YEAR = 2100

# Entity declarations in the DTD are how "billion laughs" and quadratic-blowup
# bodies work. feedparser drops nested ones but keeps "safe" ones (a plain value of
# any length) and expands them itself, so one 50 kB entity used 20,000 times costs
# seconds and gigabytes. Only aliases of a single character reference (&nbsp; and
# friends, copied from HTML DTDs) are harmless; every other declaration goes, and
# its references stay as literal text.
_ELEMENT_START = re.compile(rb"<\w")
_UNSAFE_ENTITY_DECL = re.compile(rb"<!ENTITY(?!\s+\w+\s+\"&#\w+;\"\s*>)[^>]*>?")
_ENTITY_DECL_TEXT = "<!ENTITY"
_XML_DECL_ENCODING = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)")
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))


def entry_identity(
    guid: str | None, link: str | None, title: str, published: str | None, summary: str
) -> str:
    """SHA-256 hex of the guid, else of the link, else of title, published time and summary.

    Each kind has its own prefix so a guid "x" and a link "x" never collide.
    """
    if guid:
        material = f"guid:{guid}"
    elif link:
        material = f"link:{link}"
    else:
        material = "text:" + "\x1f".join((title, published or "", summary))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


def parse_feed(
    content: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    known: Mapping[int, int] | None = None,
) -> ParsedFeed:
    """Parse fetched feed bytes (RSS, Atom, or JSON Feed) into a ParsedFeed.

    `headers` are the response headers (any case); their charset decides the
    decoding, and Content-Location (else `url`) is the base for relative links.
    `known` is the `digests` of this feed's last stored parse: entries found there
    unchanged are left out of `entries` (they are stored already).
    Raises NotAFeedError, and nothing else, when the body is not a feed.
    """
    from jobs.jsonfeed import looks_like_json_feed, parse_json_feed  # it imports this module

    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        if looks_like_json_feed(content, lowered):
            return parse_json_feed(content, url=url, headers=lowered, known=known)
        return _parse(content, url=url, headers=lowered, known=known or {})
    except NotAFeedError:
        raise
    except Exception as exc:
        # feedparser and the codecs can fail in odd ways on hostile bytes; whatever
        # the failure, for the caller it means "this is not a feed".
        raise NotAFeedError(f"not a feed: the parser failed ({type(exc).__name__})") from exc


def _parse(
    content: bytes, *, url: str, headers: dict[str, str], known: Mapping[int, int]
) -> ParsedFeed:
    if not content.strip():
        raise NotAFeedError("not a feed: the body is empty")
    content = _defuse_entities(content, headers)
    # Only the media type goes to feedparser: any other header without a
    # Content-Type makes it assume ISO-8859-1 for undeclared UTF-8. Content-Location
    # is applied by us, not by feedparser, because feedparser would also resolve
    # guids against it and a feed that moves would see every identity change.
    parser_headers = {
        key: headers[key] for key in ("content-type", "content-language") if key in headers
    }
    result = feedparser.parse(
        io.BytesIO(content),
        response_headers=parser_headers,
        resolve_relative_uris=False,  # we keep text only; links are resolved below
        # Every string becomes plain text (html_to_text drops tags, and scripts and
        # styles with their content) and is escaped again before it reaches
        # Telegram, so feedparser's HTML sanitizer would be work thrown away.
        sanitize_html=False,
    )
    base = urljoin(url, headers["content-location"]) if "content-location" in headers else url
    feed = result.get("feed", {})
    raw_entries: list[Any] = result.get("entries", [])
    title = _detail_text(feed.get("title_detail"), feed.get("title"))
    if not raw_entries and not title:
        if not result.get("version"):
            raise NotAFeedError(_why_not_a_feed(content, headers))
        if result.get("bozo"):
            # A feed element but broken XML and nothing usable: most likely cut short.
            raise NotAFeedError("not a feed: malformed XML with no entries (truncated?)")

    whole = not (raw_entries and _ends_inside_an_entry(result, content))
    if not whole:
        # The body stops inside its last entry (a dropped connection, a proxy's size
        # limit): that entry may lack its lead or its date, and would be stored and
        # pushed that way. Left out; the next whole poll brings it complete.
        raw_entries = raw_entries[:-1]
        if not raw_entries:
            # Nothing whole at all: storing an empty first poll would make the feed's
            # whole backlog look new next time.
            raise NotAFeedError("not a feed: the body ends inside its first entry (cut off?)")

    collected = collect_entries(
        raw_entries,
        known,
        key=_raw_key,
        digest=_raw_digest,
        normalise=lambda raw: _normalise_entry(raw, base),
    )
    entries, digests, unchanged = collected
    return ParsedFeed(
        title=one_line(title) or None,
        link=_absolute_link(feed.get("link"), base),
        ttl_seconds=_ttl_seconds(feed.get("ttl")),
        entries=entries,
        digests=digests,
        unchanged=unchanged,
        whole=whole,
        language=language_tag(feed.get("language")),
    )


# One entry as a format's parser gives it (feedparser's dict, a JSON object).
RawEntry = TypeVar("RawEntry")


def collect_entries(
    raws: Iterable[RawEntry],
    known: Mapping[int, int],
    *,
    key: Callable[[RawEntry], int | None],
    digest: Callable[[RawEntry], int],
    normalise: Callable[[RawEntry], NewItem | None],
) -> tuple[list[NewItem], dict[int, int], int]:
    """A feed's entries as statements, whatever the format: the first of repeated
    keys (guid or link) counts; an entry whose digest `known` holds unchanged is left
    out (stored already); statements repeated by identity once. Returns the
    statements, every key's digest (for the next poll's `known`), and how many were
    left out unchanged."""
    entries: list[NewItem] = []
    seen: set[str] = set()
    digests: dict[int, int] = {}
    unchanged = 0
    for raw in raws:
        entry_key = key(raw)
        if entry_key is not None:
            if entry_key in digests:
                continue  # the same guid (or link) again: the first one counts
            digests[entry_key] = entry_digest = digest(raw)
            if known.get(entry_key) == entry_digest:
                unchanged += 1
                continue
        item = normalise(raw)
        if item is not None and item.identity not in seen:
            seen.add(item.identity)
            entries.append(item)
    return entries, digests, unchanged


# What expat says when the document ends before its root element is closed.
_CUT_SHORT = frozenset(
    {"no element found", "unclosed token", "unclosed CDATA section", "unclosed comment"}
)
# A whole start tag of an entry (not `<items>`, not a tag cut in half).
_ENTRY_START = re.compile(rb"<(?:item|entry)(?:\s[^>]*)?>")


def _ends_inside_an_entry(result: Mapping[str, Any], content: bytes) -> bool:
    """The XML ends early, inside an entry that was opened (so feedparser made an
    entry of it) and never closed."""
    error = result.get("bozo_exception")
    if not isinstance(error, xml.sax.SAXParseException) or error.getMessage() not in _CUT_SHORT:
        return False
    closed = max(content.rfind(b"</item>"), content.rfind(b"</entry>"))
    return _ENTRY_START.search(content, closed + 1) is not None


def _normalise_entry(raw: Mapping[str, Any], base: str) -> NewItem | None:
    guid = _clean_guid(raw.get("id"))
    link_value = raw.get("link")
    if raw.get("guidislink") and link_value == raw.get("id") and not _is_web_url(link_value):
        # feedparser copies a permalink guid into link; a guid like "1234" is no link.
        link_value = None
    link = _absolute_link(link_value, base)
    title = one_line(_detail_text(raw.get("title_detail"), raw.get("title")))
    content, prose = _fullest_text(raw)
    published_at = _published_at(raw)
    published = published_at.isoformat() if published_at else _as_str(raw.get("published"))
    return new_item(guid, link, title, content, prose, published_at, published)


def new_item(
    guid: str | None,
    link: str | None,
    title: str,
    content: str,
    prose: str,
    published_at: datetime | None,
    published: str | None,
) -> NewItem | None:
    """An entry of any feed format from its parts (None: it has nothing to show):
    `content` its whole text, `prose` that text without what is not its body (a
    photo's caption), `published` its date as identity reads it."""
    if not (guid or link or title or content):
        return None
    # The lead is the first paragraph of prose: a photo's caption above it is not.
    summary = summarise(prose) or summarise(content)
    # What names an entry that has no guid and no link, and the stand-in title of one
    # without a title: its lead, which the summariser's version does not change (an
    # upgrade must not make stored statements look new, nor retitle them).
    first = lead(prose) or lead(content)
    # The stand-in title is part of an untitled entry's identity, as it always was.
    title = title or first_words(first)
    return NewItem(
        identity=entry_identity(guid, link, title, published, first),
        guid=guid,
        link=link,
        title=title,
        summary=summary,
        content=content,
        published_at=published_at,
    )


def _raw_key(raw: Mapping[str, Any]) -> int | None:
    """A hash of the entry's guid, else its link, as written; None without either."""
    for name in ("id", "link"):
        value = raw.get(name)
        if isinstance(value, str) and value.strip():
            material = f"{name}\x1f{value}".encode("utf-8", "surrogatepass")
            return int.from_bytes(hashlib.blake2b(material, digest_size=8).digest(), "big")
    return None


def _raw_digest(raw: Mapping[str, Any]) -> int:
    """A digest of everything normalising reads from the entry, as feedparser gave it."""
    # `in` first: FeedParserDict.get("updated") falls back to "published" with a
    # DeprecationWarning.
    parts: list[object] = [raw[name] if name in raw else None for name in _DIGESTED]
    for name in ("title_detail", "summary_detail"):
        detail = raw.get(name)
        parts.append(detail.get("type") if isinstance(detail, Mapping) else None)
    contents = raw.get("content")
    if isinstance(contents, list):
        for part in contents:
            if isinstance(part, Mapping):
                parts += [part.get("type"), part.get("value")]
    parts += [raw[name] if name in raw else None for name in _DIGESTED_DATES]
    material = "\x1e".join(repr(p) for p in parts).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(material, digest_size=16).digest(), "big")


_DIGESTED = ("id", "link", "title", "summary", "published", "updated")
_DIGESTED_DATES = ("published_parsed", "updated_parsed", "guidislink")


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _detail_text(detail: Any, fallback: object) -> str:
    """Plain text of a feedparser text construct, honouring its declared type."""
    return _detail_texts(detail, fallback)[0]


def _detail_texts(detail: Any, fallback: object) -> tuple[str, str]:
    """`_detail_text`, and the same without figures (where the lead is)."""
    if isinstance(detail, Mapping):
        value = detail.get("value")
        kind = detail.get("type")
    else:
        # No declared type (feedparser copies Atom content into `summary` this way):
        # reading it as HTML drops tags and still keeps plain text intact.
        value, kind = fallback, "text/html"
    if not isinstance(value, str):
        return "", ""
    if kind in _HTML_TYPES:
        return html_to_text_and_prose(value)
    text = plain_text(value)
    return text, text


def _fullest_text(raw: Mapping[str, Any]) -> tuple[str, str]:
    """The longest text among the entry's contents and its description/summary, and
    that text without its figures."""
    candidates: list[tuple[str, str]] = []
    contents = raw.get("content")
    if isinstance(contents, list):
        candidates.extend(_detail_texts(part, None) for part in contents)
    candidates.append(_detail_texts(raw.get("summary_detail"), raw.get("summary")))
    # max() keeps the first of equal lengths: full content before the description.
    return max(candidates, key=lambda texts: len(texts[0]))


def _clean_guid(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return one_line(plain_text(value)) or None


def _is_web_url(value: object) -> bool:
    return isinstance(value, str) and urlsplit(value.strip()).scheme.lower() in _LINK_SCHEMES


def _absolute_link(value: object, base: str) -> str | None:
    """An absolute http(s) link, or None: other schemes are no use in a message."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        absolute = urljoin(base, value.strip())
        parts = urlsplit(absolute)
    except ValueError:  # e.g. a malformed IPv6 host
        return None
    if parts.scheme.lower() not in _LINK_SCHEMES or not parts.netloc:
        return None
    return absolute


def _published_at(raw: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        # `in` first: FeedParserDict.get("updated_parsed") falls back to the
        # published date with a DeprecationWarning.
        parsed = raw[key] if key in raw else None
        if parsed is None:
            continue
        try:
            # feedparser's struct_time is already UTC.
            moment = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            continue
        if _MIN_YEAR <= moment.year <= _MAX_YEAR:
            return moment
    return None


def _ttl_seconds(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        minutes = int(value.strip())
    except ValueError:
        return None
    return minutes * 60 if minutes > 0 else None


def _why_not_a_feed(content: bytes, headers: Mapping[str, str]) -> str:
    head = content[:4096].lower()
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in {"text/html", "application/xhtml+xml"} or any(
        marker in head for marker in (b"<!doctype html", b"<html", b"<body", b"<head")
    ):
        return "not a feed: the server sent an HTML page"
    if b"\x00" in head and not _declared_encodings(content, headers):
        return "not a feed: the body is binary data"
    if b"<" not in head:
        return "not a feed: the body is not XML"
    return "not a feed: no RSS or Atom feed element found"


def _declared_encodings(content: bytes, headers: Mapping[str, str]) -> set[str]:
    """Encodings feedparser may decode with that come from the body or the headers."""
    found: set[str] = set()
    for bom, name in _BOMS:
        if content.startswith(bom):
            found.add(name)
            break
    # Byte patterns of "<?" in UTF-16/32 without a BOM, as XML's appendix F sniffs.
    for marker, name in (
        (b"\x00\x00\x00<", "utf-32-be"),
        (b"<\x00\x00\x00", "utf-32-le"),
        (b"\x00<\x00?", "utf-16-be"),
        (b"<\x00?\x00", "utf-16-le"),
        (b"\x4c\x6f\xa7\x94", "cp037"),
    ):
        if content.startswith(marker):
            found.add(name)
    if charset := _CHARSET_PARAM.search(headers.get("content-type", "")):
        found.add(charset.group(1))
    if declared := _XML_DECL_ENCODING.match(content[:512].lstrip()):
        found.add(declared.group(1).decode("ascii"))
    return found


def _ascii_transparent(encoding: str) -> bool | None:
    """True when printable ASCII bytes decode to themselves; None for an unknown codec."""
    try:
        return _PRINTABLE_ASCII.decode(encoding) == _PRINTABLE_ASCII.decode("ascii")
    except LookupError:
        return None
    except UnicodeDecodeError:
        return False


def _defuse_entities(content: bytes, headers: Mapping[str, str]) -> bytes:
    """Drop DTD entity declarations that could expand; refuse what we cannot rewrite."""
    start = _ELEMENT_START.search(content)
    head_end = start.start() if start else len(content)
    head = content[:head_end]
    if b"<!ENTITY" in head:
        # Removing one declaration could join two halves into a new one: repeat.
        while (stripped := _UNSAFE_ENTITY_DECL.sub(b"", head)) != head:
            head = stripped
        content = head + content[head_end:]
    for encoding in _declared_encodings(content, headers):
        if _ascii_transparent(encoding) is not False:
            continue  # the byte-level pass above saw what feedparser will see
        text = content.decode(encoding, "replace")
        element = re.search(r"<\w", text)
        if _ENTITY_DECL_TEXT in text[: element.start() if element else len(text)]:
            raise NotAFeedError(
                f"not a feed: it declares XML entities in {encoding}, refused for safety"
            )
    return content

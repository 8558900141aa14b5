"""JSON Feed 1.0 and 1.1 bytes to the same ParsedFeed as RSS and Atom.

The rules are jobs.parse's: identity from `id`, else `url`, else the text; content
from `content_html` (as HTML) or `content_text`, whichever is fuller, beside the
item's `summary`; the summary is the lead of that text; dates from
`date_published`, else `date_modified`; a missing title is the first words of the
summary; relative URLs resolve against the feed's URL. Anything that is not a JSON
Feed, or is built to hurt (huge, deeply nested, wrong types), is a NotAFeedError,
never a crash. Called by jobs.parse.parse_feed for JSON bodies.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

# _absolute_link: links follow exactly the rule of RSS and Atom links, so that a
# site moving from RSS to JSON Feed keeps its statements' identities.
from jobs.parse import (
    NotAFeedError,
    ParsedFeed,
    _absolute_link,
    collect_entries,
    language_tag,
    new_item,
)
from storage.models import NewItem
from text.date_parse import parse_iso_datetime
from text.plain import html_to_text_and_prose, one_line, plain_text

VERSIONS = frozenset(
    {
        "https://jsonfeed.org/version/1",
        "https://jsonfeed.org/version/1.1",
        # Early 1.0 feeds were published with http.
        "http://jsonfeed.org/version/1",
        "http://jsonfeed.org/version/1.1",
    }
)
_JSON_TYPES = frozenset({"application/feed+json", "application/json"})


def looks_like_json_feed(content: bytes, headers: Mapping[str, str]) -> bool:
    """A body to parse as JSON: served as JSON (and not starting with "<"), or
    starting with "{" whatever the server said."""
    start = content[:64].lstrip(codecs.BOM_UTF8 + b" \t\r\n")
    if start.startswith(b"{"):
        return True
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return bool(start) and media_type in _JSON_TYPES and not start.startswith(b"<")


def parse_json_feed(
    content: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    known: Mapping[int, int] | None = None,
) -> ParsedFeed:
    """Parse JSON Feed bytes (`headers` lower-cased, as parse_feed passes them).
    `known` works as in parse_feed: entries unchanged since then are left out."""
    try:
        document = json.loads(content)
    except RecursionError:
        raise NotAFeedError("not a feed: the JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotAFeedError(f"not a feed: malformed JSON ({_short(exc)})") from None
    if not isinstance(document, dict):
        raise NotAFeedError("not a feed: JSON, but not a JSON Feed (no object at the top)")
    version = document.get("version")
    if not isinstance(version, str) or version.strip() not in VERSIONS:
        raise NotAFeedError("not a feed: JSON without a JSON Feed version (jsonfeed.org/version/1)")
    base = urljoin(url, headers["content-location"]) if "content-location" in headers else url
    title = one_line(plain_text(_text(document.get("title"))))
    raw_items = document.get("items")
    items = (
        [item for item in raw_items if isinstance(item, dict)]
        if isinstance(raw_items, list)
        else []
    )
    if not items and not title:
        raise NotAFeedError("not a feed: a JSON Feed with no title and no items")

    entries, digests, unchanged = collect_entries(
        items,
        known or {},
        key=_raw_key,
        digest=_raw_digest,
        normalise=lambda raw: _entry(raw, base),
    )
    return ParsedFeed(
        title=title or None,
        link=_absolute_link(document.get("home_page_url"), base),
        ttl_seconds=None,
        entries=entries,
        digests=digests,
        unchanged=unchanged,
        language=language_tag(document.get("language")),
    )


def _entry(raw: Mapping[str, Any], base: str) -> NewItem | None:
    guid = _identifier(raw.get("id"))
    link = _absolute_link(raw.get("url"), base)
    title = one_line(plain_text(_text(raw.get("title"))))
    candidates = [
        html_to_text_and_prose(_text(raw.get("content_html"))),
        (plain_text(_text(raw.get("content_text"))),) * 2,
        (plain_text(_text(raw.get("summary"))),) * 2,
    ]
    # max() keeps the first of equal lengths: full content before the summary.
    content, prose = max(candidates, key=lambda texts: len(texts[0]))
    published_at = _date(raw.get("date_published")) or _date(raw.get("date_modified"))
    published = published_at.isoformat() if published_at else None
    return new_item(guid, link, title, content, prose, published_at, published)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _identifier(value: object) -> str | None:
    """JSON Feed 1.1: an id that is a number (or another scalar) is read as a string."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    return one_line(plain_text(value)) or None


def _date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    moment = parse_iso_datetime(value, zone=UTC)
    return moment.astimezone(UTC) if moment else None


def _raw_key(raw: Mapping[str, Any]) -> int | None:
    for name in ("id", "url"):
        value = raw.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            material = f"{name}\x1f{value}".encode("utf-8", "surrogatepass")
            return int.from_bytes(hashlib.blake2b(material, digest_size=8).digest(), "big")
    return None


def _raw_digest(raw: Mapping[str, Any]) -> int:
    try:
        material = json.dumps(raw, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        material = repr(sorted(raw))
    digest = hashlib.blake2b(material.encode("utf-8", "surrogatepass"), digest_size=16)
    return int.from_bytes(digest.digest(), "big")


def _short(exc: Exception) -> str:
    return str(exc).split(":")[0][:80]

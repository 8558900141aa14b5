"""OPML import and export (pure): the list of feeds as other readers exchange it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from storage.models import Feed

MAX_OPML_BYTES = 5 * 1024 * 1024


class OpmlError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None


def parse_opml(content: bytes) -> tuple[list[OpmlFeed], list[tuple[str, str]]]:
    """Feeds in an OPML document, and (what, why) for each outline refused."""
    if len(content) > MAX_OPML_BYTES:
        raise OpmlError(f"the file is too large (over {MAX_OPML_BYTES // 1024 // 1024} MB)")
    if b"<!DOCTYPE" in content[:4096].upper() or b"<!ENTITY" in content.upper():
        raise OpmlError("the file declares a DOCTYPE or entities, which OPML does not need")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise OpmlError(f"not an OPML file: {exc}") from None
    if root.tag.lower() != "opml":
        raise OpmlError(f"not an OPML file: the root element is <{root.tag[:40]}>")
    feeds: list[OpmlFeed] = []
    refused: list[tuple[str, str]] = []
    seen: set[str] = set()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
            refused.append((url[:200], "not an http(s) URL"))
            continue
        if url in seen:
            continue
        seen.add(url)
        title = (outline.get("title") or outline.get("text") or "").strip() or None
        feeds.append(OpmlFeed(url, title[:200] if title else None))
    return feeds, refused


def render_opml(feeds: Sequence[Feed], title: str = "Communique feeds") -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_text(title)}</title></head>",
        "  <body>",
    ]
    for feed in feeds:
        name = feed.title or feed.url
        lines.append(
            f'    <outline type="rss" text={quoteattr(name)} title={quoteattr(name)}'
            f" xmlUrl={quoteattr(feed.url)}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

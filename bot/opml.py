"""OPML import and export: the list of feeds as other readers exchange it.

Parsing and rendering are pure; `import_opml` stores what a file holds (no fetch:
new feeds are polled on the next cycle, which stores their backlog silently).
A web page read as a list is an outline of type "html" with its `htmlUrl` (and our
own `selectors` attribute when an admin gave them). A feed's address that turns out
to be a web page is looked into at its first poll: the feed the page names is
polled instead, else its list of statements is (jobs.poll).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import quoteattr

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from jobs.netguard import is_forbidden_ip, parse_numeric_host
from jobs.page_list import SelectorError, Selectors
from jobs.urls import normalise_feed_url
from storage.models import Feed, FeedKind, NewFeed
from storage.store import Store
from text.i18n import N_, translator
from text.markup import esc
from text.phrase import Phrase, say

MAX_OPML_BYTES = 5 * 1024 * 1024

# Why an outline is refused: English as the command line prints it, and said in
# each admin's language in the bot's reply.
NOT_HTTP = N_("not an http(s) URL")
NOT_AN_ADDRESS = N_("not a valid address")
PRIVATE = N_("a private address (ALLOW_PRIVATE_FEEDS is off)")


class OpmlError(ValueError):
    """A file that is not OPML; its message is a Phrase (`say(str(exc), tr)`)."""

    def __init__(self, reason: Phrase) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None
    kind: FeedKind = "feed"
    selectors: str | None = None  # a page's, as /addpage words


def parse_opml(content: bytes) -> tuple[list[OpmlFeed], list[tuple[str, str]]]:
    """Feeds in an OPML document, and (what, why) for each outline refused."""
    if len(content) > MAX_OPML_BYTES:
        raise OpmlError(
            Phrase(
                N_("the file is too large (over {size} MB)"),
                size=MAX_OPML_BYTES // 1024 // 1024,
            )
        )
    try:
        # No DTD at all: OPML needs none, and entities are how XML bombs work.
        root = SafeET.fromstring(content, forbid_dtd=True)
    except DefusedXmlException:
        raise OpmlError(
            Phrase(N_("the file declares a DOCTYPE or entities, which OPML does not need"))
        ) from None
    except ParseError as exc:
        raise OpmlError(Phrase(N_("not an OPML file: {error}"), error=str(exc))) from None
    if root.tag.lower() != "opml":
        raise OpmlError(
            Phrase(N_("not an OPML file: the root element is <{element}>"), element=root.tag[:40])
        )
    feeds: list[OpmlFeed] = []
    refused: list[tuple[str, str]] = []
    seen: set[str] = set()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        kind: FeedKind = "feed"
        selectors = None
        if not url and (outline.get("type") or "").strip().lower() == "html":
            # A web page read as a list (our export writes them so).
            url = (outline.get("htmlUrl") or outline.get("htmlurl") or "").strip()
            kind = "page"
            if words := (outline.get("selectors") or "").strip():
                try:
                    selectors = Selectors.from_words(words)[0].to_words()
                except SelectorError as exc:
                    refused.append(
                        (url[:200], Phrase(N_("bad selectors: {error}"), error=str(exc)))
                    )
                    continue
        if not url:
            continue
        try:
            if len(url) > 2000:
                raise ValueError("the URL is too long")
            url = normalise_feed_url(url)
        except ValueError:
            refused.append((url[:200], Phrase(NOT_HTTP)))
            continue
        if url in seen:
            continue
        seen.add(url)
        title = (outline.get("title") or outline.get("text") or "").strip() or None
        feeds.append(OpmlFeed(url, title[:200] if title else None, kind, selectors))
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
        named = f"text={quoteattr(name)} title={quoteattr(name)}"
        if feed.is_page:
            selectors = f" selectors={quoteattr(feed.selectors)}" if feed.selectors else ""
            lines.append(
                f'    <outline type="html" {named} htmlUrl={quoteattr(feed.url)}{selectors}/>'
            )
        else:
            lines.append(f'    <outline type="rss" {named} xmlUrl={quoteattr(feed.url)}/>')
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def refuse_private(
    feeds: Sequence[OpmlFeed], *, allow_private: bool
) -> tuple[list[OpmlFeed], list[tuple[str, str]]]:
    """Without ALLOW_PRIVATE_FEEDS, refuse hosts that are plainly this machine or a
    private network (numbers, localhost). Names are checked when polled, not here:
    resolving 2,000 names would make an import slow and prove little."""
    if allow_private:
        return list(feeds), []
    kept: list[OpmlFeed] = []
    refused: list[tuple[str, str]] = []
    for feed in feeds:
        host = (urlsplit(feed.url).hostname or "").lower().rstrip(".")
        try:
            address = parse_numeric_host(host)
        except ValueError:
            refused.append((feed.url[:200], Phrase(NOT_AN_ADDRESS)))
            continue
        if host == "localhost" or host.endswith(".localhost"):
            refused.append((feed.url[:200], Phrase(PRIVATE)))
        elif address is not None and is_forbidden_ip(address):
            refused.append((feed.url[:200], Phrase(PRIVATE)))
        else:
            kept.append(feed)
    return kept, refused


@dataclass(slots=True)
class ImportResult:
    added: list[Feed] = field(default_factory=list)
    existing: list[tuple[str, int]] = field(default_factory=list)  # (url, feed id)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (url, why)


IMPORT_CHUNK = 200


async def import_opml(
    store: Store,
    content: bytes,
    *,
    allow_private: bool,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Add the feeds of an OPML document. Raises OpmlError for a file that is not OPML.

    Stored in transactions of `IMPORT_CHUNK` feeds; `progress(done, total)` after each.
    """
    feeds, refused = parse_opml(content)
    feeds, private = refuse_private(feeds, allow_private=allow_private)
    result = ImportResult(refused=refused + private)
    total = len(feeds)
    for start in range(0, total, IMPORT_CHUNK):
        chunk = feeds[start : start + IMPORT_CHUNK]
        added, existing = await store.add_feeds(
            [NewFeed(f.url, f.title, f.kind, f.selectors) for f in chunk]
        )
        result.added.extend(added)
        result.existing.extend(existing)
        if progress is not None:
            progress(start + len(chunk), total)
    return result


MAX_LISTED = 15


def render_import_summary(result: ImportResult, filename: str, language: str = "en") -> str:
    """The Telegram reply to an imported file (HTML), in `language`."""
    tr = translator(language)
    _ = tr.gettext
    lines = [
        _("<b>Imported {name}</b>").format(name=esc(filename[:100])),
        _("Added: {added}; already there: {existing}; refused: {refused}.").format(
            added=len(result.added), existing=len(result.existing), refused=len(result.refused)
        ),
    ]
    if result.added:
        shown = ", ".join(f"{f.id}. {esc((f.title or f.url)[:60])}" for f in result.added[:10])
        if len(result.added) > 10:
            left = len(result.added) - 10
            lines.append(
                tr.ngettext(
                    "New: {feeds} and {count} more.", "New: {feeds} and {count} more.", left
                ).format(feeds=shown, count=left)
            )
        else:
            lines.append(_("New: {feeds}.").format(feeds=shown))
        lines.append(
            _(
                "They are fetched on the next poll (/pollnow to do it now); what they hold "
                "now is stored, not pushed."
            )
        )
    if result.refused:
        lines.append(_("Refused:"))
        lines += [
            f"• {esc(url[:100])}: {esc(say(why, tr))}" for url, why in result.refused[:MAX_LISTED]
        ]
        if len(result.refused) > MAX_LISTED:
            left = len(result.refused) - MAX_LISTED
            lines.append(
                tr.ngettext("…and {count} more", "…and {count} more", left).format(count=left)
            )
    return "\n".join(lines)

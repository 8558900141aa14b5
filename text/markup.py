"""Building blocks for Telegram-HTML messages: escaping, links, cutting and packing.

Telegram counts a message's length *after* entity parsing (tags removed, entities
decoded), in UTF-16 code units, and refuses anything over 4096. Every length here
is measured the same way, so a renderer that stays within these helpers never sends
a message Telegram rejects for its size.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from text.plain import ELLIPSIS, telegram_html_to_plain

TELEGRAM_LIMIT = 4096

# Schemes Telegram turns into a working link; anything else (javascript:, data:,
# relative paths) is shown as text so a hostile feed cannot plant a link.
_LINK_SCHEMES = frozenset({"http", "https", "tg"})

# Whitespace or control characters inside a URL mean it is not one we should trust
# inside an href; Telegram would reject or mangle it anyway.
_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\s]")

_TAG = re.compile(r"<[^>]*>")
# Telegram decodes only these named entities plus every numeric one; matching its
# subset exactly keeps our lengths equal to Telegram's.
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def esc(text: str) -> str:
    """Escape feed text for Telegram HTML (``& < > " '``)."""
    return html.escape(text, quote=True)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits."""
    # surrogatepass: a stray lone surrogate still counts as one unit instead of failing.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def is_link_url(url: str) -> bool:
    """True when ``url`` is safe and useful as an ``href`` (http, https or tg)."""
    if not url or _BAD_URL_CHARS.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host
        return False
    if parts.scheme.lower() not in _LINK_SCHEMES:
        return False
    # http(s) without a host is not a page anyone can open.
    return parts.scheme.lower() == "tg" or bool(parts.netloc)


def link(url: str, label: str) -> str:
    """``<a href="url">label</a>``, both escaped; an unsafe URL gives just the label."""
    if not label.strip():
        label = url
    if not is_link_url(url):
        return esc(label)
    return f'<a href="{esc(url)}">{esc(label)}</a>'


def truncate_text(text: str, limit: int) -> str:
    """Cut plain ``text`` to at most ``limit`` UTF-16 units, between words, ending in "…".

    Measured in UTF-16 units (never fewer than code points), so ``len(result) <=
    limit`` holds too. Cut plain text before escaping it, so a cut can never land
    inside a tag or an entity.
    """
    if limit <= 0:
        return ""
    if utf16_length(text) <= limit:
        return text
    budget = limit - 1  # room for the ellipsis
    units = 0
    end = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > budget:
            break
        end = index + 1
    head = text[:end]
    # Back off to the last word boundary unless that throws away more than half:
    # one enormous "word" (a URL, CJK text) is better cut mid-way than emptied.
    if end < len(text) and not text[end].isspace():
        space = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
        if space > end // 2:
            head = head[:space]
    return head.rstrip() + ELLIPSIS


def _decode_entity(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code > 0x10FFFF:
        return match.group(0)
    return chr(code)


def _decode(text: str) -> str:
    return _ENTITY.sub(_decode_entity, text)


def visible_text(html_text: str) -> str:
    """The text Telegram shows for ``html_text``: tags dropped, entities decoded."""
    return _decode(_TAG.sub("", html_text))


def visible_length(html_text: str) -> int:
    """Length after entity parsing, in UTF-16 code units (what Telegram's 4096 counts)."""
    return utf16_length(visible_text(html_text))


def split_messages(
    blocks: Sequence[str],
    limit: int = TELEGRAM_LIMIT,
    sep: str = "\n\n",
    *,
    max_blocks: int | None = None,
) -> list[str]:
    """Pack rendered HTML blocks into as few messages as possible, in order.

    Each message is at most ``limit`` visible UTF-16 units, and its raw HTML stays
    within a few times that (escaping can make raw text up to six times longer).
    Blocks are never split; a block that alone exceeds ``limit`` (a renderer's bug)
    is sent as escaped, truncated plain text rather than dropped or rejected.
    ``sep`` must be plain text (no tags or entities). With `max_blocks`, no message
    holds more blocks than that (pages of a list). Empty blocks are left out.
    """
    return [text for text, _ in pack_blocks(blocks, limit, sep, max_blocks=max_blocks)]


def pack_blocks(
    blocks: Sequence[str],
    limit: int = TELEGRAM_LIMIT,
    sep: str = "\n\n",
    *,
    max_blocks: int | None = None,
) -> list[tuple[str, list[int]]]:
    """`split_messages`, telling also which blocks (by index) each message holds, so
    that a message sent can be accounted for block by block."""
    raw_limit = 8 * limit
    sep_units = utf16_length(sep)
    messages: list[tuple[str, list[int]]] = []
    current: list[str] = []
    indices: list[int] = []
    current_units = 0
    current_raw = 0
    for index, block in enumerate(blocks):
        if not block:
            continue
        units = visible_length(block)
        if units > limit:
            block = esc(truncate_text(telegram_html_to_plain(block), limit))
            units = visible_length(block)
        # Lengths add up because blocks are well-formed and sep is plain text.
        extra_units = units + (sep_units if current else 0)
        extra_raw = len(block) + (len(sep) if current else 0)
        full = max_blocks is not None and len(current) >= max_blocks
        if current and (
            full or current_units + extra_units > limit or current_raw + extra_raw > raw_limit
        ):
            messages.append((sep.join(current), indices))
            current, indices, current_units, current_raw = [], [], 0, 0
            extra_units, extra_raw = units, len(block)
        current.append(block)
        indices.append(index)
        current_units += extra_units
        current_raw += extra_raw
    if current:
        messages.append((sep.join(current), indices))
    return messages

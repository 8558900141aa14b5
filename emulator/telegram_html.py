"""Telegram's HTML parse mode, as the Bot API itself parses it.

Renderers use this to check that a message will be accepted (and how long it
is once the tags are gone) without a network; the fake Bot API uses it to
refuse exactly what Telegram refuses. The parser follows the algorithm of
Telegram's own (tdlib's ``parse_html``) closely, including its quirks: tags
are recognised only by name, an attribute value without quotes may hold only
letters, digits, ``.`` and ``-``, an entity's trailing ``;`` is optional, and
error positions are *byte* offsets into the UTF-8 text.

One deliberate difference: Telegram keeps a bare ``&`` that starts no known
entity as a literal character. Here that is an error unless
``strict_ampersand=False``, because an unescaped ``&`` in our output always
means a feed string skipped escaping (``R&amp;D`` would silently show as
``R&D``), and the test rig exists to catch exactly that.

Lengths: Telegram's 4096 limit is "characters after entities parsing". Entity
offsets are counted in UTF-16 code units, and whether the limit counts code
points or UTF-16 units is not documented; :func:`telegram_length` counts UTF-16
units, which is never less than the code point count, so text that fits by it
fits by either reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_CAPTION_LENGTH",
    "MAX_MESSAGE_LENGTH",
    "HTMLEntity",
    "TelegramHTMLError",
    "parse_telegram_html",
    "telegram_length",
    "utf16_length",
    "validate_telegram_html",
]

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

# Tags Telegram recognises; anything else is "Unsupported start tag".
_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

# tdlib's is_space: the NUL that ends its C string counts as space, which is
# why every scan below also stops at the end of the text.
_SPACES = frozenset(" \t\r\n\0\v\f")
_END = "\0"


class TelegramHTMLError(ValueError):
    """Text Telegram would refuse with "Bad Request: can't parse entities: ...".

    ``description`` is Telegram's own wording of the reason (for example
    ``Unsupported start tag "div" at byte offset 5``); ``str(error)`` is
    ``Can't parse entities: <description>``.
    """

    def __init__(self, description: str, byte_offset: int | None = None) -> None:
        super().__init__(f"Can't parse entities: {description}")
        self.description = description
        self.byte_offset = byte_offset


@dataclass(frozen=True, slots=True)
class HTMLEntity:
    """One formatting entity, with Telegram's UTF-16 offset and length."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The entity as a Bot API ``MessageEntity`` JSON object."""
        data: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            data["url"] = self.url
        if self.language is not None:
            data["language"] = self.language
        if self.custom_emoji_id is not None:
            data["custom_emoji_id"] = self.custom_emoji_id
        return data


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    text_index: int  # index into the output pieces' joined text
    expandable: bool


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (astral characters count 2).

    Deliberately not the bot's own (text.markup): the emulator checks the bot's
    messages as Telegram would, so it must not share the bot's way of counting."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _byte_offset(text: str, index: int) -> int:
    # Computed only when reporting an error: Telegram reports UTF-8 byte offsets.
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _is_ascii_alpha(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _is_ascii_alnum(ch: str) -> bool:
    return _is_ascii_alpha(ch) or ("0" <= ch <= "9")


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``text[pos] == '&'``.

    Returns the character and the index after the reference, or None when it
    is not one Telegram knows (then the ``&`` is an ordinary character to it).
    """
    end = pos + 1
    value = 0
    if text[end] == "#":
        end += 1
        if text[end] == "x":
            end += 1
            while text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
                if value >= 0x10FFFF:
                    return None
        else:
            while "0" <= text[end] <= "9":
                value = value * 10 + int(text[end])
                end += 1
                if value >= 0x10FFFF:
                    return None
        # Surrogates cannot be encoded as UTF-8, so they cannot be characters.
        if value == 0 or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while _is_ascii_alpha(text[end]):
            end += 1
        named = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if text[end] == ";":
        end += 1
    return char, end


def parse_telegram_html(
    text: str, *, strict_ampersand: bool = True
) -> tuple[str, list[HTMLEntity]]:
    """Parse ``text`` as Telegram's HTML parse mode does.

    Returns the plain text the user sees and its entities (sorted by offset,
    outer entities first). Raises :class:`TelegramHTMLError` where Telegram
    answers "can't parse entities", with Telegram's description.
    """
    # A sentinel NUL plays the part of the C string terminator tdlib scans to.
    src = text + _END
    size = len(text)
    out: list[str] = []
    utf16_offset = 0
    open_tags: list[_OpenTag] = []
    entities: list[HTMLEntity] = []
    out_len = 0  # characters in out, to slice the inner text of <a> without joining
    i = 0

    def emit(chunk: str) -> None:
        nonlocal utf16_offset, out_len
        out.append(chunk)
        out_len += len(chunk)
        utf16_offset += utf16_length(chunk)

    while i < size:
        ch = src[i]
        if ch == "&":
            decoded = _decode_entity(src, i)
            if decoded is not None:
                emit(decoded[0])
                i = decoded[1]
                continue
            if strict_ampersand:
                raise TelegramHTMLError(
                    f'Character "&" at byte offset {_byte_offset(text, i)} must be escaped '
                    'as "&amp;"',
                    _byte_offset(text, i),
                )
        if ch != "<":
            # Copy the run of ordinary characters in one go.
            j = i + 1
            while j < size and src[j] not in "<&":
                j += 1
            emit(src[i:j])
            i = j
            continue

        begin = i
        i += 1
        if src[i] != "/":
            i = _parse_start_tag(text, src, begin, i, open_tags, utf16_offset, out_len)
            continue

        # An end tag.
        if not open_tags:
            raise TelegramHTMLError(
                f"Unexpected end tag at byte offset {_byte_offset(text, begin)}",
                _byte_offset(text, begin),
            )
        while src[i] not in _SPACES and src[i] != ">":
            i += 1
        end_name = src[begin + 2 : i].lower()
        while src[i] in _SPACES and src[i] != _END:
            i += 1
        if src[i] != ">":
            raise TelegramHTMLError(
                f"Unclosed end tag at byte offset {_byte_offset(text, begin)}",
                _byte_offset(text, begin),
            )
        tag = open_tags.pop()
        if end_name and end_name != tag.name:
            raise TelegramHTMLError(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{tag.name}>", found "</{end_name}>"',
                _byte_offset(text, begin),
            )
        if utf16_offset > tag.utf16_offset:
            _close_entity(tag, utf16_offset, "".join(out)[tag.text_index :], entities, open_tags)
        i += 1

    if open_tags:
        raise TelegramHTMLError(
            f'Can\'t find end tag corresponding to start tag "{open_tags[-1].name}"'
        )
    entities.sort(key=lambda e: (e.offset, -e.length))
    return "".join(out), entities


def _parse_start_tag(
    text: str,
    src: str,
    begin: int,
    i: int,
    open_tags: list[_OpenTag],
    utf16_offset: int,
    out_len: int,
) -> int:
    """Parse the start tag at ``src[begin] == '<'``; return the index after it."""
    at = _byte_offset  # short alias: every error names the tag's byte offset
    while src[i] not in _SPACES and src[i] != ">":
        i += 1
    if src[i] == _END:
        raise TelegramHTMLError(f"Unclosed start tag at byte offset {at(text, begin)}")
    name = src[begin + 1 : i].lower()
    if name not in _SUPPORTED_TAGS:
        raise TelegramHTMLError(
            f'Unsupported start tag "{name}" at byte offset {at(text, begin)}', at(text, begin)
        )

    argument = ""
    expandable = False
    while src[i] != ">":
        while src[i] != _END and src[i] in _SPACES:
            i += 1
        if src[i] == ">":
            break
        attr_begin = i
        while src[i] not in _SPACES and src[i] not in "=>":
            i += 1
        attr_name = src[attr_begin:i]
        if not attr_name:
            raise TelegramHTMLError(
                f'Empty attribute name in the tag "{name}" at byte offset {at(text, begin)}',
                at(text, begin),
            )
        while src[i] != _END and src[i] in _SPACES:
            i += 1
        if src[i] != "=":
            if name == "blockquote" and attr_name == "expandable":
                expandable = True
                continue
            raise TelegramHTMLError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{name}" at byte offset {at(text, begin)}',
                at(text, begin),
            )
        i += 1
        while src[i] != _END and src[i] in _SPACES:
            i += 1
        if src[i] == _END:
            raise TelegramHTMLError(
                f'Unclosed start tag "{name}" at byte offset {at(text, begin)}', at(text, begin)
            )
        value_chars: list[str] = []
        if src[i] not in "'\"":
            # An unquoted value is an HTML 2.0 name token.
            while _is_ascii_alnum(src[i]) or src[i] in ".-":
                value_chars.append(src[i])
                i += 1
        else:
            quote = src[i]
            i += 1
            while src[i] != quote and src[i] != _END:
                if src[i] == "&":
                    decoded = _decode_entity(src, i)
                    if decoded is not None:
                        value_chars.append(decoded[0])
                        i = decoded[1]
                        continue
                value_chars.append(src[i])
                i += 1
            if src[i] == quote:
                i += 1
        if src[i] == _END:
            raise TelegramHTMLError(
                f"Unclosed start tag at byte offset {at(text, begin)}", at(text, begin)
            )
        value = "".join(value_chars)
        if name == "a" and attr_name == "href":
            argument = value
        elif name == "code" and attr_name == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif name == "span" and attr_name == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif name == "tg-emoji" and attr_name == "emoji-id":
            argument = value
        elif name == "blockquote" and attr_name == "expandable":
            expandable = True

    if name == "span" and argument != "spoiler":
        raise TelegramHTMLError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {at(text, begin)}',
            at(text, begin),
        )
    open_tags.append(_OpenTag(name, argument, utf16_offset, out_len, expandable))
    return i + 1


def _close_entity(
    tag: _OpenTag,
    utf16_end: int,
    inner_text: str,
    entities: list[HTMLEntity],
    open_tags: list[_OpenTag],
) -> None:
    """Turn a closed, non-empty tag into its entity (as Telegram does)."""
    offset, length = tag.utf16_offset, utf16_end - tag.utf16_offset
    simple = _SIMPLE_ENTITY_TYPES.get(tag.name)
    if simple is not None:
        entities.append(HTMLEntity(simple, offset, length))
    elif tag.name == "a":
        # Telegram links an <a> without href to its own text.
        entities.append(HTMLEntity("text_link", offset, length, url=tag.argument or inner_text))
    elif tag.name == "tg-emoji":
        if not tag.argument.isdigit() or int(tag.argument) >= 2**63:
            raise TelegramHTMLError("Invalid custom emoji identifier specified")
        entities.append(HTMLEntity("custom_emoji", offset, length, custom_emoji_id=tag.argument))
    elif tag.name == "blockquote":
        kind = "expandable_blockquote" if tag.expandable else "blockquote"
        entities.append(HTMLEntity(kind, offset, length))
    elif tag.name == "pre":
        # <pre><code class="language-x">...</code></pre> is one pre with a language.
        last = entities[-1] if entities else None
        if (
            last is not None
            and last.type == "code"
            and last.language is not None
            and (last.offset, last.length) == (offset, length)
        ):
            entities[-1] = HTMLEntity("pre", offset, length, language=last.language)
        else:
            entities.append(HTMLEntity("pre", offset, length))
    elif tag.name == "code":
        parent = open_tags[-1] if open_tags else None
        in_pre = parent is not None and parent.name == "pre" and parent.utf16_offset == offset
        language = tag.argument if in_pre and tag.argument else None
        entities.append(HTMLEntity("code", offset, length, language=language))


def validate_telegram_html(text: str, *, strict_ampersand: bool = True) -> str:
    """Return the plain text Telegram shows for ``text``, or raise TelegramHTMLError."""
    return parse_telegram_html(text, strict_ampersand=strict_ampersand)[0]


def telegram_length(text: str, *, parse_mode: str | None = "HTML") -> int:
    """Length of a message as counted against the 4096 limit (UTF-16 code units).

    With ``parse_mode="HTML"`` the markup is parsed first (and invalid markup
    raises TelegramHTMLError); with ``parse_mode=None`` ``text`` is plain text.
    """
    plain = validate_telegram_html(text) if parse_mode == "HTML" else text
    return utf16_length(plain)

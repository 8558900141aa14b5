"""Plain text: the one converter from HTML to text, and tidying text that is plain.

Two kinds of HTML reach it. A feed's HTML fragments become paragraphs: block
elements separate them, whitespace inside one collapses, scripts and styles vanish.
Our own Telegram HTML, which Telegram refused to parse, becomes the text Telegram
would have shown, with each link's URL kept beside its label, for a resend as plain
text. One reader does both; only what it does with whitespace and links differs.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Control characters never survive into stored text: they break Telegram messages,
# and some are used as markers (search snippets). Tab, newline and carriage return
# are whitespace, not controls. C1 controls (U+0080-U+009F) mostly come from
# mis-decoded windows-1252 text.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

ELLIPSIS = "…"

# Sentinels used only while converting (control characters, so they cannot come
# from the input, which is stripped of them first).
_PARA = "\x1e"
_BREAK = "\x1f"

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "dd", "details", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
        "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
# Whatever is inside these is code or metadata, never reading text.
_HIDDEN_TAGS = frozenset({"script", "style", "template", "head", "title", "noembed"})

# Two or more line breaks in a row separate paragraphs, as many feeds write them.
_BREAKS_AS_PARAGRAPH = re.compile(f"{_BREAK}(?:\\s*{_BREAK})+")
_TAG = re.compile(r"<[^>]*>")


class _Reader(HTMLParser):
    """Collects the readable text of HTML.

    As prose (a feed's fragment): block boundaries are marked for paragraphs, and
    <figure>s (a photo and its caption) are remembered, since a statement's lead is
    never a caption. As Telegram HTML: text is kept as written, and each link's URL
    is written after its label.
    """

    def __init__(self, *, telegram: bool) -> None:
        super().__init__(convert_charrefs=True)
        self._telegram = telegram
        self.parts: list[str] = []
        self._hidden_depth = 0
        self._figures: list[tuple[int, int]] = []
        self._figure_depth = 0
        self._figure_start = 0
        # Open links: (href, where their label starts in `parts`).
        self._links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._telegram:
            if tag == "a":
                self._links.append((dict(attrs).get("href") or "", len(self.parts)))
            return
        if tag in _HIDDEN_TAGS:
            self._hidden_depth += 1
        elif tag == "br":
            self.parts.append(_BREAK)
        elif tag in _BLOCK_TAGS:
            self.parts.append(_PARA)
            if tag == "figure":
                if not self._figure_depth:
                    self._figure_start = len(self.parts)
                self._figure_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._telegram:
            return
        # <br/>, <hr/>, <p/>: a boundary, but never opens a hidden section.
        if tag == "br":
            self.parts.append(_BREAK)
        elif tag in _BLOCK_TAGS:
            self.parts.append(_PARA)

    def handle_endtag(self, tag: str) -> None:
        if self._telegram:
            if tag == "a" and self._links:
                self._close_link()
            return
        if tag in _HIDDEN_TAGS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BLOCK_TAGS:
            if tag == "figure" and self._figure_depth:
                self._figure_depth -= 1
                if not self._figure_depth:
                    self._figures.append((self._figure_start, len(self.parts)))
            self.parts.append(_PARA)

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(CONTROL_CHARS.sub("", data))

    def _close_link(self) -> None:
        url, start = self._links.pop()
        label = "".join(self.parts[start:])
        if not label.strip():
            # A link with no label: the URL is all there is to show.
            self.parts[start:] = [url]
        elif url and label != url:
            self.parts.append(f" ({url})")

    def finish(self) -> str:
        self.close()
        while self._links:
            self._close_link()
        return "".join(self.parts)

    def prose(self) -> list[str] | None:
        """`parts` without the figures; None when there were none."""
        spans = list(self._figures)
        if self._figure_depth:  # a figure never closed runs to the end
            spans.append((self._figure_start, len(self.parts)))
        if not spans:
            return None
        kept: list[str] = []
        at = 0
        for start, end in spans:
            kept += self.parts[at:start]
            at = end
        kept += self.parts[at:]
        return kept


def _paragraphs_from_marked(marked: str) -> str:
    marked = _BREAKS_AS_PARAGRAPH.sub(_PARA, marked).replace(_BREAK, " ")
    paragraphs = (" ".join(chunk.split()) for chunk in marked.split(_PARA))
    return "\n\n".join(p for p in paragraphs if p)


def _blunt_strip(fragment: str) -> str:
    stripped = html.unescape(_TAG.sub(" ", fragment))
    return " ".join(CONTROL_CHARS.sub("", stripped).split())


def html_to_text(fragment: str) -> str:
    """Turn an HTML fragment into plain text, paragraphs separated by a blank line.

    Entities are decoded, tags dropped, the contents of <script>/<style> dropped,
    whitespace inside a paragraph collapsed and control characters removed.
    """
    return html_to_text_and_prose(fragment)[0]


def html_to_text_and_prose(fragment: str) -> tuple[str, str]:
    """`html_to_text`, and the same text without figures (images' captions), which
    is where a statement's lead is to be found."""
    fragment = CONTROL_CHARS.sub("", fragment)
    reader = _Reader(telegram=False)
    try:
        reader.feed(fragment)
        marked = reader.finish()
    except Exception:
        # html.parser has raised on odd markup (marked sections) in some Pythons.
        # Fall back to a blunt strip: losing paragraph breaks beats losing the text.
        text = _blunt_strip(fragment)
        return text, text
    text = _paragraphs_from_marked(marked)
    prose = reader.prose()
    return text, text if prose is None else _paragraphs_from_marked("".join(prose))


def telegram_html_to_plain(message: str) -> str:
    """What Telegram would show for our HTML message, as plain text to send instead
    when Telegram could not parse it: tags dropped, entities decoded, line breaks
    kept, and a link written as "label (url)" so the URL is not lost."""
    reader = _Reader(telegram=True)
    try:
        reader.feed(CONTROL_CHARS.sub("", message))
        return reader.finish()
    except Exception:
        return _blunt_strip(message)


def plain_text(text: str) -> str:
    """Tidy text that is already plain: control characters removed, paragraphs kept."""
    text = CONTROL_CHARS.sub("", text)
    paragraphs = (" ".join(chunk.split()) for chunk in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def one_line(text: str) -> str:
    """Collapse all whitespace, paragraph breaks included, into single spaces."""
    return " ".join(text.split())


def first_words(text: str, n: int = 12) -> str:
    """The first `n` words of `text` (a stand-in title), with "…" when there were more."""
    words = text.split()
    if len(words) <= n:
        return " ".join(words)
    return " ".join(words[:n]).rstrip(",;:-–—") + ELLIPSIS

"""Plain-text helpers for feed strings: HTML to text, the lead as a summary, first words."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Control characters never survive into stored text: they break Telegram messages,
# and U+0002/U+0003 are reserved as search-snippet markers (storage.models).
# C1 controls (U+0080-U+009F) mostly come from mis-decoded windows-1252 text.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

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
# A sentence ends with . ! ? or … (maybe inside closing quotes or brackets) before a space.
_SENTENCE_END = re.compile("[.!?…][\"'”’»)\\]]*(?=\\s)")
_TAG = re.compile(r"<[^>]*>")

ELLIPSIS = "…"


class _TextExtractor(HTMLParser):
    """Collects the readable text of an HTML fragment, marking block boundaries."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0
        # Where <figure>s (a photo and its caption) stand in `parts`: the prose, where
        # a lead is looked for, is `parts` without them.
        self._figures: list[tuple[int, int]] = []
        self._figure_depth = 0
        self._figure_start = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
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
        # <br/>, <hr/>, <p/>: a boundary, but never opens a hidden section.
        if tag == "br":
            self.parts.append(_BREAK)
        elif tag in _BLOCK_TAGS:
            self.parts.append(_PARA)

    def handle_endtag(self, tag: str) -> None:
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
            self.parts.append(_CONTROL_CHARS.sub("", data))

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


def html_to_text(fragment: str) -> str:
    """Turn an HTML fragment into plain text, paragraphs separated by a blank line.

    Entities are decoded, tags dropped, the contents of <script>/<style> dropped,
    whitespace inside a paragraph collapsed and control characters removed.
    """
    return html_to_text_and_prose(fragment)[0]


def html_to_text_and_prose(fragment: str) -> tuple[str, str]:
    """`html_to_text`, and the same text without figures (images' captions), which
    is where a statement's lead is to be found."""
    fragment = _CONTROL_CHARS.sub("", fragment)
    extractor = _TextExtractor()
    try:
        extractor.feed(fragment)
        extractor.close()
    except Exception:
        # html.parser has raised on odd markup (marked sections) in some Pythons.
        # Fall back to a blunt strip: losing paragraph breaks beats losing the text.
        stripped = html.unescape(_TAG.sub(" ", fragment))
        text = " ".join(_CONTROL_CHARS.sub("", stripped).split())
        return text, text
    text = _paragraphs_from_marked("".join(extractor.parts))
    prose = extractor.prose()
    return text, text if prose is None else _paragraphs_from_marked("".join(prose))


def plain_text(text: str) -> str:
    """Tidy text that is already plain: control characters removed, paragraphs kept."""
    text = _CONTROL_CHARS.sub("", text)
    paragraphs = (" ".join(chunk.split()) for chunk in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def one_line(text: str) -> str:
    """Collapse all whitespace, paragraph breaks included, into single spaces."""
    return " ".join(text.split())


def summarise(text: str, limit: int = 400) -> str:
    """The lead of a statement: its first non-empty paragraph, at most `limit` characters.

    A longer paragraph is cut at its last sentence end within the limit when that
    keeps a reasonable share of it (at least 40%), else at the last word boundary;
    a cut text ends with "…", which counts within the limit.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    lead = next((p.strip() for p in text.split("\n\n") if p.strip()), "")
    lead = one_line(lead)
    if len(lead) <= limit:
        return lead
    # A sentence cut ends "… end. …": the space and the ellipsis both count.
    sentence_budget = limit - 2
    sentence_cut = 0
    for match in _SENTENCE_END.finditer(lead, 0, sentence_budget + 1):
        sentence_cut = match.end()
    if sentence_cut >= 0.4 * limit:
        return f"{lead[:sentence_cut]} {ELLIPSIS}"
    word_budget = limit - 1
    cut = lead[:word_budget]
    if not lead[word_budget].isspace():
        head, space, _ = cut.rpartition(" ")
        # One enormous "word" (a URL, say): a hard cut is all there is.
        if space and head.strip():
            cut = head
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


def first_words(text: str, n: int = 12) -> str:
    """The first `n` words of `text` (a stand-in title), with "…" when there were more."""
    words = text.split()
    if len(words) <= n:
        return " ".join(words)
    return " ".join(words[:n]).rstrip(",;:-–—") + ELLIPSIS

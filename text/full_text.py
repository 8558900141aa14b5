"""A statement's whole stored text, as the messages the "Full text" button sends.

The title, then the stored paragraphs, as plain text (sent without a parse mode, so
nothing in a statement can be taken for markup), cut into as many messages as
Telegram's 4096 UTF-16 units require: at a paragraph break where one is near the
end of a message, else at a line break, a sentence end or a space, and only a word
longer than a whole message is cut inside. When it takes several messages, each
opens with "i/n". Only whitespace is lost at a cut, so the parts hold the stored
text exactly.

Also the rule for when there is nothing to send: the stored text adds nothing
beyond the summary that every message already shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from text.i18n import N_, translator
from text.markup import TELEGRAM_LIMIT, utf16_length

# Parts sent for one press at most: about 120,000 characters, a 20,000-word
# transcript. Beyond that, the last part says where the rest is.
MAX_PARTS = 30

# A cut at a paragraph break (or line break, sentence end) is taken when it keeps
# at least this share of the message; else the next kind of boundary is tried.
_KEEP = 0.5
_SENTENCE_END = re.compile("[.!?…][\"'”’»)\\]]*(?=\\s)")
_SPACE = re.compile(r"\s")
_WORD = re.compile(r"\S+")

# User-visible strings.
CUT_NOTE = N_("[The statement is too long for Telegram; the rest is on the source's page.]")
CUT_NOTE_LINK = N_("[The statement is too long for Telegram; read the rest at {link}]")


def adds_to_summary(summary: str, content: str) -> bool:
    """Whether the stored text holds anything beyond the summary: a statement whose
    source gave only a short text (its whole text is its summary) has no more to
    show, and gets no "Full text" button."""
    # Word by word, stopping at the first difference: a statement of megabytes is
    # told from its summary in the time the summary takes to read, not the text.
    words = iter(summary.split())
    has_text = False
    for match in _WORD.finditer(content):
        has_text = True
        if match.group() != next(words, None):
            return True
    return has_text and next(words, None) is not None


def full_text_parts(
    title: str,
    content: str,
    *,
    link: str | None = None,
    limit: int = TELEGRAM_LIMIT,
    max_parts: int = MAX_PARTS,
    language: str = "en",
) -> list[str]:
    """The messages that carry `title` and `content` (plain text, not escaped).

    One message when it fits; else each opens with "i/n" on a line of its own. More
    than `max_parts` messages' worth is cut, and the last one says so (with `link`,
    the statement's page, when there is one).
    """
    text = "\n\n".join(part for part in (title.strip(), content.strip()) if part)
    # No more than the parts can hold is ever read (a body of megabytes is cut at
    # once), so this costs the same for any statement.
    text = text[: max_parts * limit + 1]
    if not text:
        return []
    if utf16_length(text) <= limit:
        return [text]
    # Room for the widest marker ("30/30\n"), so every part fits whatever its number.
    budget = limit - utf16_length(f"{max_parts}/{max_parts}\n")
    _ = translator(language).gettext
    note = "\n\n" + (_(CUT_NOTE_LINK).format(link=link) if link else _(CUT_NOTE))
    chunks = list(_chunks(text, budget, max_parts, note))
    count = len(chunks)
    return [f"{number}/{count}\n{chunk}" for number, chunk in enumerate(chunks, start=1)]


def _chunks(text: str, budget: int, max_parts: int, note: str) -> Iterator[str]:
    rest = text
    for number in range(1, max_parts + 1):
        if utf16_length(rest) <= budget:
            if rest:
                yield rest
            return
        if number == max_parts:
            # The last part there is room for: as much as fits beside the note.
            head, _ = _cut(rest, budget - utf16_length(note))
            yield head + note
            return
        head, rest = _cut(rest, budget)
        yield head


def _cut(text: str, budget: int) -> tuple[str, str]:
    """The longest head of `text` within `budget` UTF-16 units that ends at the best
    boundary, and the rest; the whitespace between them is dropped (Telegram trims
    it from a message anyway)."""
    end = _fitting(text, budget)
    # A separator that starts inside the window counts: it is dropped at the cut.
    window = text[: end + 1]
    floor = int(end * _KEEP)
    for boundary in (window.rfind("\n\n"), window.rfind("\n"), _last_sentence(window)):
        if floor < boundary <= end:
            return text[:boundary].rstrip(), text[boundary:].lstrip()
    space = max((m.start() for m in _SPACE.finditer(window, floor)), default=-1)
    if floor < space <= end:
        return text[:space].rstrip(), text[space:].lstrip()
    # One "word" longer than half a message (a URL, a run of CJK): cut inside it,
    # never between the two halves of a surrogate pair (end counts code points).
    return text[:end], text[end:]


def _fitting(text: str, budget: int) -> int:
    """How many code points of `text` fit in `budget` UTF-16 units."""
    head = text[:budget]
    if utf16_length(head) <= budget:
        return len(head)  # no character outside the BMP: one unit each
    units = 0
    for index, char in enumerate(head):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > budget:
            return index
    return len(head)


def _last_sentence(window: str) -> int:
    last = -1
    for match in _SENTENCE_END.finditer(window):
        last = match.end()
    return last

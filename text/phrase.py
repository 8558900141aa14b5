"""A message made before anyone knows who will read it, in any language.

Most text is translated where it is rendered, for the chat it goes to. Some is made
far from any chat: a poll's alert to the admins ("failed 3 times in a row: …"), the
reasons an OPML import refused an outline. Those are made as a `Phrase`: the English
text itself (what logs, the command line and comparisons see, so nothing downstream
changes) that also remembers its message and values, so the chat that finally reads
it gets it in its own language with `say(text, tr)`.

Values stay as given (a server's "HTTP 503" is quoted, not translated); a value that
is itself a Phrase is said in the same language. Escaping is the reader's job, as
for any other text.
"""

from __future__ import annotations

from typing import Any

from text.i18n import Translator, translator


class Phrase(str):
    """English text that can also be said in another language (see the module)."""

    message: str
    plural: str | None
    number: int  # what chooses the plural form
    values: dict[str, Any]

    def __new__(cls, message: str, /, **values: Any) -> Phrase:
        return cls._make(message, None, 0, values)

    @classmethod
    def ngettext(cls, singular: str, plural: str, count: int, /, **values: Any) -> Phrase:
        """A message with plural forms, chosen by `count` (named `ngettext` so that
        `make translations` extracts both forms)."""
        return cls._make(singular, plural, count, values)

    @classmethod
    def _make(cls, message: str, plural: str | None, count: int, values: dict[str, Any]) -> Phrase:
        english = _render(translator("en"), message, plural, count, values)
        made = super().__new__(cls, english)
        made.message, made.plural, made.number, made.values = message, plural, count, values
        return made

    def translated(self, tr: Translator) -> str:
        """The text in `tr`'s language."""
        return _render(tr, self.message, self.plural, self.number, self.values)


def _render(
    tr: Translator, message: str, plural: str | None, count: int, values: dict[str, Any]
) -> str:
    template = tr.gettext(message) if plural is None else tr.ngettext(message, plural, count)
    said = {
        name: say(value, tr) if isinstance(value, str) else value for name, value in values.items()
    }
    return template.format(**said)


def say(text: str, tr: Translator) -> str:
    """`text` in `tr`'s language when it is a Phrase; any other text as it is."""
    return text.translated(tr) if isinstance(text, Phrase) else str(text)

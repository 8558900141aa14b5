"""The interface in English and Russian: gettext catalogs managed with Babel.

English is the source language: every user-visible string is written in English in
the code, marked for translation (`_`, `N_`, `ngettext`), extracted into
text/locale/communique.pot and translated in text/locale/<lang>/LC_MESSAGES/
communique.po; `make translations` refreshes them, and installing compiles them
to .mo files beside the .po. A catalog is read once, like a zone's data.

A message is translated where it is rendered, with the language of the chat it
goes to: functions take a `Translator` (or the language code) rather than
reaching for a global, so one process serves both languages at once.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

LANGUAGES = ("en", "ru")
DEFAULT = "en"
DOMAIN = "communique"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

# The language's own name, as its speakers write it (for buttons and replies).
NAMES = {"en": "English", "ru": "Русский"}


class Translator(Protocol):
    """What rendering needs of a catalog (gettext's translations objects are one)."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; translated where it is used."""
    return message


def supported(language: str | None) -> str | None:
    """The interface language for a Telegram language code ("ru-RU" → "ru"), or None."""
    if not language:
        return None
    base = language.strip().lower().replace("_", "-").split("-", 1)[0]
    return base if base in LANGUAGES else None


@functools.cache
def translator(language: str) -> Translator:
    """The catalog of `language` (English, the source, for anything else)."""
    if language == DEFAULT or language not in LANGUAGES:
        return gettext.NullTranslations()
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    compiled = folder / f"{DOMAIN}.mo"
    if compiled.is_file():
        with compiled.open("rb") as stream:
            return gettext.GNUTranslations(stream)
    source = folder / f"{DOMAIN}.po"
    if source.is_file():
        # A source checkout that was never compiled (installs compile the catalogs):
        # compile in memory rather than answer a Russian reader in English.
        log.warning("catalog %s is not compiled; compiling it in memory", compiled)
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with source.open("rb") as stream:
            catalog = read_po(stream, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return gettext.GNUTranslations(buffer)
    log.error("no catalog for %r in %s: answering in English", language, folder)
    return gettext.NullTranslations()

"""The translation catalogs are complete: every string the code marks for translation
has a translation in every language, none of them fuzzy, each with the same
placeholders as its English, and the catalog compiles. This is the check CI runs
(`make test`): a string added without its Russian fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from text.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, translator

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "jobs", "text")
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


def marked() -> Iterator[tuple[str, tuple[str, ...], int]]:
    """(file, msgid forms, line) of every string marked in the code."""
    for package in PACKAGES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            forms = message if isinstance(message, tuple) else (message,)
            if forms and forms[0]:
                yield f"{package}/{filename}", tuple(forms), lineno


def catalog(language: str) -> Catalog:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as stream:
        return read_po(stream, locale=language)


TRANSLATED = [language for language in LANGUAGES if language != "en"]


def test_there_is_something_to_translate() -> None:
    # A mistake in the extraction (wrong keywords, wrong folders) would let every
    # other check here pass vacuously.
    assert sum(1 for _ in marked()) > 300


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_marked_string_is_translated_and_not_fuzzy(language: str) -> None:
    found = catalog(language)
    problems = []
    for where, forms, line in marked():
        message = found.get(forms[0])
        if message is None:
            problems.append(f"{where}:{line}: missing {forms[0]!r}")
            continue
        if message.fuzzy:
            problems.append(f"{where}:{line}: fuzzy {forms[0]!r}")
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            problems.append(f"{where}:{line}: untranslated {forms[0]!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    problems = []
    for message in catalog(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(_PLACEHOLDER.findall(ids[-1])) | set(_PLACEHOLDER.findall(ids[0]))
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            got = set(_PLACEHOLDER.findall(string or ""))
            # A plural form may leave out {count} (Russian "одно"), never add a name.
            if not got <= wanted or not (wanted - {"count"}) <= got:
                problems.append(f"{ids[0]!r}: {sorted(got)} against {sorted(wanted)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalog_is_read_and_used(language: str) -> None:
    tr = translator(language)
    assert tr.gettext("Latest statements") != "Latest statements"
    assert "{count}" in tr.ngettext("…and {count} more", "…and {count} more", 5)

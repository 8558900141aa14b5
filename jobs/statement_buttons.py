"""The "Full text" button under a statement: under every push (made here, for
delivery) and under every entry of /latest and /search (made here, for bot/).

The button's data is `ft:<statement id>`, well under Telegram's 64 bytes, and
enough on its own: pressing it still works after a restart, and on an older page of
a list. A statement whose stored text adds nothing to its summary gets no button
(the message says so instead; see text.full_text.adds_to_summary).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from text.full_text import adds_to_summary
from text.i18n import N_, translator

PREFIX = "ft:"
ROW = 3  # "Full text N" buttons in a row: wider rows get their labels cut on phones

# User-visible strings.
LABEL = N_("Full text")
NUMBERED_LABEL = N_("Full text {number}")


class Stored(Protocol):
    """What the button reads of a statement (storage's `Item` is one)."""

    @property
    def id(self) -> int: ...
    @property
    def summary(self) -> str: ...
    @property
    def content(self) -> str: ...


def has_full_text(item: Stored) -> bool:
    """Whether the statement gets a button: its stored text says more than its summary."""
    return adds_to_summary(item.summary, item.content)


def full_text_data(item_id: int) -> str:
    return f"{PREFIX}{item_id}"


def parse_full_text_data(data: str) -> int | None:
    """The statement id a button's data names; None for anything we never made."""
    if not data.startswith(PREFIX):
        return None
    number = data[len(PREFIX) :]
    if not (number.isdecimal() and number.isascii()) or len(number) > 18:
        return None
    return int(number)


def full_text_markup(item_id: int, language: str = "en") -> InlineKeyboardMarkup:
    """The one button under a push (of a statement that has more text)."""
    label = translator(language).gettext(LABEL)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=full_text_data(item_id))]]
    )


def full_text_rows(
    items: Sequence[Stored], first_number: int, language: str = "en"
) -> list[list[InlineKeyboardButton]]:
    """ "Full text N" for every entry of a list numbered from `first_number` that has
    more text than its summary, a few to a row."""
    label = translator(language).gettext(NUMBERED_LABEL)
    buttons = [
        InlineKeyboardButton(
            label.format(number=first_number + index),
            callback_data=full_text_data(item.id),
        )
        for index, item in enumerate(items)
        if has_full_text(item)
    ]
    return [buttons[start : start + ROW] for start in range(0, len(buttons), ROW)]

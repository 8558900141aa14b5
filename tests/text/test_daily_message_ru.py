"""The seed's daily message in Russian: the date, the clocks and both counters in
their Russian texts at 07:30 Moscow time on 3 December 2021."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from tests.support.counters import (
    GLUSHKOV,
    GLUSHKOV_RU,
    GOLDEN,
    GOLDEN_RU,
    SALISBURY,
    SALISBURY_RU,
    SEED_COUNTERS,
)
from text.counters import render_daily_message
from text.markup import visible_text

MOMENT = datetime(2021, 12, 3, 4, 30, tzinfo=UTC)  # 07:30 in Moscow
CLOCKS = ("Europe/Moscow", "Europe/London")
BILINGUAL = [
    dataclasses.replace(SALISBURY, texts={"ru": SALISBURY_RU}),
    dataclasses.replace(GLUSHKOV, texts={"ru": GLUSHKOV_RU}),
]


def test_the_seed_message_in_russian() -> None:
    message = render_daily_message(BILINGUAL, MOMENT, CLOCKS, language="ru")
    assert visible_text(message) == GOLDEN_RU


def test_english_readers_see_the_seed_exactly_as_before() -> None:
    assert visible_text(render_daily_message(BILINGUAL, MOMENT, CLOCKS)) == GOLDEN
    assert (
        visible_text(render_daily_message(SEED_COUNTERS, MOMENT, CLOCKS, language="en")) == GOLDEN
    )


def test_a_counter_without_a_russian_text_keeps_its_own() -> None:
    mixed = [BILINGUAL[0], GLUSHKOV]
    lines = visible_text(render_daily_message(mixed, MOMENT, CLOCKS, language="ru")).split("\n")
    assert lines[4].startswith("С инцидента в Солсбери прошло 1370 дней")
    assert lines[5].startswith("1362 days have passed since the death of Nikolay Glushkov")

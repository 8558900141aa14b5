"""Dates as web pages write them, found in text and read in the source's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from text.date_parse import (
    date_order_for,
    find_date,
    find_dates,
    parse_date,
    parse_iso_datetime,
)

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03.12.2021", datetime(2021, 12, 3)),
        ("3.12.2021", datetime(2021, 12, 3)),
        ("03/12/2021", datetime(2021, 12, 3)),
        ("03-12-2021", datetime(2021, 12, 3)),
        ("3 December 2021", datetime(2021, 12, 3)),
        ("3rd December, 2021", datetime(2021, 12, 3)),
        ("December 3, 2021", datetime(2021, 12, 3)),
        ("Dec 3, 2021", datetime(2021, 12, 3)),
        ("Dec. 3 2021", datetime(2021, 12, 3)),
        ("Sept. 30th, 2021", datetime(2021, 9, 30)),
        ("2021-12-03", datetime(2021, 12, 3)),
        ("3 декабря 2021", datetime(2021, 12, 3)),
        ("3 декабря 2021 года", datetime(2021, 12, 3)),
        ("03 дек. 2021 г.", datetime(2021, 12, 3)),
        ("1 мая 2021 г.", datetime(2021, 5, 1)),
        ("29.02.2020", datetime(2020, 2, 29)),
        # with times
        ("03.12.2021 14:30", datetime(2021, 12, 3, 14, 30)),
        ("03.12.2021, 14:30:05", datetime(2021, 12, 3, 14, 30, 5)),
        ("3 December 2021 | 09:05", datetime(2021, 12, 3, 9, 5)),
        ("Dec 3, 2021 at 2:30 pm", datetime(2021, 12, 3, 14, 30)),
        ("December 3, 2021 12:15 a.m.", datetime(2021, 12, 3, 0, 15)),
        ("3 декабря 2021 г., 14:30", datetime(2021, 12, 3, 14, 30)),
        ("3 декабря 2021 г. в 14:30", datetime(2021, 12, 3, 14, 30)),
        ("2021-12-03 14:30", datetime(2021, 12, 3, 14, 30)),
    ],
)
def test_each_form_is_read_as_wall_time_in_the_zone(text: str, expected: datetime) -> None:
    assert parse_date(text, zone="Europe/Moscow") == expected.replace(tzinfo=MOSCOW)
    assert parse_date(text) == expected.replace(tzinfo=UTC)  # UTC by default


@pytest.mark.parametrize(
    "text",
    [
        "31.02.2021",  # no such day
        "29.02.2021",  # not a leap year
        "32.12.2021",
        "13.13.2021",  # no month 13 either way round
        "31 June 2021",
        "2021-13-01",
        "2021-12-03T25:00",  # no such hour
        "03.12.1899",  # out of range
        "03.12.2101",
        "1370 days have passed",
        "+44 (0) 203 668 7474",
        "version 1.03.12.2021",
        "December 2021",  # no day
        "2021",
        "",
    ],
)
def test_impossible_or_partial_dates_are_rejected(text: str) -> None:
    assert find_date(text) is None


def test_iso_with_an_offset_is_that_instant_given_in_the_zone() -> None:
    moment = parse_date("2021-12-03T14:30:00+03:00", zone="Europe/London")
    assert moment == datetime(2021, 12, 3, 11, 30, tzinfo=UTC)
    assert moment is not None and moment.tzinfo == ZoneInfo("Europe/London")
    assert parse_date("2021-12-03T11:30:00Z") == datetime(2021, 12, 3, 11, 30, tzinfo=UTC)
    assert find_date("2021-12-03T10:00+14:99") is None  # no such offset


def test_a_date_is_found_inside_text_with_its_span() -> None:
    text = "Published on 18.11.2021 - Foreign Ministry comment, November 17, 2021"
    found = find_date(text)
    assert found is not None
    assert text[found.start : found.end] == "18.11.2021"
    assert not found.has_time
    assert [f.moment.day for f in find_dates(text)] == [18, 17]


def test_a_bad_time_after_a_good_date_keeps_the_date_alone() -> None:
    found = find_date("03.12.2021 25:99")
    assert found is not None
    assert (found.moment.hour, found.end, found.has_time) == (0, 10, False)


def test_parse_date_wants_the_whole_text_to_be_a_date() -> None:
    assert parse_date(" 03.12.2021. ") is not None
    assert parse_date("Published 03.12.2021") is None


def test_numeric_dates_are_day_first_unless_told_or_impossible() -> None:
    assert parse_date("04/12/2021") == datetime(2021, 12, 4, tzinfo=UTC)
    assert parse_date("04/12/2021", order="mdy") == datetime(2021, 4, 12, tzinfo=UTC)
    # The other reading is the only possible one: it is taken.
    assert parse_date("12/25/2021") == datetime(2021, 12, 25, tzinfo=UTC)
    assert parse_date("25/12/2021", order="mdy") == datetime(2021, 12, 25, tzinfo=UTC)


@pytest.mark.parametrize(
    ("texts", "language", "order"),
    [
        (["03.12.2021", "01.12.2021"], None, "dmy"),  # ambiguous: day first
        (["03.12.2021", "01.12.2021"], "en-GB", "dmy"),
        (["12/03/2021", "12/01/2021"], "en-US", "mdy"),  # ambiguous, US English
        (["12/03/2021", "11/29/2021"], None, "mdy"),  # 29 can only be a day
        (["03/12/2021", "29/11/2021"], "en-US", "dmy"),  # the dates outrank the language
        (["03/12/2021", "29/11/2021", "11/29/2021"], None, "dmy"),  # mixed: the default
        (["Posted December 3, 2021", "04/12/2021"], None, "mdy"),  # words month-first
        (["Posted 3 December 2021", "04/12/2021"], None, "dmy"),
        (["the lead.03.12.2021 - Title", "x 25.11.2021"], "en_US", "dmy"),  # glued text
    ],
)
def test_the_date_order_of_a_page(texts: list[str], language: str | None, order: str) -> None:
    assert date_order_for(texts, language) == order


def test_iso_values_from_attributes_and_json() -> None:
    assert parse_iso_datetime("2021-12-03") == datetime(2021, 12, 3, tzinfo=UTC)
    assert parse_iso_datetime("2021-12-03T10:00:00", zone="Europe/Moscow") == datetime(
        2021, 12, 3, 10, tzinfo=MOSCOW
    )
    assert parse_iso_datetime("2021-12-03T10:00:00-05:00") == datetime(
        2021, 12, 3, 10, tzinfo=timezone(-timedelta(hours=5))
    )
    for bad in ("", "yesterday", "2021-02-30", "1066-10-14", "2021-12-03junk", "9" * 100):
        assert parse_iso_datetime(bad) is None


def test_an_unknown_zone_name_reads_as_utc() -> None:
    assert parse_date("03.12.2021", zone="Mars/Olympus") == datetime(2021, 12, 3, tzinfo=UTC)

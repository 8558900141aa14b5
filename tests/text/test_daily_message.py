"""The daily counter message: the seed page's header, to the character.

Times are chosen around the edges that break naive implementations: midnight in
Moscow (21:00 London in winter, 22:00 in summer), midnight in London, both of
London's DST changes in 2021 (28 March and 31 October, at 01:00 UTC), and zones
far from both (Kiritimati at UTC+14, Pago Pago at UTC-11).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.telegram_html import telegram_length, validate_telegram_html
from storage.models import Counter
from tests.support.counters import GLUSHKOV, GOLDEN, SALISBURY, SEED_COUNTERS
from text.counters import NO_COUNTERS, render_counter_line, render_daily_message, validate_template
from text.dates import clock_label, days_since
from text.markup import TELEGRAM_LIMIT, visible_length

MOSCOW = ZoneInfo("Europe/Moscow")
LONDON = ZoneInfo("Europe/London")
CLOCKS = ["Europe/Moscow", "Europe/London"]
SEED_PAGE = Path("/work/shared/seed/000_e008f88601b054ee.txt")


def visible(html_text: str) -> str:
    text = validate_telegram_html(html_text)
    assert telegram_length(html_text) == visible_length(html_text) <= TELEGRAM_LIMIT
    return text


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def counter(start: date, zone: str, template: str = "{days}", position: int = 1) -> Counter:
    return Counter(position, start, zone, template, position)


# --- the golden message ---------------------------------------------------------


def test_golden_seed_message() -> None:
    now = datetime(2021, 12, 3, 7, 30, tzinfo=MOSCOW)
    message = render_daily_message(SEED_COUNTERS, now, CLOCKS)
    assert visible(message) == GOLDEN
    assert message.startswith("<b>3 December 2021</b>\n")


def test_golden_lines_are_the_seed_pages_lines() -> None:
    # The seed page itself carries these two lines (run together by its layout).
    # It lives beside the repository, not in it, so the check runs only where it is.
    if not SEED_PAGE.exists():
        pytest.skip("seed page not available")
    page = SEED_PAGE.read_text(encoding="utf-8")[:4000]
    for line in GOLDEN.splitlines()[4:]:
        assert line in page
    assert page.startswith("3 December 2021\nMoscow: 07:30\nLondon: 04:30\n")


def test_counters_are_ordered_by_position() -> None:
    now = datetime(2021, 12, 3, 7, 30, tzinfo=MOSCOW)
    message = render_daily_message([GLUSHKOV, SALISBURY], now, CLOCKS)
    assert visible(message) == GOLDEN


def test_same_instant_in_any_zone_gives_the_same_message() -> None:
    moscow = render_daily_message(
        SEED_COUNTERS, datetime(2021, 12, 3, 7, 30, tzinfo=MOSCOW), CLOCKS
    )
    london = render_daily_message(
        SEED_COUNTERS, datetime(2021, 12, 3, 4, 30, tzinfo=LONDON), CLOCKS
    )
    assert moscow == london


# --- midnight in Moscow and in London --------------------------------------------


def test_moscow_midnight_is_2100_london_in_winter() -> None:
    before = visible(render_daily_message(SEED_COUNTERS, utc(2021, 12, 3, 20, 59), CLOCKS))
    after = visible(render_daily_message(SEED_COUNTERS, utc(2021, 12, 3, 21, 0), CLOCKS))
    assert before.splitlines()[:3] == ["3 December 2021", "Moscow: 23:59", "London: 20:59"]
    assert after.splitlines()[:3] == ["4 December 2021", "Moscow: 00:00", "London: 21:00"]
    assert before.splitlines()[4].startswith("1370 days")
    assert after.splitlines()[4].startswith("1371 days")
    assert after.splitlines()[5].startswith("1363 days")


def test_moscow_midnight_is_2200_london_in_summer() -> None:
    start = date(2021, 6, 1)
    counters = [counter(start, "Europe/Moscow")]
    at_2159 = datetime(2021, 6, 10, 21, 59, tzinfo=LONDON)
    at_2200 = datetime(2021, 6, 10, 22, 0, tzinfo=LONDON)
    assert visible(render_daily_message(counters, at_2159, CLOCKS)).splitlines() == [
        "10 June 2021",
        "Moscow: 23:59",
        "London: 21:59",
        "",
        "9",
    ]
    assert visible(render_daily_message(counters, at_2200, CLOCKS)).splitlines() == [
        "11 June 2021",
        "Moscow: 00:00",
        "London: 22:00",
        "",
        "10",
    ]


def test_london_counter_flips_at_london_midnight_not_moscows() -> None:
    start = date(2021, 12, 1)
    london_counter = counter(start, "Europe/London")
    moscow_counter = counter(start, "Europe/Moscow")
    at_2100 = utc(2021, 12, 3, 21, 0)  # Moscow already on the 4th
    assert render_counter_line(london_counter, at_2100) == "2"
    assert render_counter_line(moscow_counter, at_2100) == "3"
    assert render_counter_line(london_counter, utc(2021, 12, 3, 23, 59)) == "2"
    assert render_counter_line(london_counter, utc(2021, 12, 4, 0, 0)) == "3"


def test_first_clock_gives_the_date() -> None:
    at_2330 = utc(2021, 12, 3, 23, 30)
    london_first = visible(render_daily_message([], at_2330, ["Europe/London", "Europe/Moscow"]))
    assert london_first.splitlines()[:3] == ["3 December 2021", "London: 23:30", "Moscow: 02:30"]
    moscow_first = visible(render_daily_message([], at_2330, CLOCKS))
    assert moscow_first.splitlines()[0] == "4 December 2021"


# --- London's DST changes ----------------------------------------------------------


def test_spring_forward_in_london() -> None:
    # 28 March 2021, 01:00 UTC: London jumps from 00:59 GMT to 02:00 BST.
    counters = [counter(date(2021, 3, 27), "Europe/London")]
    before = visible(render_daily_message(counters, utc(2021, 3, 28, 0, 59), CLOCKS))
    after = visible(render_daily_message(counters, utc(2021, 3, 28, 1, 0), CLOCKS))
    assert before.splitlines() == ["28 March 2021", "Moscow: 03:59", "London: 00:59", "", "1"]
    assert after.splitlines() == ["28 March 2021", "Moscow: 04:00", "London: 02:00", "", "1"]


def test_the_short_day_is_still_one_day() -> None:
    # 28 March 2021 has 23 hours in London; the counter still moves by exactly one.
    start = date(2021, 3, 28)
    london_midnight = datetime(2021, 3, 28, 0, 0, tzinfo=LONDON)
    next_midnight = datetime(2021, 3, 29, 0, 0, tzinfo=LONDON)
    assert next_midnight.astimezone(UTC) - london_midnight.astimezone(UTC) == timedelta(hours=23)
    assert days_since(start, LONDON, london_midnight) == 0
    assert days_since(start, LONDON, next_midnight - timedelta(minutes=1)) == 0
    assert days_since(start, LONDON, next_midnight) == 1
    assert days_since(start, LONDON, utc(2021, 3, 28, 23, 0)) == 1  # = 00:00 BST on the 29th


def test_fall_back_in_london() -> None:
    # 31 October 2021, 01:00 UTC: London goes from 01:59 BST back to 01:00 GMT.
    counters = [counter(date(2021, 10, 30), "Europe/London"), counter(date(2021, 10, 30), "UTC")]
    first_pass = visible(render_daily_message(counters, utc(2021, 10, 31, 0, 30), CLOCKS))
    second_pass = visible(render_daily_message(counters, utc(2021, 10, 31, 1, 30), CLOCKS))
    assert first_pass.splitlines() == [
        "31 October 2021",
        "Moscow: 03:30",
        "London: 01:30",
        "",
        "1",
        "1",
    ]
    assert second_pass.splitlines() == [
        "31 October 2021",
        "Moscow: 04:30",
        "London: 01:30",
        "",
        "1",
        "1",
    ]


def test_the_long_day_is_still_one_day() -> None:
    start = date(2021, 10, 31)
    # 25 hours from London midnight to London midnight.
    assert days_since(start, LONDON, utc(2021, 10, 31, 23, 59)) == 0
    assert days_since(start, LONDON, utc(2021, 11, 1, 0, 0)) == 1
    # 23:30 BST on the 30th (22:30 UTC) is still the day before.
    assert days_since(start, LONDON, utc(2021, 10, 30, 22, 30)) == -1
    assert days_since(start, LONDON, utc(2021, 10, 30, 23, 0)) == 0


def test_counts_match_across_a_year_of_local_midnights() -> None:
    start = date(2021, 1, 1)
    for offset in range(366):
        day = start + timedelta(days=offset)
        midnight = datetime(day.year, day.month, day.day, tzinfo=LONDON)
        assert days_since(start, LONDON, midnight) == offset
        assert days_since(start, LONDON, midnight - timedelta(seconds=1)) == offset - 1


# --- zones far apart ---------------------------------------------------------------


def test_kiritimati_and_pago_pago() -> None:
    start = date(2021, 12, 1)
    now = utc(2021, 12, 3, 10, 0)  # 00:00 on the 4th in Kiritimati, 23:00 on the 2nd in Pago Pago
    assert render_counter_line(counter(start, "Europe/London"), now) == "2"
    assert render_counter_line(counter(start, "Pacific/Kiritimati"), now) == "3"
    assert render_counter_line(counter(start, "Pacific/Pago_Pago"), now) == "1"
    clocks = ["Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Argentina/Buenos_Aires"]
    text = visible(render_daily_message([], now, clocks))
    assert text.splitlines()[:4] == [
        "4 December 2021",
        "Kiritimati: 00:00",
        "Pago Pago: 23:00",
        "Buenos Aires: 07:00",
    ]


@given(
    start=st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 1, 1)),
    now=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(
        ["Europe/Moscow", "Europe/London", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"]
    ),
)
def test_days_since_is_the_local_calendar_difference(start: date, now: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    assert days_since(start, tz, now) == local.toordinal() - start.toordinal()


# --- templates ---------------------------------------------------------------------


def test_template_is_escaped() -> None:
    now = datetime(2021, 12, 3, 7, 30, tzinfo=MOSCOW)
    hostile = counter(date(2018, 3, 4), "Europe/Moscow", '<b>{days}</b> & "co" <script>')
    message = render_daily_message([hostile], now, CLOCKS)
    assert "&lt;b&gt;1370&lt;/b&gt; &amp; &quot;co&quot; &lt;script&gt;" in message
    assert visible(message).splitlines()[-1] == '<b>1370</b> & "co" <script>'


def test_template_braces_are_not_format_fields() -> None:
    now = datetime(2021, 12, 3, 7, 30, tzinfo=MOSCOW)
    odd = counter(date(2018, 3, 4), "Europe/Moscow", "{0} {days} {x.__class__} {days}} {")
    assert render_counter_line(odd, now) == "{0} 1370 {x.__class__} 1370} {"


def test_no_counters() -> None:
    now = datetime(2021, 12, 3, 7, 30, tzinfo=MOSCOW)
    text = visible(render_daily_message([], now, CLOCKS))
    assert text == f"3 December 2021\nMoscow: 07:30\nLondon: 04:30\n\n{NO_COUNTERS}"
    assert "/addcounter" in text
    # What subscribers get at their daily time: no to-do for admins in it.
    scheduled = visible(render_daily_message([], now, CLOCKS, admin_hint=False))
    assert scheduled == "3 December 2021\nMoscow: 07:30\nLondon: 04:30"


def test_no_clocks_uses_utc_for_the_date() -> None:
    text = visible(render_daily_message([SALISBURY], utc(2021, 12, 3, 23, 0), []))
    assert text.splitlines()[:2] == ["3 December 2021", ""]


def test_many_long_counters_stay_within_the_limit() -> None:
    now = datetime(2021, 12, 3, 7, 30, tzinfo=MOSCOW)
    template = "{days} " + "&<" * 400
    counters = [counter(date(2018, 3, 4), "Europe/Moscow", template, n) for n in range(30)]
    text = visible(render_daily_message(counters, now, CLOCKS))
    assert text.endswith("more")


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_daily_message(SEED_COUNTERS, datetime(2021, 12, 3, 7, 30), CLOCKS)
    with pytest.raises(ValueError, match="timezone-aware"):
        days_since(date(2021, 1, 1), LONDON, datetime(2021, 12, 3))


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("Europe/Moscow", "Moscow"),
        ("America/New_York", "New York"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires"),
        ("UTC", "UTC"),
    ],
)
def test_clock_label(zone: str, label: str) -> None:
    assert clock_label(zone) == label


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("no placeholder", "must contain {days}"),
        ("{day} days", "must contain {days}"),
        ("{days}" + "x" * 1000, "too long"),
        ("{days}\nsecond line", "single line"),
    ],
)
def test_validate_template_refuses(template: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("{", r"\{").replace("}", r"\}")):
        validate_template(template)


def test_validate_template_accepts_the_seed_templates() -> None:
    for seed_counter in SEED_COUNTERS:
        validate_template(seed_counter.template)

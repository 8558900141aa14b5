"""Counter templates with plural forms: {days} and choice groups chosen by the number's
CLDR plural category in the template's language (English one|other, Russian
one|few|many), over 0-200 and the year-sized numbers of the seed's counters."""

from __future__ import annotations

import pytest

from text.counters import fill_template, template_language, validate_template

RUSSIAN = "С инцидента в Солсбери {прошёл|прошло|прошло} {days} {день|дня|дней}"
ENGLISH = "{days} {day has|days have} passed since the Salisbury incident"


def russian_category(n: int) -> str:
    """CLDR's rule for Russian integers, written out independently of Babel."""
    if n % 10 == 1 and n % 100 != 11:
        return "one"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return "few"
    return "many"


@pytest.mark.parametrize("n", range(0, 201))
def test_russian_forms_from_0_to_200(n: int) -> None:
    expected = {"one": ("прошёл", "день"), "few": ("прошло", "дня"), "many": ("прошло", "дней")}
    verb, noun = expected[russian_category(n)]
    assert fill_template(RUSSIAN, n, "ru") == f"С инцидента в Солсбери {verb} {n} {noun}"


@pytest.mark.parametrize("n", range(0, 201))
def test_english_forms_from_0_to_200(n: int) -> None:
    words = "day has" if n == 1 else "days have"
    assert fill_template(ENGLISH, n, "en") == f"{n} {words} passed since the Salisbury incident"


@pytest.mark.parametrize(
    ("n", "russian", "english"),
    [
        (1, "прошёл 1 день", "1 day has"),
        (1362, "прошло 1362 дня", "1362 days have"),
        (1370, "прошло 1370 дней", "1370 days have"),
        (1371, "прошёл 1371 день", "1371 days have"),
        (1311, "прошло 1311 дней", "1311 days have"),
        (1312, "прошло 1312 дней", "1312 days have"),
        (1322, "прошло 1322 дня", "1322 days have"),
        (2021, "прошёл 2021 день", "2021 days have"),
        (10_000, "прошло 10000 дней", "10000 days have"),
    ],
)
def test_year_sized_numbers(n: int, russian: str, english: str) -> None:
    assert russian in fill_template(RUSSIAN, n, "ru")
    assert fill_template(ENGLISH, n, "en").startswith(english)


def test_a_template_without_choices_is_filled_as_before() -> None:
    seed = "{days} days have passed since the Salisbury incident - no credible information"
    assert fill_template(seed, 1370, "en") == seed.replace("{days}", "1370")
    # Braces that are not a choice group stay as the admin wrote them.
    assert fill_template("{days} {x} {a|b", 2, "en") == "2 {x} {a|b"


def test_the_template_says_its_language_and_its_groups_must_fit_it() -> None:
    assert template_language(RUSSIAN) == "ru" and template_language(ENGLISH) == "en"
    validate_template(RUSSIAN)
    validate_template(ENGLISH)
    with pytest.raises(
        ValueError, match=r"\{день\|дней\} needs 3 forms, one for each of one\|few\|many"
    ):
        validate_template("{days} {день|дней}")
    with pytest.raises(ValueError, match=r"needs 2 forms, one for each of one\|other"):
        validate_template("{days} {day|days|dayz}")
    # A Russian text for an English counter follows Russian's forms, as asked.
    with pytest.raises(ValueError, match="needs 3 forms"):
        validate_template("{days} {day|days}", "ru")

"""Sentence splitting: abbreviations, initials, quotations, ellipses and paragraphs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from text.sentences import split_paragraphs, split_sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "Mr. Smith met Dr. Jones in St. Petersburg. They talked.",
            ["Mr. Smith met Dr. Jones in St. Petersburg.", "They talked."],
        ),
        (
            "Some formats, e.g. the QUAD, i.e. four states, exclude others. Russia objects.",
            ["Some formats, e.g. the QUAD, i.e. four states, exclude others.", "Russia objects."],
        ),
        (
            "See resolution No. 5 and p. 3 of the report. It is clear.",
            ["See resolution No. 5 and p. 3 of the report.", "It is clear."],
        ),
        (
            "Sergey V. Lavrov met J. Smith. They talked.",
            ["Sergey V. Lavrov met J. Smith.", "They talked."],
        ),
        (
            "The U.S. President spoke. Sanctions against the U.S. The ministry said so.",
            ["The U.S. President spoke.", "Sanctions against the U.S.", "The ministry said so."],
        ),
        (
            "Министр С. В. Лавров заявил об этом. Это важно.",
            ["Министр С. В. Лавров заявил об этом.", "Это важно."],
        ),
        (
            "Это важно, т. е. очень важно. Мы обсудили визы, торговлю и т.д. Потом ушли.",
            ["Это важно, т. е. очень важно.", "Мы обсудили визы, торговлю и т.д.", "Потом ушли."],
        ),
        (
            "Встреча прошла 2 окт. 2021 г. в Москве. Стороны договорились.",
            ["Встреча прошла 2 окт. 2021 г. в Москве.", "Стороны договорились."],
        ),
        (
            "Он живёт в г. Москве на ул. Тверской. Музей им. Пушкина открыт.",
            ["Он живёт в г. Москве на ул. Тверской.", "Музей им. Пушкина открыт."],
        ),
    ],
)
def test_abbreviations_and_initials_do_not_end_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "He said “We will go. We will win.” And then he left.",
            ["He said “We will go. We will win.”", "And then he left."],
        ),
        (
            "Она сказала: «Мы уйдём. Мы вернёмся». Потом ушла.",
            ["Она сказала: «Мы уйдём. Мы вернёмся».", "Потом ушла."],
        ),
        (
            'He said "We will go. We will win." Then he left.',
            ['He said "We will go. We will win."', "Then he left."],
        ),
        (
            "The Charter is a set of rules (see Annex 1. Article 2). The rules apply.",
            ["The Charter is a set of rules (see Annex 1. Article 2).", "The rules apply."],
        ),
        ("(See Annex 1.) The end.", ["(See Annex 1.)", "The end."]),
    ],
)
def test_quotations_and_brackets_are_not_split_inside(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_ellipses_questions_and_exclamations() -> None:
    assert split_sentences("We waited… and waited. Why? Because! The end... Really.") == [
        "We waited… and waited.",
        "Why?",
        "Because!",
        "The end...",
        "Really.",
    ]


def test_a_paragraph_break_always_ends_a_sentence() -> None:
    text = "Moscow, October 2, 2021\n\nUnofficial translation\n\n  First   one. Second\n\n"
    assert split_sentences(text) == [
        "Moscow, October 2, 2021",
        "Unofficial translation",
        "First one.",
        "Second",
    ]
    assert split_paragraphs(text) == [
        "Moscow, October 2, 2021",
        "Unofficial translation",
        "First one. Second",
    ]


def test_an_unclosed_quotation_does_not_swallow_the_paragraph() -> None:
    text = "He said “we will go. Nobody knew where. The talks ended."
    assert split_sentences(text) == [
        "He said “we will go.",
        "Nobody knew where.",
        "The talks ended.",
    ]


_TOKENS = """Mr. e.g. U.S. С. В. т. г. No. 5 « » “ ” " ( ) ? ! … ... . word Word Слово слово"""
_PIECES = st.sampled_from([*_TOKENS.split(), "\n\n"])


@given(st.lists(_PIECES, max_size=60).map(" ".join))
def test_splitting_loses_and_reorders_nothing(text: str) -> None:
    sentences = split_sentences(text)
    assert " ".join(sentences) == " ".join(" ".join(split_paragraphs(text)).split())
    assert all(s == s.strip() and s for s in sentences)

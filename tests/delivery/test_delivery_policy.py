"""The delivery policy as a table: Telegram's answer and what was learnt so far → action.

No server, no store: each row is one answer a send can get."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from jobs.delivery_policy import (
    Action,
    Deactivate,
    DeliveryTuning,
    Fail,
    Migrate,
    PauseAll,
    ResendPlain,
    Retry,
    Sent,
    SoFar,
    decide,
)

TUNING = DeliveryTuning(backoff=2.0, backoff_cap=300.0, max_attempts=6, timeout_pause=5.0)


def timed_out_connecting() -> TimedOut:
    error = TimedOut("Timed out")
    error.__cause__ = httpx.ConnectTimeout("connect")
    return error


def timed_out_reading() -> TimedOut:
    error = TimedOut("Timed out")
    error.__cause__ = httpx.ReadTimeout("read")
    return error


TABLE: list[tuple[str, BaseException | None, SoFar, Action]] = [
    ("sent", None, SoFar(), Sent()),
    ("429 pauses everyone", RetryAfter(timedelta(seconds=7)), SoFar(), PauseAll(7.0, "")),
    ("429 in plain seconds", RetryAfter(3), SoFar(errors=4), PauseAll(3.0, "")),
    (
        "blocked",
        Forbidden("Forbidden: bot was blocked by the user"),
        SoFar(),
        Deactivate("blocked the bot"),
    ),
    (
        "kicked",
        Forbidden("Forbidden: bot was kicked from the group chat"),
        SoFar(),
        Deactivate("removed the bot"),
    ),
    (
        "deactivated user",
        Forbidden("Forbidden: user is deactivated"),
        SoFar(),
        Deactivate("user deactivated"),
    ),
    ("other 403", Forbidden("Forbidden: odd"), SoFar(), Deactivate("Forbidden: odd")),
    (
        "chat not found",
        BadRequest("Bad Request: chat not found"),
        SoFar(),
        Deactivate("chat not found"),
    ),
    ("migrated", ChatMigrated(-1001234), SoFar(), Migrate(-1001234)),
    (
        "unparsable HTML",
        BadRequest("Bad Request: can't parse entities: x"),
        SoFar(),
        ResendPlain(""),
    ),
    (
        "unparsable even as plain",
        BadRequest("Bad Request: can't parse entities: x"),
        SoFar(plain=True),
        Fail("refused by Telegram: Can't parse entities: x"),
    ),
    (
        "other 400",
        BadRequest("Bad Request: message is too long"),
        SoFar(),
        Fail("refused by Telegram: Message is too long"),
    ),
    ("5xx, first", NetworkError("Bad Gateway"), SoFar(), Retry(2.0, "Bad Gateway")),
    ("5xx, third", NetworkError("Bad Gateway"), SoFar(errors=2), Retry(8.0, "Bad Gateway")),
    (
        "5xx, backoff capped",
        NetworkError("Bad Gateway"),
        SoFar(errors=4),
        Retry(32.0, "Bad Gateway"),
    ),
    (
        "5xx, the last one",
        NetworkError("Bad Gateway"),
        SoFar(errors=5),
        Fail("gave up after 6 attempts: Bad Gateway"),
    ),
    (
        "never connected",
        timed_out_connecting(),
        SoFar(),
        Retry(2.0, "timed out connecting: Timed out"),
    ),
    (
        "no answer: once more",
        timed_out_reading(),
        SoFar(),
        Retry(5.0, "timed out: Timed out", counts=False, possible_duplicate=True),
    ),
    (
        "no answer again",
        timed_out_reading(),
        SoFar(timeouts=1),
        Retry(2.0, "timed out again: Timed out", possible_duplicate=True),
    ),
    (
        "no answer, out of attempts",
        timed_out_reading(),
        SoFar(errors=5, timeouts=1),
        Fail("gave up after 6 attempts: timed out again: Timed out", possible_duplicate=True),
    ),
    ("a bug", ValueError("boom"), SoFar(), Retry(2.0, "ValueError: boom")),
]


@pytest.mark.parametrize(
    ("answer", "so_far", "expected"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE]
)
def test_each_answer_has_one_action(
    answer: BaseException | None, so_far: SoFar, expected: Action
) -> None:
    action = decide(answer, so_far, TUNING)
    if isinstance(expected, PauseAll | ResendPlain):
        # The error text is Telegram's own wording; the decision is the kind and the time.
        assert type(action) is type(expected)
        if isinstance(expected, PauseAll):
            assert isinstance(action, PauseAll) and action.seconds == expected.seconds
        return
    assert action == expected


def test_backoff_never_exceeds_its_cap() -> None:
    tuning = DeliveryTuning(backoff=100.0, backoff_cap=300.0, max_attempts=50)
    delays = [decide(NetworkError("x"), SoFar(errors=n), tuning) for n in range(10)]
    assert [d.after for d in delays if isinstance(d, Retry)] == [
        100,
        200,
        300,
        300,
        300,
        300,
        300,
        300,
        300,
        300,
    ]

"""What delivery does after a send: a pure function from Telegram's answer to an action.

Every answer a send can get (success, 429, a timeout, a migration, a refusal, a
network error, a bug) maps to exactly one action here, with no I/O, so the whole
policy reads and is tested as a table; `jobs.delivery` carries the actions out.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import timedelta

import httpx
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

MAX_ATTEMPTS = 6  # network errors and 5xx before a row is marked failed
TIMEOUT_PAUSE = 5.0  # seconds before resending after a timeout
BACKOFF = 2.0  # first retry delay after a network error; doubles each time
BACKOFF_CAP = 300.0


@dataclass(frozen=True, slots=True)
class DeliveryTuning:
    """Knobs with production defaults; tests shrink the waits."""

    workers: int = 1  # sends in flight at once (DELIVERY_CONCURRENCY)
    backoff: float = BACKOFF
    backoff_cap: float = BACKOFF_CAP
    max_attempts: int = MAX_ATTEMPTS
    timeout_pause: float = TIMEOUT_PAUSE
    # How long stop() lets a request in flight finish: within PTB's 5 s read timeout
    # a send has an answer, and SIGTERM must end the bot within 10 s.
    stop_grace: float = 6.0


@dataclass(frozen=True, slots=True)
class SoFar:
    """What this process has learnt sending one message before this answer."""

    errors: int = 0  # failures that count towards giving up
    timeouts: int = 0  # sends that got no answer and may have arrived
    plain: bool = False  # already resent as plain text


# ------------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class Sent:
    """Telegram confirmed the message: mark it sent."""


@dataclass(frozen=True, slots=True)
class PauseAll:
    """429: nobody sends for `seconds`; this message goes again after the pause."""

    seconds: float
    error: str


@dataclass(frozen=True, slots=True)
class Retry:
    """Send again after `after` seconds. `counts` says whether this failure counts
    towards giving up; `possible_duplicate`, whether it may have arrived already."""

    after: float
    error: str
    counts: bool = True
    possible_duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Fail:
    """Give up on this message for good (kept as failed, admins told)."""

    error: str
    possible_duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Deactivate:
    """The chat cannot be reached any more (blocked, kicked, gone)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Drop:
    """Nothing to send after all (the message a correction was for is gone): the row
    is cancelled, which is no failure."""

    reason: str


@dataclass(frozen=True, slots=True)
class Migrate:
    """The group became a supergroup: everything moves to `new_chat_id`."""

    new_chat_id: int


@dataclass(frozen=True, slots=True)
class ResendPlain:
    """Telegram could not parse the HTML: send the same message as plain text."""

    error: str


Setback = PauseAll | Retry | Fail | Deactivate | Drop | Migrate | ResendPlain
Action = Sent | Setback


# ------------------------------------------------------------------ decision


def decide(answer: BaseException | None, so_far: SoFar, tuning: DeliveryTuning) -> Action:
    """The action for Telegram's `answer` to a send (None: it was sent)."""
    if answer is None:
        return Sent()
    if isinstance(answer, RetryAfter):
        return PauseAll(retry_after_seconds(answer), str(answer))
    if isinstance(answer, TimedOut):
        return _timed_out(answer, so_far, tuning)
    if isinstance(answer, ChatMigrated):
        return Migrate(int(answer.new_chat_id))
    if isinstance(answer, Forbidden):
        return Deactivate(forbidden_reason(answer))
    if isinstance(answer, BadRequest):
        text = answer.message.lower()
        if "chat not found" in text or "chat_id is empty" in text or "user not found" in text:
            return Deactivate("chat not found")
        if "message thread not found" in text or "topic_deleted" in text:
            # A forum topic deleted: the topic is a subscriber that went away.
            return Deactivate("topic deleted")
        # Corrections: the message already says this, or it is no longer there to edit.
        if "message is not modified" in text:
            return Sent()
        if "message to edit not found" in text or "message can't be edited" in text:
            return Drop("the message to correct is gone")
        if ("can't parse entities" in text or "can't find end" in text) and not so_far.plain:
            return ResendPlain(str(answer))
        return Fail(f"refused by Telegram: {answer.message}")
    if isinstance(answer, NetworkError):  # 5xx answers and connection errors
        return _retry_or_fail(str(answer) or type(answer).__name__, so_far, tuning)
    # Anything else Telegram or PTB raises: a bug, retried like a network error.
    return _retry_or_fail(f"{type(answer).__name__}: {answer}", so_far, tuning)


def _timed_out(answer: TimedOut, so_far: SoFar, tuning: DeliveryTuning) -> Action:
    if never_sent(answer):
        return _retry_or_fail(f"timed out connecting: {answer}", so_far, tuning)
    if so_far.timeouts == 0:
        # It may have arrived: send once more after a pause, and count the row.
        return Retry(
            tuning.timeout_pause, f"timed out: {answer}", counts=False, possible_duplicate=True
        )
    # Each send with no answer may have arrived: each is counted.
    action = _retry_or_fail(f"timed out again: {answer}", so_far, tuning)
    if isinstance(action, Retry):
        return Retry(action.after, action.error, counts=True, possible_duplicate=True)
    assert isinstance(action, Fail)
    return Fail(action.error, possible_duplicate=True)


def _retry_or_fail(error: str, so_far: SoFar, tuning: DeliveryTuning) -> Retry | Fail:
    errors = so_far.errors + 1
    if errors >= tuning.max_attempts:
        return Fail(f"gave up after {errors} attempts: {error}")
    return Retry(min(tuning.backoff_cap, tuning.backoff * 2 ** (errors - 1)), error)


def never_sent(exc: TimedOut) -> bool:
    """A timeout while connecting or waiting for a free connection: nothing went out."""
    return isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that `retry_after` will become a timedelta; both are handled.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def forbidden_reason(exc: Forbidden) -> str:
    text = exc.message.lower()
    if "blocked" in text:
        return "blocked the bot"
    if "kicked" in text or "not a member" in text:
        return "removed the bot"
    if "deactivated" in text:
        return "user deactivated"
    return exc.message[:200]

"""When to poll a feed next: pure functions of the clock and what the server said.

Never sooner than the configured interval, never later than a day: a feed
that fails for a week is still tried daily, so it is never disabled for good.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

__all__ = [
    "MAX_DELAY",
    "next_poll_after_failure",
    "next_poll_after_success",
    "spread_offset",
]

MAX_DELAY = 24 * 60 * 60.0
"""The longest a feed ever waits, in seconds, whatever the server asks."""

# Backoff delays are stretched by a random 10-20 %, up or down, so feeds that
# failed together (one host down) don't all come back in the same second.
_JITTER_MIN = 0.10
_JITTER_MAX = 0.20


def next_poll_after_success(
    now: datetime,
    *,
    poll_interval: float,
    cache_seconds: float | None,
    ttl_seconds: int | None,
) -> datetime:
    """The later of the interval, the server's freshness and the feed's ``<ttl>``.

    Capped at a day so that a server asking for a year is still checked daily.
    """
    delay = max(poll_interval, cache_seconds or 0.0, float(ttl_seconds or 0))
    return now + timedelta(seconds=min(delay, max(MAX_DELAY, poll_interval)))


def next_poll_after_failure(
    now: datetime,
    *,
    poll_interval: float,
    consecutive_failures: int,
    retry_after: float | None,
    rng: random.Random,
) -> datetime:
    """Exponential backoff: ``poll_interval × 2^(failures-1)``, jittered, capped.

    The first failure waits about one interval, the second two, and so on up
    to a day. ``Retry-After`` wins when it asks for longer, also capped.
    The result is never sooner than ``poll_interval``.
    """
    cap = max(MAX_DELAY, poll_interval)
    exponent = max(0, consecutive_failures - 1)
    # Clamp the exponent first: 2**10000 as a float would overflow.
    base = min(poll_interval * 2.0 ** min(exponent, 64), cap)
    magnitude = rng.uniform(_JITTER_MIN, _JITTER_MAX)
    sign = 1.0 if rng.random() < 0.5 else -1.0
    delay = base * (1.0 + sign * magnitude)
    if retry_after is not None and retry_after > delay:
        delay = retry_after
    delay = min(max(delay, poll_interval), cap)
    return now + timedelta(seconds=delay)


def spread_offset(feed_id: int, poll_interval: float) -> float:
    """A stable offset in ``[0, poll_interval)`` for a feed's polls.

    Derived from a hash of the id rather than the id itself, so feeds added
    one after another don't march in step a fixed distance apart; stable
    across restarts (unlike ``hash()``, which is salted per process).
    """
    if poll_interval <= 0:
        return 0.0
    digest = hashlib.blake2b(feed_id.to_bytes(16, "big", signed=True), digest_size=8).digest()
    fraction = int.from_bytes(digest, "big") / float(1 << 64)
    offset = fraction * poll_interval
    # Float rounding can land exactly on the interval; keep it half-open.
    return offset if offset < poll_interval else 0.0

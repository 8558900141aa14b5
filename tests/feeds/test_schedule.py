"""jobs.schedule: pure timing decisions, checked with a fixed clock and seeded randomness."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.schedule import (
    MAX_DELAY,
    next_poll_after_failure,
    next_poll_after_success,
    spread_offset,
)

NOW = datetime(2021, 12, 3, 7, 30, tzinfo=UTC)
INTERVAL = 300.0
DAY = timedelta(hours=24)


def seconds_after(when: datetime) -> float:
    return (when - NOW).total_seconds()


def test_success_waits_the_interval_by_default() -> None:
    when = next_poll_after_success(
        NOW, poll_interval=INTERVAL, cache_seconds=None, ttl_seconds=None
    )
    assert seconds_after(when) == INTERVAL


@pytest.mark.parametrize(
    ("cache", "ttl", "expected"),
    [
        (60.0, None, INTERVAL),  # never sooner than the interval
        (900.0, None, 900.0),
        (None, 3600, 3600.0),  # <ttl> is minutes in RSS; callers convert to seconds
        (900.0, 3600, 3600.0),
        (7200.0, 3600, 7200.0),
        (10 * 86400.0, None, MAX_DELAY),  # capped at a day
        (None, 10 * 86400, MAX_DELAY),
    ],
)
def test_success_honours_cache_and_ttl(
    cache: float | None, ttl: int | None, expected: float
) -> None:
    when = next_poll_after_success(
        NOW, poll_interval=INTERVAL, cache_seconds=cache, ttl_seconds=ttl
    )
    assert seconds_after(when) == expected


def _failure_delay(failures: int, *, retry_after: float | None = None, seed: int = 1) -> float:
    when = next_poll_after_failure(
        NOW,
        poll_interval=INTERVAL,
        consecutive_failures=failures,
        retry_after=retry_after,
        rng=random.Random(seed),
    )
    return seconds_after(when)


@pytest.mark.parametrize("failures", [2, 3, 4, 5, 6])
def test_backoff_doubles_within_jitter(failures: int) -> None:
    base = INTERVAL * 2 ** (failures - 1)
    for seed in range(50):
        delay = _failure_delay(failures, seed=seed)
        assert 0.10 * base - 1e-6 <= abs(delay - base) <= 0.20 * base + 1e-6


def test_jitter_goes_both_ways_and_is_seeded() -> None:
    delays = {_failure_delay(4, seed=seed) for seed in range(50)}
    base = INTERVAL * 8
    assert min(delays) < base < max(delays)
    assert _failure_delay(4, seed=7) == _failure_delay(4, seed=7)


def test_backoff_caps_at_a_day() -> None:
    for failures in (20, 50, 10_000):
        for seed in range(20):
            assert _failure_delay(failures, seed=seed) <= MAX_DELAY
    # Well past the cap the jitter still spreads feeds below it.
    assert min(_failure_delay(30, seed=s) for s in range(20)) < MAX_DELAY


def test_first_failure_never_sooner_than_the_interval() -> None:
    for seed in range(100):
        assert _failure_delay(1, seed=seed) >= INTERVAL
        assert _failure_delay(0, seed=seed) >= INTERVAL


def test_retry_after_is_honoured_and_capped() -> None:
    assert _failure_delay(1, retry_after=5000.0) == 5000.0
    assert _failure_delay(1, retry_after=10.0) >= INTERVAL  # not sooner than the interval
    assert _failure_delay(1, retry_after=7 * 86400.0) == MAX_DELAY
    # A short Retry-After does not cut a long backoff short.
    assert _failure_delay(6, retry_after=60.0) > INTERVAL * 16


@given(
    failures=st.integers(min_value=0, max_value=10_000),
    interval=st.floats(min_value=1.0, max_value=86_400.0),
    retry_after=st.none() | st.floats(min_value=0.0, max_value=1e9),
    seed=st.integers(),
)
def test_failure_delay_bounds(
    failures: int, interval: float, retry_after: float | None, seed: int
) -> None:
    when = next_poll_after_failure(
        NOW,
        poll_interval=interval,
        consecutive_failures=failures,
        retry_after=retry_after,
        rng=random.Random(seed),
    )
    assert interval - 1e-6 <= seconds_after(when) <= max(MAX_DELAY, interval) + 1e-6


@given(feed_id=st.integers(min_value=-(2**63), max_value=2**63 - 1), interval=st.floats(0.001, 1e6))
def test_spread_offset_is_within_the_interval(feed_id: int, interval: float) -> None:
    offset = spread_offset(feed_id, interval)
    assert 0.0 <= offset < interval
    assert offset == spread_offset(feed_id, interval)


def test_spread_offset_spreads_feeds() -> None:
    offsets = [spread_offset(feed_id, INTERVAL) for feed_id in range(1, 1001)]
    # Every tenth of the interval gets a fair share of 1000 feeds.
    buckets = [0] * 10
    for offset in offsets:
        buckets[int(offset / INTERVAL * 10)] += 1
    assert min(buckets) > 60
    assert len(set(offsets)) == len(offsets)
    assert spread_offset(5, 0.0) == 0.0

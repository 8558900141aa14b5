"""Per-user allowances for costly requests (searches, and what comes to cost as much):
at most N in any 60 seconds, per user, counted where it is asked."""

from __future__ import annotations

from collections import deque

WINDOW = 60.0
PRUNE_AT = 10_000  # users remembered before those with nothing in the window are dropped


class PerUserLimit:
    """A sliding window of `per_minute` requests per user; memory follows activity."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._windows: dict[int, deque[float]] = {}
        self._prune_at = PRUNE_AT

    def wait(self, user_id: int, now: float) -> int:
        """Seconds until this user may ask again; 0: now, and this request is counted."""
        window = self._windows.setdefault(user_id, deque())
        while window and window[0] <= now - WINDOW:
            window.popleft()
        if len(window) >= self.per_minute:
            return max(1, int(window[0] + WINDOW - now + 0.999))
        window.append(now)
        if len(self._windows) > self._prune_at:
            self._prune(now)
        return 0

    def _prune(self, now: float) -> None:
        self._windows = {
            user: window for user, window in self._windows.items() if window[-1] > now - WINDOW
        }
        # Mostly live users: prune less often, so no send pays a full scan.
        self._prune_at = max(PRUNE_AT, 2 * len(self._windows))

    def __len__(self) -> int:
        return len(self._windows)

"""At most a few fetches to one host at a time, however many feeds it serves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx


class HostLimiter:
    """At most ``max_per_host`` fetches to one host at a time.

    The poll loop combines it with a global ``asyncio.Semaphore``::

        async with global_semaphore, limiter.limit(url):
            await fetch_feed(...)

    Entries disappear when no fetch uses them, so the table stays as small as
    the number of hosts currently being polled.
    """

    def __init__(self, max_per_host: int = 2) -> None:
        if max_per_host < 1:
            raise ValueError("max_per_host must be at least 1")
        self.max_per_host = max_per_host
        self._slots: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    @staticmethod
    def host_of(url: str) -> str:
        """The key for ``url``: its lowercased host (the URL itself if unparsable)."""
        try:
            return httpx.URL(url).host.lower() or url
        except (httpx.InvalidURL, UnicodeError):
            return url

    def in_use(self, url: str) -> int:
        """How many fetches currently hold or wait for ``url``'s host."""
        entry = self._slots.get(self.host_of(url))
        return entry[1][0] if entry else 0

    @contextlib.asynccontextmanager
    async def limit(self, url: str) -> AsyncIterator[None]:
        """Hold one of the host's slots for the duration of the block."""
        host = self.host_of(url)
        entry = self._slots.get(host)
        if entry is None:
            entry = (asyncio.Semaphore(self.max_per_host), [0])
            self._slots[host] = entry
        semaphore, users = entry
        users[0] += 1
        try:
            async with semaphore:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._slots[host]

"""Why a fetch failed, in words an admin can act on; one class per thing to do about it."""

from __future__ import annotations


class FetchError(Exception):
    """A feed could not be fetched; ``message`` is meant for an admin to read."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


class AddressNotAllowedError(FetchError):
    """The URL points at this machine or a private network."""


class FeedGoneError(FetchError):
    """HTTP 410: the publisher removed the feed; pause it and tell the admins."""


class TooLargeError(FetchError):
    """The decoded body grew beyond the limit; reading stopped there."""

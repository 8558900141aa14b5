"""The faults a test can make the emulator answer with, one-off or at a seeded
rate, and Telegram's flood limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from emulator.models import ApiError


@dataclass(frozen=True)
class RetryAfter:
    """429 "Too Many Requests: retry after N" with ``parameters.retry_after``."""

    seconds: int = 1


@dataclass(frozen=True)
class Blocked:
    """403 "Forbidden: bot was blocked by the user" (the chat stays blocked)."""


@dataclass(frozen=True)
class Kicked:
    """403 "Forbidden: bot was kicked from the group chat"."""


@dataclass(frozen=True)
class ChatNotFound:
    """400 "Bad Request: chat not found"."""


@dataclass(frozen=True)
class Migrate:
    """400 with ``parameters.migrate_to_chat_id``; the group becomes that supergroup."""

    new_chat_id: int


@dataclass(frozen=True)
class ServerError:
    """A 5xx answer (Telegram sends 500 and, behind its proxies, 502)."""

    status: int = 500
    description: str = "Internal Server Error"


@dataclass(frozen=True)
class Delay:
    """Hold the answer ``seconds`` (real time), past the client's timeout.

    Like Telegram, the request may still take effect: with ``deliver=True`` it
    is carried out at once and only the answer is held; with ``deliver=False``
    it is held and then dropped (answered 504).
    """

    seconds: float
    deliver: bool = True


@dataclass(frozen=True)
class ConnectionReset:
    """The connection is dropped without an answer (and the request not carried out)."""


Fault: TypeAlias = (
    RetryAfter | Blocked | Kicked | ChatNotFound | Migrate | ServerError | Delay | ConnectionReset
)


@dataclass
class Injection:
    """One armed fault; ``times=None`` means until removed. ``hits`` counts uses."""

    method: str | None
    chat_id: int | str | None
    error: Fault
    times: int | None
    passed: int = 0  # matching calls still to let through before it strikes
    hits: int = 0

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass(frozen=True)
class RateLimits:
    """Telegram's documented flood limits; ``slack`` forgives arrival jitter (seconds)."""

    global_per_second: int = 30
    private_per_second: int = 1
    group_per_minute: int = 20
    slack: float = 0.05


def _migrated_error(new_chat_id: int) -> ApiError:
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )

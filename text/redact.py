"""Secrets kept out of every text we write: logs, the database, admins' alerts.

One registry per process. The bot registers its token (and webhook secret) at
start; whatever then passes through `redact` shows `[REDACTED]` in their place.
"""

from __future__ import annotations

from collections.abc import Iterable

REDACTED = "[REDACTED]"

_secrets: list[str] = []


def add_secrets(secrets: Iterable[str | None]) -> None:
    """Hide these strings from now on."""
    for secret in secrets:
        if secret and secret not in _secrets:
            _secrets.append(secret)
            # The part after the colon alone would still identify the bot.
            _, _, tail = secret.partition(":")
            if len(tail) >= 20 and tail not in _secrets:
                _secrets.append(tail)


def has_secrets() -> bool:
    return bool(_secrets)


def redact(text: str) -> str:
    for secret in _secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text

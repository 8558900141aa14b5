"""Settings: read once at start from the environment and `.env`, validated, passed down.

Every variable has one entry in `SPECS` with its default and its check, and a bad
value stops start-up with a message naming the variable, the value and what was
expected.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

from storage.database_url import DatabaseUrl, parse_database_url
from text.dates import canonical_zone, parse_time
from text.i18n import LANGUAGES

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    token: str | None
    api_base_url: str
    database_path: Path
    admin_ids: frozenset[int]
    poll_interval: float
    daily_time: time
    timezone: str
    clocks: tuple[str, ...]
    allow_private_feeds: bool
    broadcast_rate: float
    delivery_concurrency: int
    admin_chat_id: int | None
    webhook_url: str | None
    webhook_secret: str | None
    webhook_listen: str
    webhook_port: int
    log_level: str
    default_language: str = "en"
    database_url: DatabaseUrl | None = None  # PostgreSQL; None: SQLite at database_path

    @property
    def database_name(self) -> str:
        """The database as an operator may see it: the file, or the URL without its
        password."""
        if self.database_url is not None:
            return self.database_url.masked
        return str(self.database_path)

    @property
    def api_file_url(self) -> str:
        """PTB's file URL for this API base (`.../bot` becomes `.../file/bot`)."""
        base = self.api_base_url
        if base.endswith("/bot"):
            return base[: -len("bot")] + "file/bot"
        return base.rstrip("/") + "/file/bot"

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids


def _fail(name: str, value: str, expected: str) -> SettingsError:
    return SettingsError(f"{name} must be {expected}, got {value!r}")


def _token(name: str, value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    bot_id, sep, secret = value.partition(":")
    if not sep or not bot_id.isdigit() or len(secret) < 20:
        # The value is a secret: never echo it back.
        raise SettingsError(
            f"{name} must look like 123456789:AA... (the token @BotFather gave), "
            f"got a value of {len(value)} characters that does not look like one"
        )
    return value


def _url(name: str, value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _fail(name, value, "an http:// or https:// URL")
    return value.strip()


def _optional_url(name: str, value: str) -> str | None:
    return _url(name, value) if value.strip() else None


def _path(name: str, value: str) -> Path:
    if not value.strip():
        raise _fail(name, value, "a file path")
    return Path(value.strip()).expanduser()


def _database_url(name: str, value: str) -> DatabaseUrl | None:
    if not value.strip():
        return None
    try:
        return parse_database_url(value)
    except ValueError as exc:
        # The message shows the URL with its password masked, never as typed.
        raise SettingsError(f"{name} must be {exc}") from None


def _admin_ids(name: str, value: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise _fail(name, value, "comma-separated Telegram user ids")
        ids.add(int(part))
    return frozenset(ids)


def _positive_number(low: float, high: float) -> Callable[[str, str], float]:
    def parse(name: str, value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise _fail(name, value, f"a number between {low:g} and {high:g}") from None
        if not low <= number <= high:
            raise _fail(name, value, f"a number between {low:g} and {high:g}")
        return number

    return parse


def _daily_time(name: str, value: str) -> time:
    at = parse_time(value)
    if at is None:
        raise _fail(name, value, "a time of day as HH:MM (00:00 to 23:59)")
    return at


def _zone(name: str, value: str) -> str:
    zone = canonical_zone(value)
    if zone is None:
        raise _fail(name, value, "an IANA time zone such as Europe/London")
    return zone


def _zones(name: str, value: str) -> tuple[str, ...]:
    names = [z.strip() for z in value.split(",") if z.strip()]
    if not names:
        raise _fail(name, value, "one or more comma-separated IANA time zones")
    zones = tuple(canonical_zone(z) for z in names)
    if None in zones:
        raise _fail(name, value, "comma-separated IANA time zones such as Europe/Moscow")
    return tuple(z for z in zones if z is not None)


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise _fail(name, value, "true or false")


def _optional_chat_id(name: str, value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise _fail(name, value, "a Telegram chat id (a whole number, -100… for groups)") from None


def _optional_secret(name: str, value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    if not 1 <= len(value) <= 256 or set(value) - allowed:
        raise SettingsError(
            f"{name} must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"
        )
    return value


def _int_between(low: int, high: int) -> Callable[[str, str], int]:
    def parse(name: str, value: str) -> int:
        text = value.strip()
        if not text.isdigit() or not low <= int(text) <= high:
            raise _fail(name, value, f"a whole number between {low} and {high}")
        return int(text)

    return parse


def _port(name: str, value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= 65535:
        raise _fail(name, value, "a TCP port between 1 and 65535")
    return int(value)


def _nonempty(name: str, value: str) -> str:
    if not value.strip():
        raise _fail(name, value, "a non-empty value")
    return value.strip()


def _language(name: str, value: str) -> str:
    language = value.strip().lower()
    if language not in LANGUAGES:
        raise _fail(name, value, " or ".join(LANGUAGES))
    return language


def _log_level(name: str, value: str) -> str:
    level = value.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise _fail(name, value, "DEBUG, INFO, WARNING or ERROR")
    return level


@dataclass(frozen=True, slots=True)
class Spec:
    field: str
    default: str
    parse: Callable[[str, str], Any]
    help: str


SPECS: dict[str, Spec] = {
    "TELEGRAM_BOT_TOKEN": Spec(
        "token", "", _token, "the bot's token from @BotFather; empty: console mode"
    ),
    "TELEGRAM_API_BASE_URL": Spec(
        "api_base_url",
        DEFAULT_API_BASE_URL,
        _url,
        "Bot API base URL; the token is appended to it (local Bot API server, emulator)",
    ),
    "DATABASE_PATH": Spec(
        "database_path", "./data/communique.sqlite3", _path, "the SQLite file (folder created)"
    ),
    "DATABASE_URL": Spec(
        "database_url",
        "",
        _database_url,
        "postgresql://user:password@host:port/dbname: PostgreSQL instead of the SQLite file;"
        " empty: SQLite at DATABASE_PATH",
    ),
    "ADMIN_IDS": Spec("admin_ids", "", _admin_ids, "comma-separated Telegram user ids of admins"),
    "POLL_INTERVAL": Spec(
        "poll_interval",
        "300",
        _positive_number(1, 86400),
        "seconds between polls of a feed, unless the feed asks for more",
    ),
    "DAILY_TIME": Spec(
        "daily_time", "09:00", _daily_time, "default local time of the daily message"
    ),
    "TIMEZONE": Spec("timezone", "Europe/London", _zone, "default IANA time zone of chats"),
    "CLOCKS": Spec(
        "clocks",
        "Europe/Moscow,Europe/London",
        _zones,
        "IANA zones shown as clocks in the daily message",
    ),
    "ALLOW_PRIVATE_FEEDS": Spec(
        "allow_private_feeds",
        "false",
        _bool,
        "allow feed URLs on loopback or private networks (tests, intranets)",
    ),
    "BROADCAST_RATE": Spec(
        "broadcast_rate",
        "30",
        _positive_number(0.1, 1000),
        "messages per second sent to Telegram at most (Telegram allows 30)",
    ),
    "DELIVERY_CONCURRENCY": Spec(
        "delivery_concurrency",
        "1",
        _int_between(1, 32),
        "sends in flight at once; a crash may duplicate at most this many messages",
    ),
    "ADMIN_CHAT_ID": Spec(
        "admin_chat_id",
        "",
        _optional_chat_id,
        "chat that receives alerts; empty: each admin's private chat",
    ),
    "WEBHOOK_URL": Spec(
        "webhook_url", "", _optional_url, "public HTTPS URL for webhook mode; empty: polling"
    ),
    "WEBHOOK_SECRET": Spec(
        "webhook_secret", "", _optional_secret, "secret Telegram sends with every webhook request"
    ),
    "WEBHOOK_LISTEN": Spec(
        "webhook_listen", "127.0.0.1", _nonempty, "address the webhook server listens on"
    ),
    "WEBHOOK_PORT": Spec("webhook_port", "8443", _port, "port the webhook server listens on"),
    "DEFAULT_LANGUAGE": Spec(
        "default_language",
        "en",
        _language,
        "interface language of groups, channels and users whose Telegram language is"
        " neither en nor ru",
    ),
    "LOG_LEVEL": Spec("log_level", "INFO", _log_level, "DEBUG, INFO, WARNING or ERROR"),
}


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Read every setting: the environment wins over `.env`, `.env` over the default."""
    env = dict(os.environ if environ is None else environ)
    file_values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        try:
            read = dotenv_values(env_file)
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
            raise SettingsError(f"cannot read the settings file {env_file}: {reason}") from None
        file_values = {k: v for k, v in read.items() if v is not None}
    values: dict[str, Any] = {}
    for name, spec in SPECS.items():
        raw = env.get(name, file_values.get(name, spec.default))
        values[spec.field] = spec.parse(name, raw)
    if values["webhook_url"] and not values["token"]:
        raise SettingsError("WEBHOOK_URL needs TELEGRAM_BOT_TOKEN to be set as well")
    if values["webhook_url"] and values["database_url"] and not values["webhook_secret"]:
        # Two instances behind one URL must check the same secret: a random one per
        # start would make Telegram's requests to the other instance fail.
        raise SettingsError(
            "WEBHOOK_URL with DATABASE_URL needs WEBHOOK_SECRET to be set (the same on"
            " every instance behind the URL)"
        )
    return Settings(**values)

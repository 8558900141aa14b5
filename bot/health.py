"""A liveness heartbeat, and the light check that reads it (`communique healthcheck`).

The running bot touches a small file next to the database every HEARTBEAT_EVERY
seconds, after a read of the database succeeds, and writes its role there: on
PostgreSQL, "leader" or "standby" (the file then sits beside DATABASE_PATH, which
holds no database: each instance has its own). A container health check then only
needs to look at a file's age: no Telegram request, no feed fetch, no lock on the
database, so it can run every few seconds on a small machine.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from storage.api import StoreAPI

HEARTBEAT_EVERY = 30.0  # seconds between beats
STALE_AFTER = 120.0  # a beat older than this means the bot is stuck or gone


def heartbeat_path(database_path: Path) -> Path:
    """`communique.sqlite3` → `communique.sqlite3.heartbeat`, on the same volume."""
    return database_path.with_name(database_path.name + ".heartbeat")


async def beat(store: StoreAPI, path: Path, role: str | None = None) -> None:
    """Prove the event loop and the database both work, then say so in the file."""
    await store.schema_version()
    write_beat(path, role)


def write_beat(path: Path, role: str | None = None) -> None:
    # A few bytes on a local disk: not worth a thread hop every 30 s.
    line = f"{os.getpid()} {time.time():.0f}" + (f" {role}" if role else "")
    path.write_text(line + "\n", encoding="ascii")


def clear_heartbeat(path: Path) -> None:
    """A clean stop: remove this process's heartbeat, so that a health check says
    "not running" at once instead of "ok" until the beat goes stale."""
    try:
        if path.read_text(encoding="ascii").split()[:1] == [str(os.getpid())]:
            path.unlink()
    except (OSError, UnicodeDecodeError):
        pass


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    detail: str


ROLES = {"leader": "leader", "standby": "standby, waiting to take over"}


def check_health(
    database_path: Path,
    *,
    stale_after: float = STALE_AFTER,
    now: float | None = None,
    database_file: bool = True,
) -> Health:
    """Whether a bot using this database beat recently enough, and in which role.
    `database_file`: SQLite, whose file must exist (not so on PostgreSQL)."""
    if database_file and not database_path.is_file():
        return Health(False, f"the database {database_path} does not exist")
    path = heartbeat_path(database_path)
    try:
        modified = path.stat().st_mtime
    except FileNotFoundError:
        return Health(False, f"no heartbeat at {path}: the bot is not running")
    except OSError as exc:
        return Health(False, f"cannot read the heartbeat {path}: {exc.strerror}")
    age = (time.time() if now is None else now) - modified
    if age > stale_after:
        return Health(
            False,
            f"the last heartbeat is {age:.0f} s old (limit {stale_after:.0f} s): "
            "the bot is stuck or stopped",
        )
    try:
        fields = path.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        fields = []
    role = ROLES.get(fields[2], fields[2]) + ", " if len(fields) > 2 else ""
    return Health(True, f"{role}heartbeat {max(age, 0):.0f} s ago")

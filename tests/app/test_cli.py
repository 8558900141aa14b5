"""The command line's operational paths: `run` without a token is console mode, and
`healthcheck` reads the heartbeat the running bot writes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import SPECS
from bot.health import STALE_AFTER, check_health, clear_heartbeat, heartbeat_path
from tests.support.rig import Rig


def communique(
    tmp_path: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SPECS}
    clean["DATABASE_PATH"] = str(tmp_path / "data" / "communique.sqlite3")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean,
        timeout=60,
    )


def test_run_without_a_token_is_console_mode(tmp_path: Path) -> None:
    done = communique(tmp_path, "run", stdin="/counters\n")

    assert done.returncode == 0, done.stderr
    assert "TELEGRAM_BOT_TOKEN is not set: starting console mode" in done.stderr
    assert " INFO " not in done.stderr
    assert "Moscow: " in done.stdout and "London: " in done.stdout


def test_console_logs_everything_with_log_level_debug(tmp_path: Path) -> None:
    done = communique(tmp_path, "console", LOG_LEVEL="DEBUG")

    assert done.returncode == 0, done.stderr
    assert "INFO bot.app: Communique started" in done.stderr


def test_healthcheck_command(tmp_path: Path) -> None:
    database = tmp_path / "data" / "communique.sqlite3"

    missing = communique(tmp_path, "healthcheck")
    database.parent.mkdir()
    database.touch()
    not_running = communique(tmp_path, "healthcheck")
    heartbeat_path(database).write_text("1 0\n")
    fresh = communique(tmp_path, "healthcheck")
    old = time.time() - STALE_AFTER - 60
    os.utime(heartbeat_path(database), (old, old))
    stale = communique(tmp_path, "healthcheck")

    assert (missing.returncode, not_running.returncode, fresh.returncode) == (1, 1, 0)
    assert "does not exist" in missing.stdout
    assert not_running.stdout.startswith("unhealthy: no heartbeat at ")
    assert fresh.stdout.startswith("ok: heartbeat ")
    assert stale.returncode == 1
    assert "the bot is stuck or stopped" in stale.stdout


@pytest.mark.sqlite_only
async def test_the_running_bot_beats(rig: Rig) -> None:
    database = rig.settings.database_path
    assert not check_health(database).ok

    await rig.run_job("heartbeat")

    assert check_health(database).ok
    assert not check_health(database, now=time.time() + STALE_AFTER + 1).ok


def test_a_clean_stop_removes_its_own_heartbeat_only(tmp_path: Path) -> None:
    database = tmp_path / "communique.sqlite3"
    database.write_bytes(b"")
    beat_file = heartbeat_path(database)
    beat_file.write_text(f"{os.getpid() + 1} {time.time():.0f}\n")  # another bot's
    clear_heartbeat(beat_file)
    assert check_health(database).ok
    beat_file.write_text(f"{os.getpid()} {time.time():.0f}\n")
    clear_heartbeat(beat_file)
    assert not beat_file.exists()
    assert check_health(database).detail.endswith("the bot is not running")


def test_poll_needs_once_and_backup_needs_a_file_name(tmp_path: Path) -> None:
    done = communique(tmp_path, "poll")
    assert done.returncode == 2
    assert done.stderr.startswith("communique: poll needs --once")
    communique(tmp_path, "export-opml")  # makes the database
    folder = tmp_path / "backups"
    folder.mkdir()
    done = communique(tmp_path, "backup", str(folder))
    assert done.returncode == 2
    assert done.stderr.startswith(f"communique: {folder} is a folder")
    assert list(folder.iterdir()) == [] and not (tmp_path / "backups.partial").exists()


def test_another_programs_database_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO users (name) VALUES ('ann')")
    db.commit()
    db.close()
    before = other.read_bytes()
    for command in ("export-opml", "console"):
        done = communique(tmp_path, command, DATABASE_PATH=str(other))
        assert done.returncode == 1, done.stderr
        assert done.stderr.strip() == (
            f"communique: not a Communique database: {other} holds another program's"
            " tables (users); it was left as it is, set DATABASE_PATH to another file"
        )
    assert other.read_bytes() == before


def test_an_unusable_database_location_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for path in (folder, blocker / "db.sqlite3"):
        done = communique(tmp_path, "export-opml", DATABASE_PATH=str(path))
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("communique: "), done.stderr
        assert "Traceback" not in done.stderr
        assert str(path) in lines[0] or str(blocker) in lines[0], lines[0]

"""One bot per database: a second `communique run`/`console` on the same file is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.config import SPECS
from storage.lock import AlreadyRunningError, InstanceLock


def test_second_lock_on_the_same_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "communique.sqlite3"
    with InstanceLock(db):
        try:
            InstanceLock(db).acquire()
        except AlreadyRunningError as exc:
            assert str(db) in str(exc)
        else:
            raise AssertionError("a second lock was granted")
    # Released: a new bot may start.
    InstanceLock(db).acquire().release()


def test_console_refuses_to_start_while_another_bot_holds_the_database(tmp_path: Path) -> None:
    db = tmp_path / "data" / "communique.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in SPECS}
    env["DATABASE_PATH"] = str(db)
    with InstanceLock(db):
        done = subprocess.run(
            [sys.executable, "-m", "bot", "console"],
            cwd=tmp_path,
            env=env,
            input="/counters\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert "another Communique is already running" in done.stderr
    assert not db.exists(), "the refused bot must not have touched the database"

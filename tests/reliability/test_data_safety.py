"""Data: a database file that is truncated, locked by another process or newer than
the code stops `communique run` at start with one clear line (no traceback), and is
left exactly as it was; a backup taken during a broadcast restores to a working bot
that delivers what was pending and answers /latest."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from emulator import BotApiEmulator
from storage.schema import LATEST_VERSION
from storage.store import Store
from tests.reliability.conftest import Report
from tests.support.botproc import BotProcess, database_of
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry, rss

pytestmark = pytest.mark.slow

ADMIN = 77


async def run_bot(tmp_path: Path, fake: FakeBotApi) -> tuple[int, str]:
    """`communique run` on the database under `tmp_path`, until it exits by itself:
    (exit status, all it wrote)."""
    bot = BotProcess(tmp_path, fake, admin=ADMIN)
    await bot.start()
    try:
        status = await bot.wait_exit(60)
    finally:
        await bot.kill()
    return status, bot.logged


async def make_database(path: Path) -> None:
    """A real Communique database with a feed in it, closed (its WAL checkpointed)."""
    store = await Store.open(path)
    await store.add_feed("https://embassy.example/statements.xml")
    await store.close()


def cut_in_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def snapshot(path: Path) -> tuple[bytes, int, list[str]]:
    """The file's bytes, its mtime, and which -wal/-shm/-journal files lie beside it."""
    beside = sorted(p.name for p in path.parent.glob(path.name + "-*"))
    return path.read_bytes(), path.stat().st_mtime_ns, beside


def assert_clear_refusal(status: int, output: str, *words: str) -> None:
    output = output.strip()
    assert status != 0, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    for word in words:
        assert word in lines[0].lower(), lines[0]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return database_of(tmp_path)


async def test_a_truncated_database_is_refused_and_left_as_it_is(
    tmp_path: Path, fake_bot_api: FakeBotApi, database: Path
) -> None:
    await make_database(database)
    cut_in_half(database)
    before = snapshot(database)

    status, output = await run_bot(tmp_path, fake_bot_api)

    assert_clear_refusal(status, output, "database")
    line = output.lower()
    assert any(w in line for w in ("damaged", "malformed", "not a database")), line
    assert snapshot(database) == before
    assert fake_bot_api.emulator.calls_to("getUpdates") == []


async def test_a_database_newer_than_the_code_is_refused_and_left_as_it_is(
    tmp_path: Path, fake_bot_api: FakeBotApi, database: Path
) -> None:
    await make_database(database)
    db = sqlite3.connect(database)
    db.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    db.close()
    before = snapshot(database)

    status, output = await run_bot(tmp_path, fake_bot_api)

    assert_clear_refusal(status, output, "schema version", "upgrade")
    assert snapshot(database) == before
    assert fake_bot_api.emulator.calls_to("getUpdates") == []


async def test_a_database_locked_by_another_process_is_refused_and_left_as_it_is(
    tmp_path: Path, fake_bot_api: FakeBotApi, database: Path
) -> None:
    await make_database(database)
    # Another process: reading the file's bytes here would drop this process's own
    # POSIX locks on it (SQLite's well-known pitfall), so the holder lives elsewhere.
    holder = subprocess.Popen(  # noqa: ASYNC220 - it only prints one line, at once
        [sys.executable, "-c", HOLD_LOCK, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        before = snapshot(database)
        status, output = await run_bot(tmp_path, fake_bot_api)
        assert snapshot(database) == before
    finally:
        holder.communicate("", timeout=10)
    assert holder.returncode == 0
    assert_clear_refusal(status, output, "locked by another process")
    assert fake_bot_api.emulator.calls_to("getUpdates") == []


HOLD_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
db.close()
"""

TITLE = re.compile(r"^Backup statement (\d+)$", re.M)


def feed(count: int) -> bytes:
    return rss(
        [
            Entry(
                f"b{n}",
                f"Backup statement {n}",
                f"Lead {n}.",
                f"Wed, {n % 28 + 1:02d} Dec 2021 10:00:00 GMT",
                f"https://embassy.example/b/{n}",
            )
            for n in range(count, 0, -1)
        ],
        title="Backup feed",
        link="",
    )


async def test_a_backup_taken_during_a_broadcast_restores_to_a_working_bot(
    tmp_path: Path,
    fake_bot_api: FakeBotApi,
    feed_server: FeedServer,
    soak: bool,
    reliability_report: Report,
) -> None:
    chats = 300 if soak else 60
    api = fake_bot_api.emulator
    api.add_user(ADMIN, "Admin")
    users = [20_000 + i for i in range(chats)]
    for user in users:
        api.add_user(user, f"Reader{user}")
    feed_server.set("/b.xml", feed(1))
    # A slow broadcast (20 messages a second), so the backup lands in its middle.
    first = BotProcess(tmp_path / "first", fake_bot_api, admin=ADMIN, env={"BROADCAST_RATE": "20"})
    first.tmp_path.mkdir()
    await first.start()
    await first.wait_polling()

    async def command(chat: int, text: str) -> str:
        before = len(api.messages(chat))
        api.send_text(chat, chat, text)
        return (await api.wait_for_messages(chat, before + 1, timeout=20))[-1].plain_text or ""

    assert "Added feed 1" in await command(ADMIN, f"/addfeed {feed_server.url('/b.xml')}")
    for user in users:
        api.send_text(user, user, "/subscribe all")
    await api.wait_for(lambda: all(len(api.messages(u)) >= 1 for u in users), timeout=60)

    def pushes() -> int:
        return sum(len(TITLE.findall(m.plain_text or "")) for u in users for m in api.messages(u))

    feed_server.set("/b.xml", feed(2))
    api.send_text(ADMIN, ADMIN, "/pollnow")
    await api.wait_for(lambda: pushes() >= chats // 4, timeout=30)
    backup = tmp_path / "backup.sqlite3"
    env = {**first.env}
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "backup", str(backup)],
        cwd=first.tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    at_backup = pushes()
    assert result.returncode == 0, result.stderr
    assert 0 < at_backup < chats, "the backup was not taken during the broadcast"
    status, _ = await first.stop()
    assert status == 0, first.tail()

    # The old installation is gone; the backup becomes the database of a new one.
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    second = BotProcess(restored_dir, fake_bot_api, admin=ADMIN)
    second.database.parent.mkdir(parents=True)
    shutil.copyfile(backup, second.database)
    await second.start()
    await second.wait_polling()
    try:
        await api.wait_for(
            lambda: all("2" in TITLE.findall(_all(api, u)) for u in users), timeout=60
        )
        # (The restored bot may send its daily message meanwhile: look for the reply.)
        reader = users[0]
        before = len(api.messages(reader))
        api.send_text(reader, reader, "/latest")

        def latest() -> list[str]:
            texts = [m.plain_text or "" for m in api.messages(reader)[before:]]
            return [t for t in texts if t.startswith("Latest statements")]

        await api.wait_for(lambda: bool(latest()), timeout=20)
        assert "Backup statement 2" in latest()[0]
    finally:
        status, _ = await second.stop()
        assert status == 0, second.tail()
    got = [TITLE.findall(_all(api, u)).count("2") for u in users]
    duplicates = sum(n - 1 for n in got)
    reliability_report(statements=1, deliveries=sum(got), lost=got.count(0), duplicates=duplicates)
    assert got.count(0) == 0
    # Chats served between the backup and the stop are served again from the backup:
    # a restore replays at most what was sent after the backup was taken.
    assert duplicates <= pushes() - at_backup


def _all(api: BotApiEmulator, chat: int) -> str:
    return "\n".join(m.plain_text or "" for m in api.messages(chat))

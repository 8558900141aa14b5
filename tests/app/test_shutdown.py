"""SIGTERM and SIGINT stop `communique run` cleanly: within 10 s, exit status 0, the
message in flight finished and recorded, everything else still pending, nothing left
marked in flight, the database closed. A child process against the fake Bot API."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from bot.health import heartbeat_path
from emulator import Delay
from storage.store import Store
from tests.support.botproc import BotProcess
from tests.support.fake_bot_api import FakeBotApi

CHATS = list(range(5001, 5011))
HELD = 2.0  # seconds the fake holds the first send: it is in flight at the signal


async def queue_messages(database: Path) -> None:
    store = await Store.open(database)
    try:
        for chat_id in CHATS:
            await store.upsert_chat(chat_id, "private", f"Reader {chat_id}")
            await store.enqueue_text(chat_id, f"Message for {chat_id}", kind="daily")
    finally:
        await store.close()


def wal_left(database: Path) -> bool:
    return Path(f"{database}-wal").exists()


def outbox(database: Path) -> list[tuple[int, str, float | None, int]]:
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return db.execute(
            "SELECT chat_id, state, in_flight_at, possible_duplicate FROM outbox ORDER BY id"
        ).fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_stops_the_bot_cleanly(
    tmp_path: Path, fake_bot_api: FakeBotApi, signum: int
) -> None:
    api = fake_bot_api.emulator
    for chat_id in CHATS:
        api.add_user(chat_id, f"Reader {chat_id}")
    bot = BotProcess(tmp_path, fake_bot_api, env={"BROADCAST_RATE": "0.2"})
    database = bot.database
    await queue_messages(database)
    # One message every 5 s, and the first answer held: at the signal one send is in
    # flight and the others wait for their turn.
    api.inject(Delay(HELD, deliver=True), method="sendMessage", times=1)
    await bot.start()
    try:
        await bot.wait_polling(timeout=15)
        await api.wait_for_call("sendMessage", 1, timeout=15)

        status, elapsed = await bot.stop(signum)

        assert status == 0, bot.logged
        assert elapsed < 10, f"took {elapsed:.1f} s"
        assert "Communique stopped" in bot.logged  # post_shutdown ran: the store closed
        assert "Traceback" not in bot.logged
    finally:
        await bot.kill()

    # A clean close checkpoints the write-ahead log away, and leaves no heartbeat
    # that a health check would take for a running bot.
    assert not wal_left(database)
    assert not heartbeat_path(database).exists()
    rows = outbox(database)
    delivered = {chat for chat, count in api.message_counts().items() if count}
    sent = {chat for chat, state, _, _ in rows if state == "sent"}
    # The send in flight at the signal was finished and recorded as sent.
    assert len(api.calls_to("sendMessage")) == len(sent) == 1
    assert sent == delivered
    # The rest stays pending for the next start, none of it marked in flight.
    pending = [row for row in rows if row[1] == "pending"]
    assert len(pending) == len(CHATS) - 1
    assert all(in_flight is None and not duplicate for _, _, in_flight, duplicate in pending)

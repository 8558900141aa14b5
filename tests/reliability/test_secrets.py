"""Secrets: a whole run at DEBUG — a feed added, chats subscribed, statements pushed,
an unhandled error in a handler, a push that fails for good, a failing feed, 500s
whose description echoes the request URL (as a proxy in front of Telegram may) —
leaves no trace of the token in the logs, in the database file or its WAL, nor in
any message the bot sent (the alerts to admins above all)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from emulator import ConnectionReset, ServerError
from jobs.delivery_policy import DeliveryTuning
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import rss, statement
from tests.support.rig import ADMIN, OTHER, USER, Rig, publish, start_rig, stop_rig

FEED = "/statements.xml"


def traces(token: str) -> list[bytes]:
    """The token and its secret half, as text and as the bytes SQLite would hold."""
    secret = token.split(":", 1)[1]
    return [token.encode(), secret.encode(), secret.encode("utf-16-le")]


def leaks(data: bytes, token: str) -> list[bytes]:
    return [t for t in traces(token) if t in data]


def database_files(rig: Rig) -> list[Path]:
    path = rig.settings.database_path
    return [p for p in path.parent.glob(path.name + "*") if p.is_file()]


async def test_a_whole_run_at_debug_leaves_no_trace_of_the_token(
    tmp_path: Path,
    fake_bot_api: FakeBotApi,
    feed_server: FeedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = fake_bot_api.token
    echo = f"Internal Server Error at {fake_bot_api.base_url}{token}/sendMessage"
    tuning = DeliveryTuning(backoff=0.02, backoff_cap=0.1, max_attempts=3, timeout_pause=0.05)
    rig = await start_rig(tmp_path, fake_bot_api, feed_server, chat_pacing=False, delivery=tuning)
    api = rig.api
    try:
        rig.feeds.set(FEED, rss([statement(1, day=1)]))
        added = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url(FEED)}")
        assert "Added feed 1" in (added.plain_text or "")
        for user in (USER, OTHER):
            await rig.reply_to(user, user, "/subscribe all")

        # A push that reaches OTHER; USER's fails for good with the echoing 500, and
        # the delivery-failed alert (with that error) goes to the admin.
        api.inject(ServerError(500, echo), chat_id=USER, times=None)
        await publish(rig, statement(2, day=2), statement(1, day=1))
        await rig.wait_delivered()
        assert any("Statement 2" in t for t in rig.texts(OTHER))
        api.injections.clear()

        # An unhandled error in a handler: the reply to /help meets the echoing 500.
        api.inject(ServerError(500, echo), chat_id=OTHER, times=1)
        before = len(api.messages(OTHER))
        api.send_text(OTHER, OTHER, "/help")
        await api.wait_for_messages(OTHER, before + 1)
        # A dropped connection on the long poll, logged by PTB's updater.
        api.inject(ConnectionReset(), method="getUpdates", times=1)
        await rig.reply_to(USER, USER, "/latest")

        # A feed that fails three polls in a row: the feed-failing alert.
        rig.feeds.set_status(FEED, 500)
        for _ in range(3):
            rig.clock.advance(hours=2)
            await rig.run_job("poll")
        await rig.wait_delivered()
        await rig.reply_to(ADMIN, ADMIN, "/stats")
        await rig.reply_to(ADMIN, ADMIN, "/feedstatus")

        admin_texts = [m.text or "" for m in api.messages(ADMIN)]
        kinds = [t.split("\n", 1)[0] for t in admin_texts]
        assert any("Delivery failed" in k for k in kinds), kinds
        assert any("Unexpected error" in k for k in kinds), kinds
        assert any("Feed failing" in k for k in kinds), kinds
        assert any("REDACTED" in t for t in admin_texts), "the echo did not reach an alert"
        files_running = {p.name: p.read_bytes() for p in database_files(rig)}
    finally:
        await stop_rig(rig)
    files_stopped = {p.name: p.read_bytes() for p in database_files(rig)}

    # What the admins and everyone else were sent.
    for chat in api.message_counts():
        for message in api.messages(chat):
            assert leaks((message.text or "").encode(), token) == [], (chat, message.text)
    # Every log line at DEBUG, with its traceback.
    logged = "\n".join(
        [caplog.text]
        + [r.getMessage() for r in caplog.records]
        + [r.exc_text or "" for r in caplog.records]
    )
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    assert "REDACTED" in logged, "the token never came near a log line: the test proves nothing"
    assert leaks(logged.encode(), token) == []
    # The database as it was while running (WAL and all) and after the stop.
    assert any(name.endswith("-wal") for name in files_running)
    for name, data in [*files_running.items(), *files_stopped.items()]:
        assert leaks(data, token) == [], name

"""Alerts reach the admins: a feed that starts failing (once, after 3 failures in a
row) and recovers, deliveries that fail for good, unhandled errors. They go to
ADMIN_CHAT_ID if set, else to each admin's private chat, each in its chat's
language; a storm of errors sends a few grouped messages, not thousands; the token
never appears in one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.alerts import MAX_LISTED, render_summary
from emulator import ServerError
from jobs.poll import list_moved
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import sample_feed
from tests.support.languages import speak
from tests.support.rig import ADMIN, OTHER, USER, Rig, start_rig, stop_rig
from text.i18n import translator
from text.phrase import say

ADMIN_GROUP = -1009876543210


async def _alerts(rig: Rig, chat_id: int = ADMIN) -> list[str]:
    await rig.wait_delivered()
    return [m.plain_text or "" for m in rig.api.messages(chat_id)]


async def _poll(rig: Rig, minutes: float = 60) -> None:
    # Far enough ahead that the feed is due again whatever its back-off.
    rig.clock.advance(minutes=minutes)
    await rig.run_job("poll")


async def test_failing_feed_alerts_once_then_recovery_once(rig: Rig) -> None:
    rig.feeds.set("/feed.xml", sample_feed(1), etag='"1"')
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/feed.xml')} Ministry <of> News")
    before = len(await _alerts(rig))

    rig.feeds.set_status("/feed.xml", 503)
    await _poll(rig)
    await _poll(rig)
    assert len(await _alerts(rig)) == before  # two failures: not yet
    await _poll(rig)
    alerts = (await _alerts(rig))[before:]
    assert alerts == [
        "⚠️ Feed failing\nfeed 1, Ministry <of> News: failed 3 times in a row: "
        + alerts[0].split("failed 3 times in a row: ", 1)[1]
    ]
    assert "503" in alerts[0]
    assert "<b>Ministry &lt;of&gt; News</b>" in (rig.api.messages(ADMIN)[-1].text or "")

    for _ in range(4):  # it goes on failing: no more messages, even after the window
        await _poll(rig)
        await rig.run_job("daily")
    assert len(await _alerts(rig)) == before + 1

    rig.feeds.set("/feed.xml", sample_feed(1), etag='"1"')
    await _poll(rig, minutes=24 * 60)  # past the longest back-off
    recovered = (await _alerts(rig))[before + 1 :]
    assert recovered == ["✅ Feed recovered\nfeed 1, Ministry <of> News: works again"]
    await _poll(rig)
    await rig.run_job("daily")
    assert len(await _alerts(rig)) == before + 2


async def test_a_gone_feed_is_paused_and_reported(rig: Rig) -> None:
    rig.feeds.set("/feed.xml", sample_feed(1))
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/feed.xml')}")
    rig.feeds.set_status("/feed.xml", 410)
    await _poll(rig)
    [alert] = [a for a in await _alerts(rig) if a.startswith("⛔")]
    assert alert.startswith("⛔ Feed gone, paused\nfeed 1, Feed 1: ")
    assert (await rig.services.store.get_feed(1)).paused


async def test_unhandled_error_in_a_handler_reaches_the_admin(rig: Rig) -> None:
    # The reply to USER fails with a 500 nobody handles: the error handler tells the
    # admin, and USER hears something went wrong.
    rig.api.inject(ServerError(500, "Internal Server Error"), chat_id=USER, times=1)
    rig.api.send_text(USER, USER, "/help")
    await rig.api.wait_for_messages(USER, 1)
    assert rig.texts(USER) == [
        "Sorry, something went wrong on our side. The admins have been told."
    ]
    [alert] = await _alerts(rig)
    assert alert.startswith("🐞 Unexpected error\n")
    assert "Internal Server Error" in alert
    assert alert.endswith("(details in the bot's log)")


async def test_a_hiccup_fetching_updates_is_a_warning_not_an_alert(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram answers getUpdates with a 502 now and then; PTB retries by itself.
    That is one warning line, and no admin is woken for it."""
    fetched = len(rig.api.calls_to("getUpdates"))
    rig.api.inject(ServerError(502, "Bad Gateway"), method="getUpdates", times=2)
    await rig.api.wait_for(lambda: len(rig.api.calls_to("getUpdates")) >= fetched + 3, 10)
    help_reply = await rig.reply_to(USER, USER, "/help")
    assert (help_reply.plain_text or "").startswith("What Communique can do")
    assert await _alerts(rig) == []
    warnings = [r.getMessage() for r in caplog.records if "fetching updates failed" in r.message]
    assert warnings and all(w.endswith("; retrying") for w in warnings), warnings
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


@pytest.fixture
async def unpaced_rig(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> AsyncIterator[Rig]:
    """Telegram's one-message-a-second pace per chat would make this test wait in real
    time for each alert; grouping, not pacing, is what is tested here."""
    running = await start_rig(tmp_path, fake_bot_api, feed_server, chat_pacing=False)
    try:
        yield running
    finally:
        await stop_rig(running)


async def test_an_error_storm_sends_a_few_messages_and_never_the_token(unpaced_rig: Rig) -> None:
    rig = unpaced_rig
    token = rig.fake.token
    for n in range(1000):
        await rig.app.process_error(
            None, RuntimeError(f"request {n} to {rig.fake.base_url}{token}/sendMessage failed")
        )
    first = await _alerts(rig)
    assert len(first) == 1
    assert first[0].startswith("🐞 Unexpected error\nRuntimeError: request 0 to ")

    # Nothing more within the window; after it, one summary of the other 999.
    rig.clock.advance(minutes=5)
    await rig.run_job("daily")
    assert len(await _alerts(rig)) == 1
    rig.clock.advance(minutes=6)
    await rig.run_job("daily")
    alerts = await _alerts(rig)
    assert len(alerts) == 2
    summary = alerts[1].splitlines()
    assert summary[0] == "🐞 Unexpected error ×999 (in the last 10 min)"
    assert len([line for line in summary if line.startswith("• ")]) == MAX_LISTED
    assert summary[-1] == f"…and {999 - MAX_LISTED} more"

    # A storm an hour long, with the minute job running as in production: one
    # message per window, not one per error.
    for n in range(1000):
        rig.clock.advance(seconds=3.6)
        await rig.app.process_error(None, RuntimeError(f"again {n}: {token}"))
        if n % 17 == 0:
            await rig.run_job("daily")
    rig.clock.advance(minutes=11)
    await rig.run_job("daily")
    alerts = await _alerts(rig)
    assert 2 + 5 <= len(alerts) <= 2 + 8, len(alerts)

    secret = token.split(":", 1)[1]
    for message in rig.api.messages(ADMIN):
        assert token not in (message.text or "")
        assert secret not in (message.text or "")
    assert "[REDACTED]" in alerts[0]


def test_a_summary_stays_one_telegram_message() -> None:
    lines = ["x" * 700] * MAX_LISTED
    text = render_summary("error", lines, 5000, timedelta(minutes=10))
    assert len(text) < 4096
    assert text.endswith("more")


@pytest.fixture
async def group_rig(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> AsyncIterator[Rig]:
    fake_bot_api.emulator.add_chat(ADMIN_GROUP, "supergroup", title="Ops", members=[ADMIN])
    running = await start_rig(
        tmp_path,
        fake_bot_api,
        feed_server,
        env={"ADMIN_CHAT_ID": str(ADMIN_GROUP), "ADMIN_IDS": f"{ADMIN},{OTHER}"},
    )
    try:
        yield running
    finally:
        await stop_rig(running)


async def test_alerts_go_to_admin_chat_id_when_set(group_rig: Rig) -> None:
    rig = group_rig
    await rig.app.process_error(None, ValueError("boom"))
    assert await _alerts(rig, ADMIN_GROUP) == [
        "🐞 Unexpected error\nValueError: boom (details in the bot's log)"
    ]
    assert await _alerts(rig, ADMIN) == []
    assert await _alerts(rig, OTHER) == []


async def test_without_admin_chat_id_each_admin_gets_them(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    rig = await start_rig(
        tmp_path, fake_bot_api, feed_server, env={"ADMIN_IDS": f"{ADMIN},{OTHER}"}
    )
    try:
        await rig.app.process_error(None, ValueError("boom"))
        expected = ["🐞 Unexpected error\nValueError: boom (details in the bot's log)"]
        assert await _alerts(rig, ADMIN) == expected
        assert await _alerts(rig, OTHER) == expected
        assert await _alerts(rig, USER) == []
    finally:
        await stop_rig(rig)


@pytest.fixture
async def two_admins(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> AsyncIterator[Rig]:
    """ADMIN reads Russian, OTHER English; alerts are not paced (grouping is tested)."""
    running = await start_rig(
        tmp_path,
        fake_bot_api,
        feed_server,
        env={"ADMIN_IDS": f"{ADMIN},{OTHER}"},
        chat_pacing=False,
    )
    await speak(running, ADMIN, "ru")
    await speak(running, OTHER, "en")
    try:
        yield running
    finally:
        await stop_rig(running)


async def test_each_admin_reads_alerts_in_their_chats_language(two_admins: Rig) -> None:
    rig = two_admins
    rig.feeds.set("/feed.xml", sample_feed(1), etag='"1"')
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/feed.xml')} Министерство <МИД>")
    before = len(await _alerts(rig))
    rig.feeds.set_status("/feed.xml", 503)
    for _ in range(3):
        await _poll(rig)
    rig.feeds.set("/feed.xml", sample_feed(1), etag='"1"')
    await _poll(rig, minutes=24 * 60)

    failing, recovered = (await _alerts(rig, ADMIN))[before:]
    # The server's words stay as they came, inside a Russian frame.
    assert failing.startswith("⚠️ Сбой ленты\nлента 1, Министерство <МИД>: 3 сбоя подряд: HTTP 503")
    assert "<b>Министерство &lt;МИД&gt;</b>" in (rig.api.messages(ADMIN)[before].text or "")
    assert recovered == "✅ Лента снова работает\nлента 1, Министерство <МИД>: снова работает"
    english = await _alerts(rig, OTHER)
    assert english[0].startswith(
        "⚠️ Feed failing\nfeed 1, Министерство <МИД>: failed 3 times in a row: HTTP 503"
    )
    assert english[1] == "✅ Feed recovered\nfeed 1, Министерство <МИД>: works again"


async def test_errors_and_their_summary_in_russian(two_admins: Rig) -> None:
    rig = two_admins
    for n in range(13):
        await rig.app.process_error(None, ValueError(f"boom {n}"))
    rig.clock.advance(minutes=11)
    await rig.run_job("daily")
    first, summary = await _alerts(rig, ADMIN)
    assert first == "🐞 Непредвиденная ошибка\nValueError: boom 0 (подробности в журнале бота)"
    lines = summary.splitlines()
    assert lines[0] == "🐞 Непредвиденная ошибка ×12 (за последние 10 мин)"
    assert lines[1] == "• ValueError: boom 1 (подробности в журнале бота)"
    assert lines[-1] == f"…и ещё {12 - MAX_LISTED}"
    first, summary = await _alerts(rig, OTHER)
    assert first == "🐞 Unexpected error\nValueError: boom 0 (details in the bot's log)"
    assert summary.splitlines()[0] == "🐞 Unexpected error ×12 (in the last 10 min)"
    assert summary.splitlines()[-1] == f"…and {12 - MAX_LISTED} more"


def test_a_page_layout_alert_is_said_in_each_language() -> None:
    moved = list_moved("div.news > div.item", 5)
    assert moved.startswith(
        "the list of statements is no longer where it was (now div.news > div.item,"
        " 5 statement(s)), and it holds none"
    )
    russian = say(moved, translator("ru"))
    assert russian.startswith(
        "список заявлений уже не там, где был (теперь div.news > div.item, 5 заявлений)"
    )
    assert "/addpage" in russian
    assert "(теперь li, 1 заявление)" in say(list_moved("li", 1), translator("ru"))
    text = render_summary("page_layout_changed", ["x"], 3, timedelta(minutes=10), translator("ru"))
    assert text == "<b>🔀 Изменилась вёрстка страницы ×3</b> (за последние 10 мин)\n• x\n…и ещё 2"

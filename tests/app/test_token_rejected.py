"""A token Telegram rejects, at start or later (revoked with @BotFather): the bot
says so in one line, never shows the token, and exits with status 2, a bad setting
(the systemd unit does not restart on 2: it would only knock again with the same
token); it never hangs half-alive. Polling that ends for another reason exits 1."""

from __future__ import annotations

from pathlib import Path

from emulator import Delay, ServerError
from tests.support.botproc import BotProcess
from tests.support.fake_bot_api import FakeBotApi

UNAUTHORIZED = ServerError(401, "Unauthorized")


async def exit_status(bot: BotProcess) -> int:
    """Wait for the bot to exit on its own (within 30 s); never leave it running."""
    try:
        return await bot.wait_exit(30)
    finally:
        await bot.kill()


async def test_a_token_rejected_at_start_is_one_line_without_the_token(
    tmp_path: Path, fake_bot_api: FakeBotApi
) -> None:
    fake_bot_api.emulator.inject(UNAUTHORIZED, method="getMe", times=None)
    bot = BotProcess(tmp_path, fake_bot_api)
    await bot.start()
    status = await exit_status(bot)
    assert status == 2, bot.logged
    assert fake_bot_api.token not in bot.logged
    assert fake_bot_api.token.split(":")[1] not in bot.logged
    assert "Traceback" not in bot.logged, bot.logged
    last = bot.logged.strip().splitlines()[-1]
    assert last == (
        "communique: Telegram rejected TELEGRAM_BOT_TOKEN: check it with @BotFather"
        " (and TELEGRAM_API_BASE_URL, if it is set)"
    ), bot.logged


async def test_a_token_revoked_while_running_stops_the_bot_with_status_2(
    tmp_path: Path, fake_bot_api: FakeBotApi
) -> None:
    bot = BotProcess(tmp_path, fake_bot_api)
    await bot.start()
    try:
        await bot.wait_logged("Communique started")
    except BaseException:
        await bot.kill()
        raise
    # Revoked: from now on Telegram refuses the token whatever is asked.
    fake_bot_api.emulator.inject(UNAUTHORIZED, method=None, times=None)
    status = await exit_status(bot)
    assert status == 2, bot.logged
    assert fake_bot_api.token not in bot.logged
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in bot.logged, bot.logged


async def test_polling_that_ends_before_the_watch_first_looks_still_stops_the_bot(
    tmp_path: Path, fake_bot_api: FakeBotApi
) -> None:
    """Telegram is slow to answer the start-up call (deleteWebhook) and then rejects
    the very first getUpdates: polling has ended before the watch first looks."""
    api = fake_bot_api.emulator
    api.inject(Delay(1.5, deliver=True), method="deleteWebhook", times=1)
    # Only getUpdates refuses (getMe still answers): the watch cannot blame the
    # token, but a bot that no longer polls still stops.
    api.inject(UNAUTHORIZED, method="getUpdates", times=None)
    bot = BotProcess(tmp_path, fake_bot_api)
    await bot.start()
    status = await exit_status(bot)
    assert status == 1, bot.logged
    assert "polling for updates has stopped; stopping" in bot.logged, bot.logged
    assert fake_bot_api.token not in bot.logged

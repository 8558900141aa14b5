"""Webhook mode: `communique run` with WEBHOOK_URL set, in a child process, against the
fake Bot API. The fake records setWebhook; updates are POSTed the way Telegram POSTs
them; a request without the secret, or with a wrong one, is refused and not handled."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.support.botproc import BotProcess
from tests.support.fake_bot_api import FakeBotApi, post_update, post_webhook_updates
from tests.support.rig import OTHER, USER

SECRET = "webhook-secret_0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def webhook_env(url: str, port: int) -> dict[str, str]:
    return {"WEBHOOK_URL": url, "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": str(port)}


async def test_updates_with_the_secret_are_handled_and_others_refused(
    tmp_path: Path, fake_bot_api: FakeBotApi
) -> None:
    api = fake_bot_api.emulator
    api.add_user(USER, "Uma")
    api.add_user(OTHER, "Otto")
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    env = webhook_env(url, port) | {"WEBHOOK_SECRET": SECRET}
    bot = BotProcess(tmp_path, fake_bot_api, env=env)
    await bot.start()
    try:
        await api.wait_for(lambda: bool(api.webhook_url), timeout=15)
        # PTB starts the application once its webhook server listens.
        await bot.wait_logged("Application started")
        assert api.webhook_url == url
        assert api.webhook_secret == SECRET

        forged = api.send_text(OTHER, OTHER, "/help")
        api.take_webhook_updates()  # only the forgers below deliver it
        assert await post_update(url, forged, secret=None) == 403
        assert await post_update(url, forged, secret="not-the-secret") == 403

        api.send_text(USER, USER, "/help")
        assert await post_webhook_updates(api) == [200]
        reply = (await api.wait_for_messages(USER, 1, timeout=10))[0]
        assert "/latest" in (reply.plain_text or "")
        # The refused requests reached no handler: nothing was said in that chat.
        assert api.messages(OTHER) == []
        assert not api.calls_to("getUpdates")

        status, elapsed = await bot.stop()
        assert status == 0, bot.logged
        assert elapsed < 10
        assert fake_bot_api.token not in bot.logged
        assert SECRET not in bot.logged
    finally:
        await bot.kill()


async def test_without_a_configured_secret_a_random_one_is_still_checked(
    tmp_path: Path, fake_bot_api: FakeBotApi
) -> None:
    api = fake_bot_api.emulator
    api.add_user(USER, "Uma")
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    bot = BotProcess(tmp_path, fake_bot_api, env=webhook_env(url, port))
    await bot.start()
    try:
        await api.wait_for(lambda: bool(api.webhook_url), timeout=15)
        # PTB starts the application once its webhook server listens.
        await bot.wait_logged("Application started")
        secret = api.webhook_secret
        assert secret is not None and len(secret) >= 32

        update = api.send_text(USER, USER, "/help")
        api.take_webhook_updates()
        assert await post_update(url, update, secret=None) == 403
        assert await post_update(url, update, secret=secret) == 200
        await api.wait_for_messages(USER, 1, timeout=10)

        status, _ = await bot.stop()
        assert status == 0, bot.logged
        assert "WEBHOOK_SECRET is not set" in bot.logged
        assert secret not in bot.logged
    finally:
        await bot.kill()

"""Fake Telegram Bot API over HTTP on 127.0.0.1: the ``fake_bot_api`` fixture and a CLI.

The Bot API logic lives in :mod:`emulator`; this module only speaks HTTP
for it, the way api.telegram.org does:

* ``GET|POST /bot<token>/<method>`` with query, form-urlencoded, multipart or
  JSON parameters (python-telegram-bot posts form data, multipart for uploads);
* ``GET /file/bot<token>/<file_path>`` serves files fetched with ``getFile``.

In a test, use the fixture::

    async def test_start(fake_bot_api: FakeBotApi) -> None:
        app = (ApplicationBuilder().token(fake_bot_api.token)
               .base_url(fake_bot_api.base_url).base_file_url(fake_bot_api.base_file_url)
               .build())
        fake_bot_api.emulator.add_user(42, "Ann")
        fake_bot_api.emulator.send_text(42, 42, "/start")
        ...
        await fake_bot_api.emulator.wait_for_messages(42, 1)

For another process (benchmarks, crash tests), run it standalone::

    python -m tests.support.fake_bot_api --port 0 --token T [--rate-limits]

It prints its port on the first line of stdout and serves a small JSON
control API under ``/_control/`` (see :func:`_control_routes`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiohttp import BodyPartReader, web

from emulator import (
    Blocked,
    BotApiEmulator,
    ChatNotFound,
    ConnectionReset,
    Delay,
    EmulatedConnectionReset,
    Fault,
    Kicked,
    Migrate,
    RateLimits,
    RetryAfter,
    SentMessage,
    ServerError,
    UploadedFile,
)

# Distinctive, so a test can search logs for it (the token must never be logged).
DEFAULT_TOKEN = "123456789:AAFakeTokenForCommuniqueTests_x7Yq"
# Telegram accepts uploads up to 50 MB; aiohttp's default body limit is 1 MiB.
MAX_BODY_BYTES = 60 * 1024 * 1024

_EMULATOR_KEY = web.AppKey("emulator", BotApiEmulator)


@dataclass
class FakeBotApi:
    """A running fake Bot API server."""

    emulator: BotApiEmulator
    host: str
    port: int
    token: str
    runner: web.AppRunner

    @property
    def base_url(self) -> str:
        """The value for ``TELEGRAM_API_BASE_URL`` (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``base_file_url`` for this server (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Release held requests, then shut the server down."""
        self.emulator.close()
        await self.runner.cleanup()


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                params[part.name] = UploadedFile(
                    part.filename,
                    bytes(await part.read()),
                    part.headers.get("Content-Type", "application/octet-stream"),
                )
            else:
                params[part.name] = await part.text()
    else:
        form = await request.post()
        params.update({key: value for key, value in form.items() if isinstance(value, str)})
    return params


async def _api(request: web.Request) -> web.StreamResponse:
    emulator = request.app[_EMULATOR_KEY]
    params = await _read_params(request)
    try:
        status, body = await emulator.handle(
            request.match_info["method"], params, token=request.match_info["token"]
        )
    except EmulatedConnectionReset:
        # Drop the connection without an answer, as a reset network would.
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError from None
    return web.json_response(body, status=status)


async def _file(request: web.Request) -> web.Response:
    emulator = request.app[_EMULATOR_KEY]
    content = None
    if request.match_info["token"] == emulator.token:
        content = emulator.file_content(request.match_info["path"])
    if content is None:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )
    return web.Response(body=content, content_type="application/octet-stream")


# --------------------------------------------------------------------------- control API


def fault_from_json(data: dict[str, Any]) -> Fault:
    """A fault from its control-API form, e.g. ``{"kind": "retry_after", "seconds": 3}``."""
    kind = data.get("kind")
    makers: dict[str, Callable[[], Fault]] = {
        "retry_after": lambda: RetryAfter(int(data.get("seconds", 1))),
        "blocked": Blocked,
        "kicked": Kicked,
        "chat_not_found": ChatNotFound,
        "migrate": lambda: Migrate(int(data["new_chat_id"])),
        "server_error": lambda: ServerError(
            int(data.get("status", 500)), str(data.get("description", "Internal Server Error"))
        ),
        "delay": lambda: Delay(float(data["seconds"]), bool(data.get("deliver", True))),
        "connection_reset": ConnectionReset,
    }
    if kind not in makers:
        raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(makers)}")
    return makers[kind]()


def message_to_json(message: SentMessage) -> dict[str, Any]:
    """A recorded message as the control API reports it."""
    return {
        "chat_id": message.chat_id,
        "message_id": message.message_id,
        "text": message.text,
        "plain_text": message.plain_text,
        "parse_mode": message.parse_mode,
        "reply_markup": message.reply_markup,
        "link_preview_options": message.link_preview_options,
        "date": message.date,
        "edits": message.edits,
        "document": message.document.file_name if message.document else None,
    }


def _as_list(body: Any) -> list[dict[str, Any]]:
    return body if isinstance(body, list) else [body]


def _control_routes(emulator: BotApiEmulator) -> list[web.RouteDef]:
    """``/_control/*``: drive the fake from another process. Bodies and answers are JSON."""

    async def users(request: web.Request) -> web.Response:
        # {"id", "first_name", "username"?} or a list of them
        for item in _as_list(await request.json()):
            emulator.add_user(
                int(item["id"]), item.get("first_name", "User"), username=item.get("username")
            )
        return web.json_response({"ok": True})

    async def chats(request: web.Request) -> web.Response:
        # {"id", "type", "title"?, "username"?, "creator"?, "admins"?, "members"?,
        #  "bot_status"?, "bot_can_post"?} or a list of them
        for item in _as_list(await request.json()):
            emulator.add_chat(
                int(item["id"]),
                item["type"],
                title=item.get("title"),
                username=item.get("username"),
                creator=item.get("creator"),
                admins=item.get("admins", ()),
                members=item.get("members", ()),
                bot_status=item.get("bot_status"),
                bot_can_post=item.get("bot_can_post", True),
            )
        return web.json_response({"ok": True})

    async def send_text(request: web.Request) -> web.Response:
        # {"chat_id", "user_id", "text"}
        updates = [
            emulator.send_text(int(i["chat_id"]), int(i["user_id"]), str(i["text"]))
            for i in _as_list(await request.json())
        ]
        return web.json_response({"ok": True, "updates": updates})

    async def press_button(request: web.Request) -> web.Response:
        # {"chat_id", "user_id", "message_id", "data", "forge"?}
        item = await request.json()
        update = emulator.press_button(
            int(item["chat_id"]),
            int(item["user_id"]),
            int(item["message_id"]),
            str(item["data"]),
            forge=bool(item.get("forge", False)),
        )
        return web.json_response({"ok": True, "update": update})

    async def inject(request: web.Request) -> web.Response:
        # {"error": {"kind": ...}, "method"?: "sendMessage", "chat_id"?, "times"?: 1}
        item = await request.json()
        emulator.inject(
            fault_from_json(item["error"]),
            method=item.get("method", "sendMessage"),
            chat_id=item.get("chat_id"),
            times=item.get("times", 1),
        )
        return web.json_response({"ok": True})

    async def fault_rate(request: web.Request) -> web.Response:
        # {"rate", "seed"?, "kinds"?: [{"kind": ...}], "methods"?: [...]}
        item = await request.json()
        kinds = [fault_from_json(k) for k in item.get("kinds", [])] or None
        if kinds is None:
            emulator.set_fault_rate(
                float(item["rate"]), seed=int(item.get("seed", 0)), methods=item.get("methods")
            )
        else:
            emulator.set_fault_rate(
                float(item["rate"]),
                seed=int(item.get("seed", 0)),
                kinds=kinds,
                methods=item.get("methods"),
            )
        return web.json_response({"ok": True})

    async def rate_limits(request: web.Request) -> web.Response:
        # {"enabled": true, "global_per_second"?, "private_per_second"?, "group_per_minute"?}
        item = await request.json()
        if item.get("enabled", True):
            fields = ("global_per_second", "private_per_second", "group_per_minute", "slack")
            emulator.enable_rate_limits(RateLimits(**{k: item[k] for k in fields if k in item}))
        else:
            emulator.disable_rate_limits()
        return web.json_response({"ok": True})

    async def messages(request: web.Request) -> web.Response:
        # ?chat_id=N
        chat_id = int(request.query["chat_id"])
        return web.json_response([message_to_json(m) for m in emulator.messages(chat_id)])

    async def counts(request: web.Request) -> web.Response:
        calls = Counter(call.method for call in emulator.calls)
        return web.json_response(
            {
                "messages": {str(k): v for k, v in emulator.message_counts().items()},
                "calls": dict(calls),
                "count_429": emulator.count_429,
                "faults_injected": dict(emulator.faults_injected),
                "pending_updates": len(emulator.pending_updates),
            }
        )

    async def reset(request: web.Request) -> web.Response:
        emulator.reset()
        return web.json_response({"ok": True})

    return [
        web.post("/_control/users", users),
        web.post("/_control/chats", chats),
        web.post("/_control/send_text", send_text),
        web.post("/_control/press_button", press_button),
        web.post("/_control/inject", inject),
        web.post("/_control/fault_rate", fault_rate),
        web.post("/_control/rate_limits", rate_limits),
        web.get("/_control/messages", messages),
        web.get("/_control/counts", counts),
        web.post("/_control/reset", reset),
    ]


# --------------------------------------------------------------------------- webhook sender

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def post_update(
    url: str, update: dict[str, Any], *, secret: str | None, timeout: float = 10.0
) -> int:
    """POST one update to a webhook as Telegram does; the HTTP status it answered.

    The bot's webhook server must be listening: a bot calls setWebhook before its
    server starts, so wait for the bot to say it started, not for setWebhook.
    """
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with httpx.AsyncClient(timeout=timeout) as client:
        response = await client.post(url, json=update, headers=headers)
        return response.status_code


async def post_webhook_updates(emulator: BotApiEmulator, *, timeout: float = 10.0) -> list[int]:
    """Deliver every queued update to the registered webhook, with the registered
    secret; returns the statuses. Raises if no webhook is set."""
    if not emulator.webhook_url:
        raise RuntimeError("no webhook is set (setWebhook was not called)")
    return [
        await post_update(
            emulator.webhook_url, update, secret=emulator.webhook_secret, timeout=timeout
        )
        for update in emulator.take_webhook_updates()
    ]


# --------------------------------------------------------------------------- server


async def start_fake_bot_api(
    emulator: BotApiEmulator | None = None,
    *,
    token: str = DEFAULT_TOKEN,
    host: str = "127.0.0.1",
    port: int = 0,
    control: bool = False,
) -> FakeBotApi:
    """Serve ``emulator`` (a new one for ``token`` if None) on ``host``:``port`` (0: any free)."""
    emulator = emulator or BotApiEmulator(token)
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[_EMULATOR_KEY] = emulator
    app.router.add_route("*", "/bot{token}/{method}", _api)
    app.router.add_get("/file/bot{token}/{path:.+}", _file)
    if control:
        app.add_routes(_control_routes(emulator))
    # A long poll or a held answer must not keep shutdown waiting.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = int(runner.addresses[0][1])
    return FakeBotApi(emulator, host, bound_port, emulator.token, runner)


@pytest.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotApi]:
    """A fake Bot API on 127.0.0.1 with a fresh emulator, for one test."""
    server = await start_fake_bot_api(control=True)
    try:
        yield server
    finally:
        await server.stop()


async def _serve_forever(args: argparse.Namespace) -> None:
    emulator = BotApiEmulator(args.token)
    if args.rate_limits:
        emulator.enable_rate_limits()
    server = await start_fake_bot_api(emulator, host=args.host, port=args.port, control=True)
    print(server.port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the fake Bot API standalone until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1", help="only loopback makes sense")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument(
        "--rate-limits", action="store_true", help="answer 429 past Telegram's flood limits"
    )
    args = parser.parse_args(argv)
    asyncio.run(_serve_forever(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

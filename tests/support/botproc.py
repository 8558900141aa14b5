"""`communique run` in a child process against the fake Bot API of the test process:
for signals, crashes and restarts, refusals at start, webhooks and the real JobQueue.

The fake runs on the test's event loop, so the child is started with asyncio's
subprocess API (a blocking wait would stop the fake from answering), and its output
is read as it comes (a full pipe would block the bot). The child gets a clean
environment (no setting from the developer's shell) and runs in its own folder
(no stray `.env`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from bot.config import SPECS
from tests.support.fake_bot_api import FakeBotApi


def bot_env(
    tmp_path: Path, fake: FakeBotApi, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a bot on the fake Bot API, its database under `tmp_path`;
    feeds on this machine are allowed and broadcasts unthrottled, as in the rig."""
    env = {k: v for k, v in os.environ.items() if k not in SPECS}
    env.update(
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DATABASE_PATH=str(database_of(tmp_path)),
        ALLOW_PRIVATE_FEEDS="true",
        BROADCAST_RATE="1000",
        LOG_LEVEL="INFO",
    )
    env.update(extra or {})
    return env


def database_of(tmp_path: Path) -> Path:
    return tmp_path / "data" / "communique.sqlite3"


class BotProcess:
    """`python -m bot run` in `tmp_path`, started, stopped, killed and restarted at
    will; everything it writes (stdout and stderr, every run) is kept in `log`."""

    def __init__(
        self,
        tmp_path: Path,
        fake: FakeBotApi,
        *,
        admin: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.tmp_path = tmp_path
        self.fake = fake
        self.database = database_of(tmp_path)
        admins = {} if admin is None else {"ADMIN_IDS": str(admin)}
        self.env = bot_env(tmp_path, fake, {**admins, **(env or {})})
        self.log = bytearray()
        self.starts = 0
        self._polls_at_start = 0
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._grew = asyncio.Event()

    @property
    def process(self) -> asyncio.subprocess.Process:
        assert self._process is not None, "the bot was never started"
        return self._process

    @property
    def logged(self) -> str:
        return self.log.decode(errors="replace")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        """Start the bot (a new process on the same folder and database); it is not
        waited for (see wait_polling, wait_logged)."""
        assert not self.running, "the bot is already running"
        self._polls_at_start = len(self.fake.emulator.calls_to("getUpdates"))
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self.tmp_path,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self.starts += 1
        self._reader = asyncio.create_task(self._read(self._process))

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while chunk := await process.stdout.read(65536):
            self.log += chunk
            self._grew.set()
        self._grew.set()

    async def wait_logged(self, text: str, timeout: float = 15.0) -> None:
        """Wait until the bot has logged `text` (woken by each chunk it writes)."""
        async with asyncio.timeout(timeout):
            while text not in self.logged:
                if self._reader is None or self._reader.done():
                    raise AssertionError(f"the bot exited before logging {text!r}")
                self._grew.clear()
                await self._grew.wait()

    async def wait_polling(self, timeout: float = 30.0) -> None:
        """Wait until the bot, started last, asks Telegram for updates."""
        api = self.fake.emulator
        try:
            await api.wait_for(
                lambda: len(api.calls_to("getUpdates")) > self._polls_at_start or not self.running,
                timeout=timeout,
            )
        except TimeoutError:
            raise AssertionError(f"the bot did not start polling:\n{self.tail()}") from None
        if not self.running:
            raise AssertionError(f"the bot exited at start:\n{self.tail()}")

    async def wait_exit(self, timeout: float = 30.0) -> int:
        """Wait for the bot to exit on its own; its exit status."""
        status = await asyncio.wait_for(self.process.wait(), timeout)
        await self._drained()
        return status

    async def stop(self, signum: int = signal.SIGTERM, timeout: float = 15.0) -> tuple[int, float]:
        """Send `signum`; (exit status, seconds it took to exit)."""
        started = time.monotonic()
        if self.running:
            self.process.send_signal(signum)
        status = await asyncio.wait_for(self.process.wait(), timeout)
        elapsed = time.monotonic() - started
        await self._drained()
        return status, elapsed

    async def kill(self) -> None:
        """SIGKILL, no clean-up at all, as in a power cut; also the teardown that
        leaves no child behind, whatever happened in the test."""
        if self.running:
            self.process.kill()
            await self.process.wait()
        await self._drained()

    async def restart(self) -> None:
        """Kill the bot and start it again, waiting until it polls."""
        await self.kill()
        await self.start()
        await self.wait_polling()

    def tail(self, size: int = 5000) -> str:
        """The end of the log, for a failure message."""
        return self.logged[-size:]

    async def _drained(self) -> None:
        if self._reader is not None:
            await self._reader

"""`communique run` in a child process against the fake Bot API of the test process.

The fake runs on the test's event loop, so the child is started with asyncio's
subprocess API (a blocking wait would stop the fake from answering). The child
gets a clean environment (no setting from the developer's shell) and runs in a
temporary folder (no stray `.env`).
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
    env = {k: v for k, v in os.environ.items() if k not in SPECS}
    env.update(
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DATABASE_PATH=str(database_of(tmp_path)),
        LOG_LEVEL="INFO",
    )
    env.update(extra or {})
    return env


def database_of(tmp_path: Path) -> Path:
    return tmp_path / "data" / "communique.sqlite3"


class BotProcess:
    """A running bot; its stderr is read as it comes so a full pipe never blocks it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.log = bytearray()
        self._grew = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(65536):
            self.log += chunk
            self._grew.set()
        self._grew.set()

    async def wait_logged(self, text: str, timeout: float = 15.0) -> None:
        """Wait until the bot has logged `text` (woken by each chunk it writes)."""
        async with asyncio.timeout(timeout):
            while text not in self.logged:
                if self._reader.done():
                    raise AssertionError(f"the bot exited before logging {text!r}")
                self._grew.clear()
                await self._grew.wait()

    @property
    def logged(self) -> str:
        return self.log.decode(errors="replace")

    async def stop(self, signum: int = signal.SIGTERM, timeout: float = 15.0) -> tuple[int, float]:
        """Send `signum`; (exit status, seconds it took to exit)."""
        started = time.monotonic()
        self.process.send_signal(signum)
        status = await asyncio.wait_for(self.process.wait(), timeout)
        elapsed = time.monotonic() - started
        await self._reader
        return status, elapsed

    async def kill(self) -> None:
        """Teardown: whatever happened in the test, leave no child behind."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await self._reader


async def start_bot(tmp_path: Path, env: Mapping[str, str]) -> BotProcess:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    return BotProcess(process)

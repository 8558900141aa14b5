"""Running the real bot as a subprocess against the fake Bot API, for crash tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.config import SPECS
from tests.support.fake_bot_api import FakeBotApi


class BotProcess:
    """`python -m bot run` with settings pointing at the fakes; killable at will."""

    def __init__(
        self,
        tmp_path: Path,
        fake: FakeBotApi,
        *,
        admin: int,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.tmp_path = tmp_path
        self.fake = fake
        self.database = tmp_path / "data" / "communique.sqlite3"
        env = {k: v for k, v in os.environ.items() if k not in SPECS}
        env.update(
            {
                "TELEGRAM_BOT_TOKEN": fake.token,
                "TELEGRAM_API_BASE_URL": fake.base_url,
                "DATABASE_PATH": str(self.database),
                "ADMIN_IDS": str(admin),
                "ALLOW_PRIVATE_FEEDS": "true",
                "BROADCAST_RATE": "1000",
                "LOG_LEVEL": "INFO",
            }
        )
        env.update(extra_env or {})
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_path = tmp_path / "bot.log"

    async def start(self) -> None:
        """Start the bot and wait until it polls Telegram for updates."""
        assert self.proc is None or self.proc.poll() is not None
        polls_before = len(self.fake.emulator.calls_to("getUpdates"))
        self.proc = self._spawn()
        self.starts += 1
        try:
            await self.fake.emulator.wait_for(
                lambda: (
                    len(self.fake.emulator.calls_to("getUpdates")) > polls_before
                    or (self.proc is not None and self.proc.poll() is not None)
                ),
                timeout=30.0,
            )
        except TimeoutError:
            raise AssertionError(f"the bot did not start polling:\n{self.log()}") from None
        if self.proc.poll() is not None:
            raise AssertionError(f"the bot exited at start:\n{self.log()}")

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=self.tmp_path,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as in a power cut."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, lambda: self._wait(15))
        return self.proc.returncode

    def _wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

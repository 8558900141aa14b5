"""Console mode: the real bot in a terminal, offline.

The same Application, handlers, jobs and store as in production; only the Bot API
is replaced by the in-process emulator (`bot.emulator`), which plays the person at
the keyboard. Replies are shown as a terminal shows them best: bold as bold, links
with their URL, buttons as numbered choices picked by typing the number.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
from datetime import date
from html.parser import HTMLParser
from importlib import resources
from typing import TextIO

from telegram import Update

from bot.app import Overrides, build_application, start_application, stop_application
from bot.emulator import BotApiEmulator, EmulatorRequest, SentMessage
from bot.services import Services, services_of
from bot.settings import Settings
from jobs.parse import parse_feed
from storage.store import Store

log = logging.getLogger(__name__)

CONSOLE_TOKEN = "1000000001:console-mode-has-no-real-token-xx"
CONSOLE_USER = 1000000002
SAMPLE_FEED_URL = "https://www.rusemb.org.uk/rss"
SEED_COUNTERS = [
    (
        date(2018, 3, 4),
        "Europe/Moscow",
        "{days} days have passed since the Salisbury incident - no credible information "
        "or response from the British authorities",
    ),
    (
        date(2018, 3, 12),
        "Europe/Moscow",
        "{days} days have passed since the death of Nikolay Glushkov on British soil - "
        "no credible information or response from the British authorities",
    ),
]

BOLD, RESET = "\033[1m", "\033[0m"


class _TerminalHTML(HTMLParser):
    """Telegram HTML → terminal text."""

    def __init__(self, ansi: bool) -> None:
        super().__init__(convert_charrefs=True)
        self._ansi = ansi
        self._out: list[str] = []
        self._href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("b", "strong") and self._ansi:
            self._out.append(BOLD)
        elif tag == "a":
            self._href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("b", "strong") and self._ansi:
            self._out.append(RESET)
        elif tag == "a" and self._href:
            href = self._href.pop()
            if href:
                self._out.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        self._out.append(data)

    def text(self) -> str:
        return "".join(self._out)


def to_terminal(message: SentMessage, *, ansi: bool) -> str:
    if message.parse_mode == "HTML" and message.text is not None:
        parser = _TerminalHTML(ansi)
        parser.feed(message.text)
        parser.close()
        body = parser.text()
    else:
        body = message.text or message.caption or ""
    if message.document is not None:
        body += f"\n[file: {message.document.file_name}]"
    buttons = message.buttons
    if buttons:
        body += "\n" + "  ".join(f"[{i}] {b.get('text', '')}" for i, b in enumerate(buttons, 1))
    return body


async def seed_first_start(store: Store, chat_id: int) -> None:
    """A new database gets the bundled sample feed, the seed's counters and the
    console chat subscribed, so a newcomer sees the whole bot at once."""
    if await store.list_feeds() or await store.list_counters():
        return
    sample = resources.files("bot").joinpath("data/seed_feed.xml").read_bytes()
    parsed = parse_feed(
        sample, url=SAMPLE_FEED_URL, headers={"content-type": "application/rss+xml"}
    )
    feed = await store.add_feed(SAMPLE_FEED_URL, parsed.title or "Embassy statements")
    await store.record_poll(
        feed.id,
        parsed.entries,
        feed_title=parsed.title,
        etag=None,
        last_modified=None,
        content_hash=None,
        next_poll_at=store.now(),
        push=False,
    )
    # Offline: the sample is not fetched again until an admin resumes it.
    await store.set_feed_paused(feed.id, True)
    for start, zone, template in SEED_COUNTERS:
        await store.add_counter(start, zone, template)
    await store.upsert_chat(chat_id, "private", "You")
    await store.subscribe(chat_id, [feed.id])


class Console:
    def __init__(self, emulator: BotApiEmulator, out: TextIO, *, ansi: bool) -> None:
        self.emulator = emulator
        self.out = out
        self.ansi = ansi
        self._shown: dict[int, str] = {}
        self.last_buttons: SentMessage | None = None

    def show_new(self) -> None:
        """Print every message (or edit) in the console chat not printed yet."""
        for message in self.emulator.messages(CONSOLE_USER):
            rendered = to_terminal(message, ansi=self.ansi)
            if self._shown.get(message.message_id) == rendered:
                continue
            edited = message.message_id in self._shown
            self._shown[message.message_id] = rendered
            prefix = "bot (edited)" if edited else "bot"
            print(f"{prefix}> {rendered.replace(chr(10), chr(10) + '     ')}\n", file=self.out)
            if message.buttons:
                self.last_buttons = message
        self.out.flush()

    def translate(self, line: str) -> tuple[str, str] | None:
        """A typed line → ('text', …) or ('button', callback_data); None to ignore."""
        line = line.strip()
        if not line:
            return None
        if line.isdigit() and self.last_buttons is not None:
            buttons = self.last_buttons.buttons
            index = int(line) - 1
            if 0 <= index < len(buttons) and "callback_data" in buttons[index]:
                return ("button", str(buttons[index]["callback_data"]))
        return ("text", line)


async def run_console(
    settings: Settings, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    ansi = stdout.isatty()
    emulator = BotApiEmulator(CONSOLE_TOKEN, username="CommuniqueBot")
    emulator.add_user(CONSOLE_USER, "You")
    console_settings = dataclasses.replace(
        settings,
        token=CONSOLE_TOKEN,
        admin_ids=settings.admin_ids | {CONSOLE_USER},
        webhook_url=None,
    )
    app = build_application(
        console_settings,
        Overrides(request=EmulatorRequest(emulator), get_updates_request=EmulatorRequest(emulator)),
    )
    await start_application(app)
    svc: Services = services_of(app)
    await seed_first_start(svc.store, CONSOLE_USER)
    await svc.store.upsert_chat(CONSOLE_USER, "private", "You")
    console = Console(emulator, stdout, ansi=ansi)
    if stdin.isatty():
        print(
            "Communique console: type commands as in Telegram (/help lists them), a number to "
            "press a button, Ctrl-D to leave.\n",
            file=stdout,
        )
    watcher = asyncio.create_task(_watch(console))
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            action = console.translate(line)
            if action is None:
                continue
            kind, value = action
            if kind == "button" and console.last_buttons is not None:
                raw = emulator.press_button(
                    CONSOLE_USER, CONSOLE_USER, console.last_buttons.message_id, value
                )
            else:
                raw = emulator.send_text(CONSOLE_USER, CONSOLE_USER, value)
            await app.process_update(Update.de_json(raw, app.bot))
            console.show_new()
        # End of input: let queued pushes go out before leaving.
        await svc.deliverer.wait_idle(10.0)
        console.show_new()
    finally:
        watcher.cancel()
        await stop_application(app)
        emulator.close()
    return 0


async def _watch(console: Console) -> None:
    """Pushes and the daily message appear when they happen."""
    emulator = console.emulator
    while True:
        seen = len(emulator.messages(CONSOLE_USER))

        def grew(before: int = seen) -> bool:
            return len(emulator.messages(CONSOLE_USER)) != before

        await emulator.wait_for(grew, timeout=3600)
        console.show_new()

"""Console mode: the real bot in a terminal, offline.

The same Application, handlers, jobs and store as in production; only the Bot API
is replaced by the in-process emulator (`emulator`), which plays the person at
the keyboard. Replies are shown as a terminal shows them best: bold as bold, links
with their URL, buttons as numbered choices picked by typing the number.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import sys
import threading
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from importlib import resources
from typing import TextIO

from telegram import Update

from bot.app import App, Overrides, build_application, start_application, stop_application
from bot.config import Settings
from bot.services import Services, services_of
from emulator import BotApiEmulator, EmulatorRequest, SentMessage
from jobs.page_list import detect_list
from jobs.parse import parse_feed
from storage.models import Detection
from storage.store import Store
from text.i18n import N_, translator

CONSOLE_TOKEN = "1000000001:console-mode-has-no-real-token-xx"
CONSOLE_USER = 1000000002
CONSOLE_NAME = "You"
SAMPLE_FEED_URL = "https://embassy.example/rss"
# The sample page source: a statements page without a feed, shaped like the seed's.
SAMPLE_PAGE_URL = "https://embassy.example/en/consular/news"
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
# The seed counters' Russian texts (the embassy's own wording on its Russian page),
# in SEED_COUNTERS' order: a console switched to Russian reads them so.
SEED_COUNTER_TEXTS_RU = [
    "С инцидента в Солсбери {прошёл|прошло|прошло} {days} {день|дня|дней} - никакой "
    "достоверной информации или ответа от британских властей",
    "Со дня гибели Николая Глушкова на британской земле {прошёл|прошло|прошло} {days} "
    "{день|дня|дней} - никакой достоверной информации или ответа от британских властей",
]
# How long leaving waits for queued messages (pushes, the daily message) to show.
DRAIN_SECONDS = 10.0
# How long a line waits for a reply of several messages (a full text: up to 30 parts,
# one a second in a private chat) before the next line is read.
REPLY_SECONDS = 40.0

BOLD, DIM, RESET = "\033[1m", "\033[2m", "\033[0m"


class ConsoleRefused(Exception):
    """Console mode must not run on this database; the message says why and what to do."""


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


@dataclass(frozen=True, slots=True)
class Choice:
    """A button that can be pressed by typing its number."""

    message_id: int
    data: str


def to_terminal(message: SentMessage, *, ansi: bool) -> tuple[str, list[Choice]]:
    """A bot message as terminal text, and the buttons the person can press."""
    if message.parse_mode == "HTML" and message.text is not None:
        parser = _TerminalHTML(ansi)
        parser.feed(message.text)
        parser.close()
        body = parser.text()
    else:
        body = message.text or message.caption or ""
    if message.document is not None:
        body += f"\n[file: {message.document.file_name}]"
    choices: list[Choice] = []
    labels: list[str] = []
    for button in message.buttons:
        label = str(button.get("text", ""))
        if "callback_data" in button:
            choices.append(Choice(message.message_id, str(button["callback_data"])))
            labels.append(f"[{len(choices)}] {label}")
        elif "url" in button:
            labels.append(f"{label} <{button['url']}>")
    if labels:
        body += "\n" + "  ".join(labels)
    return body, choices


async def prepare_database(settings: Settings, chat_id: int) -> bool:
    """Check the database is the console's own and seed it on first start.

    Returns True when it was seeded. Raises ConsoleRefused for a real bot's database:
    console mode would "deliver" its queued messages to the terminal and mark them
    sent, so real subscribers would never get them.
    """
    store = await Store.open(
        settings.database_path,
        default_timezone=settings.timezone,
        default_daily_time=settings.daily_time,
        default_language=settings.default_language,
    )
    try:
        stats = await store.stats()
        chats = stats.chats_active + sum(stats.chats_inactive.values())
        own = await store.find_chat(chat_id)
        others = chats - (1 if own is not None else 0)
        if others:
            raise ConsoleRefused(
                f"{settings.database_path} belongs to a real bot ({others} chat(s)): console "
                "mode would take its queued messages. Set DATABASE_PATH to another file "
                "(e.g. DATABASE_PATH=./data/console.sqlite3) or set TELEGRAM_BOT_TOKEN."
            )
        if own is not None or await store.list_feeds() or await store.list_counters():
            return False  # a later start keeps what is there
        await seed(store, chat_id)
        return True
    finally:
        await store.close()


async def seed(store: Store, chat_id: int) -> None:
    """The bundled sample feed and sample page source, the seed's counters and the
    console chat subscribed, so a newcomer sees the whole bot at once."""
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
        language=parsed.language,
    )
    page = await _seed_page(store)
    # Offline: neither is fetched until an admin resumes it (/resumefeed 1).
    for source in (feed.id, page):
        await store.set_feed_paused(source, True)
    for (start, zone, template), russian in zip(SEED_COUNTERS, SEED_COUNTER_TEXTS_RU, strict=True):
        counter = await store.add_counter(start, zone, template)
        await store.set_counter_text(counter.id, "ru", russian)
    # In DEFAULT_LANGUAGE until `/settings language` says otherwise.
    await store.upsert_chat(chat_id, "private", CONSOLE_NAME)
    await store.subscribe(chat_id, [feed.id, page])


async def _seed_page(store: Store) -> int:
    """The sample page source, its list read from the bundled page as a poll reads
    it (detection, dates in the bot's zone), stored silently. Returns its id."""
    sample = resources.files("bot").joinpath("data/seed_page.html").read_bytes()
    listing = detect_list(
        sample,
        url=SAMPLE_PAGE_URL,
        headers={"content-type": "text/html; charset=utf-8"},
        zone=store.default_timezone,
    )
    page = await store.add_feed(SAMPLE_PAGE_URL, listing.title or "Consular news", kind="page")
    await store.record_poll(
        page.id,
        listing.items[::-1],  # oldest first, as a poll stores them
        feed_title=listing.title,
        etag=None,
        last_modified=None,
        content_hash=None,
        next_poll_at=store.now(),
        push=False,
        language=listing.language,
        detection=Detection(listing.explanation.signature, len(listing.items)),
    )
    return page.id


class Console:
    """What the person sees: every bot message in the console chat, once, in order."""

    def __init__(self, emulator: BotApiEmulator, out: TextIO, *, ansi: bool) -> None:
        self.emulator = emulator
        self.out = out
        self.ansi = ansi
        self._shown: dict[int, str] = {}
        self.choices: list[Choice] = []
        # The reader went away (`| head`): the session ends, quietly, as with EOF.
        self.closed = False

    def _write(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:
            self.closed = True
            # Python's advice: point stdout at /dev/null so the flush at exit does not
            # raise again.
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.out.fileno())

    def show_new(self) -> int:
        """Print every message (or edit) not printed yet; returns how many."""
        printed = 0
        for message in self.emulator.messages(CONSOLE_USER):
            rendered, choices = to_terminal(message, ansi=self.ansi)
            if self._shown.get(message.message_id) == rendered:
                continue
            edited = message.message_id in self._shown
            self._shown[message.message_id] = rendered
            prefix = "bot (edited)> " if edited else "bot> "
            self._write(prefix + rendered.replace("\n", "\n" + " " * 5) + "\n\n")
            printed += 1
            if choices:
                self.choices = choices
        return printed

    def note(self, text: str) -> None:
        """A line from the console itself, not from the bot (already translated)."""
        self._write((f"{DIM}({text}){RESET}" if self.ansi else f"({text})") + "\n\n")

    def translate(self, line: str) -> tuple[str, str] | None:
        """A typed line → ('text', …) or ('button', number); None to ignore."""
        line = line.strip()
        if not line:
            return None
        if line.isdigit() and self.choices:
            return ("button", line)
        return ("text", line)

    def choice(self, number: str) -> Choice | None:
        index = int(number) - 1
        return self.choices[index] if 0 <= index < len(self.choices) else None

    def signature(self) -> int:
        """Changes whenever a message is added or edited."""
        return sum(1 + len(m.edits) for m in self.emulator.messages(CONSOLE_USER))


NO_SUCH_BUTTON = N_("there is no button {number}; the last message has 1-{count}")
COMMANDS_ONLY = N_("the bot answers commands such as /latest; /help lists them")


def _banner(settings: Settings, seeded: bool, ansi: bool, language: str = "en") -> str:
    """What the console says at start, in the console chat's language."""
    _ = translator(language).gettext
    title = _("Communique console")
    if ansi:
        title = f"{BOLD}{title}{RESET}"
    lines = [
        _("{title}: the real bot, offline; nothing leaves this computer.").format(title=title),
        _("Database: {path}. You are an admin here.").format(path=settings.database_path),
    ]
    if seeded:
        lines.append(
            _(
                "First start: loaded the sample feed's statements (paused, as there is no "
                "network) and the seed's two counters, and subscribed you."
            )
        )
    lines += [
        _("Try /latest, /search Salisbury, /counters, /feeds, /stats; /help lists everything."),
        _("Type a number to press a button. Ctrl-D (end of input) leaves."),
        "",
    ]
    return "\n".join(lines) + "\n"


async def _language(svc: Services) -> str:
    """The console chat's language, as it is now (`/settings language` changes it)."""
    chat = await svc.store.find_chat(CONSOLE_USER)
    return chat.language if chat is not None else svc.store.default_language


def _start_reader(stdin: TextIO, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines from stdin on a queue; None at end of input.

    A daemon thread rather than the loop's executor: a blocked read must never keep
    the process from exiting (Ctrl-C, SIGTERM).
    """
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        # RuntimeError: the loop closed (the console is leaving); OSError, ValueError:
        # stdin closed under us. Either way the reading is over.
        with contextlib.suppress(RuntimeError, OSError, ValueError):
            for line in iter(stdin.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return lines


async def run_console(
    settings: Settings, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    ansi = stdout.isatty()
    interactive = stdin.isatty()
    try:
        seeded = await prepare_database(settings, CONSOLE_USER)
    except ConsoleRefused as exc:
        print(f"communique console: {exc}", file=sys.stderr)
        return 2

    emulator = BotApiEmulator(CONSOLE_TOKEN, username="CommuniqueBot")
    # No Telegram language: the console chat starts in DEFAULT_LANGUAGE.
    emulator.add_user(CONSOLE_USER, CONSOLE_NAME, language_code=None)
    console_settings = dataclasses.replace(
        settings,
        token=CONSOLE_TOKEN,
        admin_ids=settings.admin_ids | {CONSOLE_USER},
        webhook_url=None,
    )
    app = build_application(
        console_settings,
        Overrides(
            request=EmulatorRequest(emulator),
            get_updates_request=EmulatorRequest(emulator),
            # Piped input is a script: it gets the replies to its commands and nothing
            # else. Polls and the daily message run in an interactive session.
            start_jobs=interactive,
        ),
    )
    console = Console(emulator, stdout, ansi=ansi)
    loop = asyncio.get_running_loop()
    await start_application(app)
    svc: Services = services_of(app)
    watcher: asyncio.Task[None] | None = None
    lines = _start_reader(stdin, loop)
    # SIGTERM leaves as end of input does: queued messages shown, database closed.
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, lines.put_nowait, None)
    try:
        if interactive:
            stdout.write(_banner(settings, seeded, ansi, await _language(svc)))
        # Today's daily message, if its time has passed, comes first and always in the
        # same place, as a bot that starts late sends it (the job would, 0.5 s later).
        if interactive and app.job_queue is not None:
            for job in app.job_queue.get_jobs_by_name("daily"):
                await job.run(app)
        await svc.deliverer.wait_idle(DRAIN_SECONDS)
        console.show_new()
        watcher = asyncio.create_task(_watch(console))
        while not console.closed and (line := await lines.get()) is not None:
            await _handle_line(app, console, line, interactive=interactive)
        # End of input: let queued pushes go out before leaving.
        await svc.deliverer.wait_idle(DRAIN_SECONDS)
        console.show_new()
    finally:
        if watcher is not None:
            watcher.cancel()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)
        await stop_application(app)
        emulator.close()
    return 0


async def _handle_line(app: App, console: Console, line: str, *, interactive: bool) -> None:
    action = console.translate(line)
    if action is None:
        return
    kind, value = action
    emulator = console.emulator
    svc = services_of(app)
    if kind == "button":
        choice = console.choice(value)
        if choice is None:
            _ = translator(await _language(svc)).gettext
            console.note(_(NO_SUCH_BUTTON).format(number=value, count=len(console.choices)))
            return
        raw = emulator.press_button(CONSOLE_USER, CONSOLE_USER, choice.message_id, choice.data)
    else:
        raw = emulator.send_text(CONSOLE_USER, CONSOLE_USER, value)
    await app.process_update(Update.de_json(raw, app.bot))
    if kind == "button":
        # What Telegram would show for a moment over the chat ("Sending the full
        # text…", "try again in 12 seconds").
        answer = emulator.callback_answers.get(str(raw["callback_query"]["id"]), {})
        if answer.get("text"):
            console.note(str(answer["text"]))
    # A full text goes out part by part after its press was answered: the next line
    # waits for it, so a script gets every part before its next command's reply.
    with contextlib.suppress(TimeoutError):
        await svc.replies.wait_idle(REPLY_SECONDS)
    if not console.show_new() and interactive and not value.startswith("/"):
        console.note(translator(await _language(svc)).gettext(COMMANDS_ONLY))


async def _watch(console: Console) -> None:
    """Pushes and the daily message appear when they happen."""
    while True:
        before = console.signature()

        def changed(before: int = before) -> bool:
            return console.signature() != before

        with contextlib.suppress(TimeoutError):
            await console.emulator.wait_for(changed, timeout=3600)
        console.show_new()

"""`communique console` as a person uses it: a subprocess fed through a pipe.

The replies are checked as the terminal shows them: /counters against the daily
message rendered for the same minutes (bot.daily), /latest and /search against the
bundled sample feed and sample page source (a statements page without a feed, read
offline). A second start keeps the data; a real bot's database is refused.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import SPECS
from bot.console import CONSOLE_USER, SEED_COUNTERS, to_terminal
from emulator import SentMessage
from storage.models import Counter
from storage.store import Store
from text.counters import render_daily_message
from text.plain import telegram_html_to_plain

CLOCKS = ("Europe/Moscow", "Europe/London")


def console_env(database: Path) -> dict[str, str]:
    """The test process's environment without any Communique setting, plus ours."""
    env = {k: v for k, v in os.environ.items() if k not in SPECS}
    env.update(
        DATABASE_PATH=str(database),
        # Due at midnight: today's daily message is always due on the first start.
        DAILY_TIME="00:00",
        TIMEZONE="Europe/London",
        CLOCKS=",".join(CLOCKS),
    )
    return env


def run_console(
    tmp_path: Path, typed: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], datetime]:
    """Run the console with `typed` on stdin (and settings `env`); also returns when
    it started."""
    started = datetime.now(UTC)
    # cwd=tmp_path: a developer's .env in the repository must not leak in.
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=typed,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=console_env(tmp_path / "data" / "console.sqlite3") | env,
        timeout=60,
    )
    return done, started


def blocks(stdout: str) -> list[str]:
    """Each message the console printed, without its prefix and indentation."""
    out = []
    for chunk in stdout.split("bot")[1:]:
        head, _, body = chunk.partition("> ")
        assert head in ("", " (edited)"), chunk
        lines = body.rstrip("\n").split("\n")
        text = "\n".join([lines[0], *(line.removeprefix(" " * 5) for line in lines[1:])])
        out.append(("(edited) " if head else "") + text.rstrip())
    return out


def daily_texts(since: datetime) -> set[str]:
    """The daily message as the terminal shows it, for every minute since `since`."""
    counters = [
        Counter(id=i, start_date=start, timezone=zone, template=template, position=i)
        for i, (start, zone, template) in enumerate(SEED_COUNTERS, 1)
    ]
    texts = set()
    moment = since.replace(second=0, microsecond=0)
    while moment <= datetime.now(UTC):
        texts.add(telegram_html_to_plain(render_daily_message(counters, moment, CLOCKS)).rstrip())
        moment += timedelta(minutes=1)
    return texts


def check_counters(text: str, started: datetime) -> None:
    lines = text.split("\n")
    today = datetime.now(ZoneInfo("Europe/Moscow"))
    assert str(today.year) in lines[0]
    assert lines[1].startswith("Moscow: ") and lines[2].startswith("London: ")
    assert lines[4].endswith(
        "days have passed since the Salisbury incident - no credible "
        "information or response from the British authorities"
    )
    # The exact text, numbers of days and clocks included, for the minute it ran.
    assert text in daily_texts(started)


async def test_console_answers_through_a_pipe_and_keeps_its_data(tmp_path: Path) -> None:
    done, started = run_console(tmp_path, "/counters\n/latest\n/search Salisbury\n")

    assert done.returncode == 0, done.stderr
    shown = blocks(done.stdout)
    # Piped input gets exactly the replies to its commands: no daily message, though
    # it is due (at midnight) — that one shows in an interactive session.
    assert len(shown) == 3, done.stdout
    counters, latest, search = shown
    check_counters(counters, started)
    salisbury_days = (datetime.now(ZoneInfo("Europe/Moscow")).date() - SEED_COUNTERS[0][0]).days
    assert f"{salisbury_days} days have passed since the Salisbury incident" in counters

    assert latest.startswith("Latest statements")
    # The newest is the sample page's: read from the bundled page, not from a feed.
    consular = "Consular Section closed to visitors over the Christmas and New Year holidays"
    assert latest.split("\n")[2:4] == [
        "1. 3 December 2021 · Consular news · summary only",
        f"{consular} <https://embassy.example/en/consular/news/518>",
    ]
    assert latest.index("consular/news/518") < latest.index("7102")
    for title, url in [
        ("Foreign Minister Sergey Lavrov’s remarks at the 29th Assembly", "fnapr/7102"),
        ("Foreign Ministry statement on the planned US “summit for democracy”", "fnapr/7101"),
        ("Embassy comment on the Home Office announcing a public inquiry", "fnapr/7099"),
    ]:
        assert title in latest
        assert f"<https://embassy.example/{url}>" in latest
    assert latest.index("7102") < latest.index("7101") < latest.index("7099")
    assert latest.count("<https://") == 5
    # A "Full text" button per numbered entry that has more than its summary (the
    # page source's statement has only its summary), then the page's own.
    assert latest.endswith(
        "[1] Full text 2  [2] Full text 3  [3] Full text 4  [4] Full text 5  [5] ◀ Older"
    )

    assert "Dawn Sturgess" in search
    assert search.count("<https://") == 1
    assert "<https://embassy.example/fnapr/7099>" in search
    # Not a terminal: no ANSI codes, no banner, and INFO logs stay quiet.
    assert "\033[" not in done.stdout
    assert "Communique console" not in done.stdout
    assert " INFO " not in done.stderr

    again, started = run_console(tmp_path, "/counters\n/latest\n5\n")

    assert again.returncode == 0, again.stderr
    shown = blocks(again.stdout)
    # No daily message in a pipe, no second set of counters.
    assert len(shown) == 3, again.stdout
    check_counters(shown[0], started)
    assert shown[0].count("days have passed") == 2
    # Typing 5 pressed the ◀ Older button: the list was edited to the next statements.
    assert shown[2].startswith("(edited) Latest statements")
    assert "fnapr/7102" not in shown[2]
    store = await Store.open(tmp_path / "data" / "console.sqlite3")
    try:
        assert len(await store.list_counters()) == 2
        feed, page = await store.list_feeds()
        assert (feed.kind, page.kind) == ("feed", "page")
        assert (page.title, page.detected_items, page.paused) == ("Consular news", 6, True)
        assert page.detected_signature == "div.news-list > div.news-item"
        assert await store.feed_item_count(page.id) == 6
        assert await store.count_items() == 11 + 6
        assert await store.subscriptions(CONSOLE_USER) == {feed.id, page.id}
    finally:
        await store.close()


async def test_a_real_bots_database_is_refused(tmp_path: Path) -> None:
    database = tmp_path / "data" / "console.sqlite3"
    store = await Store.open(database)
    await store.upsert_chat(555, "private", "Ann")
    await store.close()

    done, _started = run_console(tmp_path, "/counters\n")

    assert done.returncode == 2
    assert "belongs to a real bot (1 chat(s))" in done.stderr
    assert "DATABASE_PATH" in done.stderr
    assert done.stdout == ""
    store = await Store.open(database)
    try:
        assert await store.list_feeds() == []
        assert await store.list_counters() == []
        assert await store.find_chat(CONSOLE_USER) is None
    finally:
        await store.close()


def message(text: str, **fields: object) -> SentMessage:
    base: dict[str, object] = dict(
        chat_id=CONSOLE_USER,
        message_id=7,
        text=text,
        parse_mode="HTML",
        plain_text=None,
        entities=[],
        reply_markup=None,
        date=0,
        from_bot=True,
        sender_id=1,
    )
    base.update(fields)
    return SentMessage(**base)  # type: ignore[arg-type]


def test_terminal_rendering_bold_links_and_buttons() -> None:
    markup = {
        "inline_keyboard": [
            [{"text": "◀ Older", "callback_data": "l:5"}],
            [
                {"text": "Open", "url": "https://example.org/x"},
                {"text": "Next", "callback_data": "n"},
            ],
        ]
    }
    msg = message(
        '<b>Title &amp; more</b>\n<a href="https://example.org/a?b=1&amp;c=2">read</a>',
        reply_markup=markup,
    )

    on_tty, choices = to_terminal(msg, ansi=True)
    piped, _ = to_terminal(msg, ansi=False)

    assert on_tty.startswith("\033[1mTitle & more\033[0m\n")
    assert piped.split("\n") == [
        "Title & more",
        "read <https://example.org/a?b=1&c=2>",
        "[1] ◀ Older  Open <https://example.org/x>  [2] Next",
    ]
    assert [c.data for c in choices] == ["l:5", "n"]


def test_a_reader_that_goes_away_ends_the_session_quietly(tmp_path: Path) -> None:
    """`communique console | head -1`: the closed pipe ends the session like EOF."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=console_env(tmp_path / "data" / "console.sqlite3"),
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"/counters\n/latest\n/search Salisbury\n")
    proc.stdin.close()
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as `head -1` does
    assert first.startswith(b"bot> ")
    assert proc.wait(timeout=30) == 0
    assert proc.stderr is not None
    assert b"Traceback" not in proc.stderr.read()


def messages_shown(stdout: str) -> list[str]:
    """Each message the console printed, without its prefix and indentation (split
    on the prefixes alone: a statement's text may well hold the word "both")."""
    shown = []
    for chunk in re.split(r"(?m)^bot(?: \(edited\))?> ", stdout)[1:]:
        lines = chunk.rstrip("\n").split("\n")
        shown.append("\n".join([lines[0], *(line.removeprefix(" " * 5) for line in lines[1:])]))
    return shown


async def test_a_number_presses_full_text_and_the_parts_follow(tmp_path: Path) -> None:
    # The sample feed's newest (the page source's has only a summary).
    done, _started = run_console(tmp_path, "/latest 1 1\n1\n")

    assert done.returncode == 0, done.stderr
    shown = messages_shown(done.stdout)
    latest, parts = shown[0], shown[1:]
    # The press's answer, as Telegram would flash it, then every part, in order.
    assert latest.endswith(
        f"[1] Full text 1  [2] ◀ Older\n\n(Sending the full text in {len(parts)} messages.)"
    )
    assert len(parts) == 3
    bodies = []
    for number, part in enumerate(parts, start=1):
        head, _, body = part.rstrip("\n").partition("\n")
        assert head == f"{number}/3"
        bodies.append(body.strip())
    store = await Store.open(tmp_path / "data" / "console.sqlite3")
    try:
        [item] = await store.latest_items(1, feed_id=1)
    finally:
        await store.close()
    assert item.title.startswith("Foreign Minister Sergey Lavrov’s remarks at the 29th Assembly")
    pattern = r"\s*".join(re.escape(body) for body in bodies)
    assert re.fullmatch(pattern, f"{item.title}\n\n{item.content}")


async def test_alerts_filters_and_digest_mode_work_in_the_console(tmp_path: Path) -> None:
    typed = (
        "/alert Salisbury\n/alerts\n/filter 1 sanctions -consular\n/filter 1\n"
        "/settings pushes digest\n/unalert 1\n"
    )
    done, _ = run_console(tmp_path, typed)
    assert done.returncode == 0, done.stderr
    shown = blocks(done.stdout)
    assert shown[0].startswith("Alert 1 saved: «Salisbury».")
    assert shown[1].split("\n")[:2] == ["Alerts (1 of at most 20)", "1. «Salisbury»"]
    assert "[1] ✖ 1. Salisbury" in shown[1]
    assert shown[2].startswith("Filter set on feed 1,")
    assert shown[3].startswith("Filter on feed 1,") and "«sanctions -consular»" in shown[3]
    assert shown[4].startswith("New statements: one digest a day")
    assert shown[5] == "Alert 1 removed: «Salisbury»."


async def test_the_console_speaks_russian(tmp_path: Path) -> None:
    """`/settings language ru` in the console: the replies, dates, clocks and the
    seed's counters in Russian from then on."""
    done, started = run_console(
        tmp_path, "/latest 1\n/settings language ru\n/counters\n/latest 1\n/help\n"
    )
    assert done.returncode == 0, done.stderr
    english, switched, counters, latest, help_text = blocks(done.stdout)
    assert english.startswith("Latest statements (1–1)\n\n1. 3 December 2021 · Consular news")
    assert switched.startswith("Язык: Русский")
    lines = counters.split("\n")
    assert lines[1].startswith("Москва: ") and lines[2].startswith("Лондон: ")
    # The seed's counters in the embassy's own Russian wording, the plural form chosen.
    assert lines[4] in {
        f"С инцидента в Солсбери {russian_days(days)} - никакой достоверной информации"
        " или ответа от британских властей"
        for days in seed_days(started)
    }, lines[4]
    assert latest.startswith("Последние заявления (1–1)\n\n1. 3 декабря 2021 · Consular news")
    assert help_text.startswith("Что умеет Communique")


async def test_the_console_starts_in_the_default_language(tmp_path: Path) -> None:
    """The terminal's user has no Telegram language: the console reads DEFAULT_LANGUAGE."""
    done, _ = run_console(tmp_path, "/latest 1\n", DEFAULT_LANGUAGE="ru")
    assert done.returncode == 0, done.stderr
    assert blocks(done.stdout)[0].startswith("Последние заявления (1–1)")


def seed_days(since: datetime) -> set[int]:
    """The Salisbury counter's number of days from `since` to now (two around midnight)."""
    start = SEED_COUNTERS[0][0]
    moscow = ZoneInfo("Europe/Moscow")
    return {
        (moment.astimezone(moscow).date() - start).days for moment in (since, datetime.now(UTC))
    }


def russian_days(n: int) -> str:
    """ "прошёл 1 день", "прошло 2 дня", "прошло 5 дней": CLDR's Russian rule, by hand."""
    if n % 10 == 1 and n % 100 != 11:
        return f"прошёл {n} день"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return f"прошло {n} дня"
    return f"прошло {n} дней"

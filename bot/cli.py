"""The `communique` command line: run, console, poll --once, import-opml, export-opml,
backup, doctor, healthcheck, resummarise. Settings are read and checked once here; a
bad one exits with status 2."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot import USER_AGENT, __version__
from bot.config import Settings, SettingsError, load_settings
from bot.logs import hide_secrets, setup_logging
from storage.api import StoreAPI, open_store
from storage.errors import StorageError
from storage.lock import InstanceLock

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger("communique")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="communique",
        description="A Telegram bot for official statements: feeds in, alerts out.",
    )
    parser.add_argument("--version", action="version", version=f"communique {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (console mode when TELEGRAM_BOT_TOKEN is unset)")
    sub.add_parser("console", help="a terminal chat with the bot, offline")
    poll = sub.add_parser("poll", help="poll the feeds")
    poll.add_argument("--once", action="store_true", help="poll every feed once and exit")
    imp = sub.add_parser("import-opml", help="add the feeds of an OPML file")
    imp.add_argument("file", type=Path)
    sub.add_parser("export-opml", help="print the feeds as OPML")
    backup = sub.add_parser("backup", help="copy the database safely, even while the bot runs")
    backup.add_argument("path", type=Path)
    move = sub.add_parser(
        "migrate-db", help="copy the SQLite database into an empty PostgreSQL database"
    )
    move.add_argument(
        "--to", required=True, metavar="URL", help="postgresql://user:password@host:port/dbname"
    )
    sub.add_parser("doctor", help="check settings, database, token and feeds")
    sub.add_parser(
        "healthcheck", help="exit 0 if the running bot's heartbeat is fresh (container checks)"
    )
    resum = sub.add_parser(
        "resummarise",
        help="recompute every stored summary with this version's summariser (after an upgrade)",
    )
    resum.add_argument(
        "--restart",
        action="store_true",
        help="start from the first statement, not where an interrupted run stopped",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"communique: {exc}", file=sys.stderr)
        return 2
    level = settings.log_level
    if command == "console" or (command == "run" and not settings.token):
        # In a terminal chat, start-up and shutdown INFO lines are noise between the
        # replies; warnings still show, and LOG_LEVEL=DEBUG shows everything.
        level = "DEBUG" if level == "DEBUG" else "WARNING"
    secrets_ = settings.database_url.secrets if settings.database_url else []
    setup_logging(level, [settings.token, *secrets_])
    try:
        if command == "console" or (command == "run" and not settings.token):
            if settings.database_url is not None:
                print(
                    "communique: console mode runs offline on a SQLite file of its own;"
                    " unset DATABASE_URL (and set DATABASE_PATH) to use it",
                    file=sys.stderr,
                )
                return 2
        if command in ("run", "console") and settings.database_url is None:
            # Held until the process exits: one bot per database file. On PostgreSQL
            # several instances share the database and one leads (an advisory lock).
            InstanceLock(settings.database_path).acquire()
        if command == "run":
            return run(settings)
        if command == "console":
            return console(settings)
        if command == "poll" and not args.once:
            print(
                "communique: poll needs --once (the running bot polls on its own;"
                " `communique poll --once` polls every feed once and exits)",
                file=sys.stderr,
            )
            return 2
        if command == "poll":
            return asyncio.run(poll_once(settings))
        if command == "import-opml":
            return asyncio.run(import_opml(settings, args.file))
        if command == "export-opml":
            return asyncio.run(export_opml(settings))
        if command == "backup":
            if settings.database_url is not None:
                print(
                    "communique: backup copies a SQLite file; back PostgreSQL up with its"
                    " own tools (pg_dump, or the server's backups)",
                    file=sys.stderr,
                )
                return 2
            if os.path.abspath(args.path) == os.path.abspath(settings.database_path):
                print("communique: the backup must not overwrite the database", file=sys.stderr)
                return 2
            if Path(args.path).is_dir():
                print(
                    f"communique: {args.path} is a folder; give the backup a file name, e.g."
                    f" {Path(args.path) / 'communique-backup.sqlite3'}",
                    file=sys.stderr,
                )
                return 2
            return asyncio.run(backup(settings, args.path))
        if command == "migrate-db":
            return migrate_db(settings, args.to)
        if command == "doctor":
            from bot.doctor import run_doctor

            return asyncio.run(run_doctor(settings))
        if command == "healthcheck":
            return healthcheck(settings)
        if command == "resummarise":
            return asyncio.run(resummarise(settings, restart=args.restart))
    except StorageError as exc:
        print(f"communique: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        # A folder where a file should be, no permission, a full disk: one line.
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"communique: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(f"communique: unknown command {command}", file=sys.stderr)
    return 2


def run(settings: Settings) -> int:
    if not settings.token:
        print(
            "TELEGRAM_BOT_TOKEN is not set: starting console mode "
            "(set it in the environment or .env to run the real bot).",
            file=sys.stderr,
        )
        return console(settings)
    from telegram.error import BadRequest, InvalidToken, NetworkError

    from bot.app import EXIT_STATUS_KEY, TOKEN_REJECTED, build_application
    from text.redact import redact

    # Fail early, with the usual message, if the database cannot be used.
    asyncio.run(_check_database(settings))
    app = build_application(settings)
    try:
        _serve(app, settings)
    except InvalidToken:
        # PTB's own message quotes the token: never shown, not even here.
        print(f"communique: {TOKEN_REJECTED}", file=sys.stderr)
        return 2  # a bad setting, like any other
    except BadRequest as exc:
        # setWebhook refused: a URL Telegram cannot use, a port it does not allow.
        print(f"communique: Telegram refused the set-up: {redact(str(exc))}", file=sys.stderr)
        return 1
    except NetworkError as exc:
        print(
            f"communique: could not reach Telegram at start ({redact(str(exc))}); the bot"
            " stopped, a service manager will start it again",
            file=sys.stderr,
        )
        return 1
    # Not 0 when the bot stopped itself: 2 if Telegram rejected the token while it
    # ran, 1 if polling ended for another reason.
    return int(app.bot_data.get(EXIT_STATUS_KEY, 0))


def _serve(app: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> None:
    from telegram import Update

    # run_polling and run_webhook stop cleanly on SIGTERM and SIGINT (PTB's default stop
    # signals): the updater stops, post_stop lets delivery finish the message in flight,
    # post_shutdown closes the database; then this returns and the exit status is 0.
    if settings.webhook_url:
        secret = settings.webhook_secret
        if secret is None:
            # Telegram is told the secret at every start (setWebhook), so a fresh random
            # one works as well as a configured one: the secret is always checked.
            secret = secrets.token_urlsafe(32)
            hide_secrets([secret])
            log.info("WEBHOOK_SECRET is not set: using a random secret for this run")
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)


def healthcheck(settings: Settings) -> int:
    """A check light enough to run every few seconds: the heartbeat file's age only."""
    from bot.health import check_health

    health = check_health(settings.database_path, database_file=settings.database_url is None)
    print(f"{'ok' if health.ok else 'unhealthy'}: {health.detail}")
    return 0 if health.ok else 1


def console(settings: Settings) -> int:
    from bot.console import run_console

    return asyncio.run(run_console(settings))


async def _check_database(settings: Settings) -> None:
    store = await open_store(
        path=settings.database_path,
        url=settings.database_url.url if settings.database_url else None,
    )
    await store.close()


async def _open(settings: Settings, *, migrate: bool = True) -> StoreAPI:
    return await open_store(
        path=settings.database_path,
        url=settings.database_url.url if settings.database_url else None,
        default_timezone=settings.timezone,
        default_daily_time=settings.daily_time,
        default_language=settings.default_language,
        migrate=migrate,
    )


async def poll_once(settings: Settings) -> int:
    """Poll every active feed once; new statements are queued for the running bot."""
    from datetime import UTC, datetime

    from jobs.fetch import make_client
    from jobs.poll import Poller

    store = await _open(settings)
    http = make_client(user_agent=USER_AGENT, allow_private=settings.allow_private_feeds)
    try:
        poller = Poller(
            store,
            http,
            poll_interval=settings.poll_interval,
            allow_private=settings.allow_private_feeds,
            clock=lambda: datetime.now(UTC),
            source_zone=settings.timezone,
        )
        try:
            report = await poller.poll_due(force=True)
        finally:
            poller.close()
    finally:
        await http.aclose()
        await store.close()
    print(
        f"polled {report.polled} feed(s): {report.changed} changed, "
        f"{report.not_modified} unchanged, {report.failed} failed; "
        f"{report.new_items} new statement(s), {report.queued} deliveries queued"
    )
    return 0 if report.failed == 0 else 1


async def import_opml(settings: Settings, path: Path) -> int:
    """Add the feeds of an OPML file; progress on stderr, the summary on stdout."""
    from bot.opml import OpmlError
    from bot.opml import import_opml as store_opml

    try:
        content = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        print(f"communique: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2

    def progress(done: int, total: int) -> None:
        print(f"\rimporting: {done}/{total}", end="", file=sys.stderr, flush=True)

    store = await _open(settings)
    try:
        result = await store_opml(
            store, content, allow_private=settings.allow_private_feeds, progress=progress
        )
    except OpmlError as exc:
        print(f"communique: {path}: {exc}", file=sys.stderr)
        return 2
    finally:
        await store.close()
    if result.added or result.existing:
        print(file=sys.stderr)
    print(
        f"added {len(result.added)}, already there {len(result.existing)}, "
        f"refused {len(result.refused)}"
    )
    for url, why in result.refused:
        print(f"  refused {url}: {why}")
    return 0


async def export_opml(settings: Settings) -> int:
    from bot.opml import render_opml

    store = await _open(settings)
    try:
        sys.stdout.write(render_opml(await store.list_feeds()))
    finally:
        await store.close()
    return 0


async def backup(settings: Settings, target: Path) -> int:
    """Copy the database with SQLite's online backup; the bot may keep running."""
    if not settings.database_path.is_file():
        # Opening would create an empty database, and back that up.
        print(
            f"communique: there is no database at {settings.database_path}"
            " (DATABASE_PATH); nothing to back up",
            file=sys.stderr,
        )
        return 1
    store = await _open(settings, migrate=False)
    try:
        await store.backup_to(target)
    finally:
        await store.close()
    print(f"backed up {settings.database_path} to {target}")
    return 0


def resume_path(database_path: Path) -> Path:
    """`communique.sqlite3` → `communique.sqlite3.resummarise`: where an interrupted
    `communique resummarise` left off, beside the database."""
    return database_path.with_name(database_path.name + ".resummarise")


def _read_resume(path: Path) -> tuple[int, int, int]:
    """(last statement done, statements done, summaries changed) of an interrupted
    run of this version; (0, 0, 0) when there is none to go on with."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("version") == __version__:
            return int(saved["after"]), int(saved["done"]), int(saved["changed"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    return 0, 0, 0


def _write_resume(path: Path, after: int, done: int, changed: int) -> None:
    saved = {"version": __version__, "after": after, "done": done, "changed": changed}
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(saved), encoding="utf-8")
    temporary.replace(path)


async def resummarise(settings: Settings, *, restart: bool) -> int:
    """Recompute every stored summary; progress on stderr, the count on stdout. Safe
    while the bot runs; an interrupted run goes on where it stopped next time."""
    from jobs.resummarise import Progress
    from jobs.resummarise import resummarise as recompute

    if not settings.database_path.is_file():
        print(
            f"communique: there is no database at {settings.database_path}"
            " (DATABASE_PATH); nothing to resummarise",
            file=sys.stderr,
        )
        return 1
    marker = resume_path(settings.database_path)
    after, done_before, changed_before = (0, 0, 0) if restart else _read_resume(marker)
    if after:
        print(
            f"going on after statement {after}, where the last run stopped (--restart starts over)",
            file=sys.stderr,
        )

    def progress(state: Progress) -> None:
        _write_resume(
            marker, state.last_id, done_before + state.done, changed_before + state.changed
        )
        print(
            f"\rresummarising: {state.done}/{state.total} statements,"
            f" {changed_before + state.changed} changed",
            end="",
            file=sys.stderr,
            flush=True,
        )

    store = await _open(settings)
    try:
        result = await recompute(store, after_id=after, progress=progress)
    finally:
        await store.close()
    if result.done:
        print(file=sys.stderr)
    marker.unlink(missing_ok=True)
    done, changed = done_before + result.done, changed_before + result.changed
    print(
        f"resummarised {done} statement{'s' if done != 1 else ''}:"
        f" {changed} summar{'ies' if changed != 1 else 'y'} changed"
    )
    return 0


def migrate_db(settings: Settings, to: str) -> int:
    """Copy the SQLite database at DATABASE_PATH into the empty PostgreSQL database
    at `to`, with progress on stderr; exit 1 unless every table's count matches."""
    from storage.database_url import parse_database_url

    try:
        target = parse_database_url(to)
    except ValueError as exc:
        print(f"communique: --to must be {exc}", file=sys.stderr)
        return 2
    hide_secrets(target.secrets)
    from storage.postgres import require_driver

    require_driver()
    from storage.transfer import copy_to_postgres

    if not settings.database_path.is_file():
        print(
            f"communique: there is no database at {settings.database_path} (DATABASE_PATH) to copy",
            file=sys.stderr,
        )
        return 1
    # A bot still running on the file would go on changing what is being copied.
    with InstanceLock(settings.database_path):

        def progress(table: str, done: int, total: int) -> None:
            end = "\n" if done >= total else ""
            print(f"\rcopying {table}: {done}/{total}", end=end, file=sys.stderr, flush=True)

        copied = asyncio.run(
            copy_to_postgres(settings.database_path, target.url, progress=progress)
        )
    wrong = [c for c in copied if not c.ok]
    for c in copied:
        mark = "ok" if c.ok else "DIFFERS"
        print(f"{c.table}: {c.source} in SQLite, {c.target} in PostgreSQL ({mark})")
    if wrong:
        print(f"communique: {len(wrong)} table(s) differ after the copy", file=sys.stderr)
        return 1
    print(
        f"copied {settings.database_path} to {target.masked}; set DATABASE_URL to it and"
        " start the bot"
    )
    return 0

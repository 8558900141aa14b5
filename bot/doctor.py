"""`communique doctor`: checks settings, database, token and feeds, and says plainly
what is wrong. Exit status 0 when everything is fine, 1 otherwise.

It changes nothing: the database is only read (and not created when missing), and
each feed gets one conditional request whose answer is not stored. A web page read
as a list gets one request too, and its list is read (in the parse worker) to say
whether it is still found.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot import USER_AGENT
from bot.config import Settings
from bot.health import check_health
from jobs.fetch import fetch_feed, make_client
from jobs.fetch_errors import FetchError
from jobs.page_list import PageListError, Selectors
from jobs.page_poll import list_not_found
from jobs.parse_worker import FeedParser
from storage.api import StoreAPI, open_store
from storage.errors import StorageError
from storage.models import Feed
from storage.schema import LATEST_VERSION
from text.redact import redact

FEED_CONCURRENCY = 8  # feeds checked at once; each still gets a single request


@dataclass
class Report:
    out: TextIO
    problems: int = 0
    lines: list[str] = field(default_factory=list)

    def line(self, status: str, what: str, detail: str) -> None:
        """status: 'ok', 'info', 'warn' (worth knowing, not wrong) or 'FAIL' (counted)."""
        if status == "FAIL":
            self.problems += 1
        print(f"[{status}]".ljust(7) + f"{what}: {redact(detail)}", file=self.out)


async def run_doctor(settings: Settings, out: TextIO | None = None) -> int:
    report = Report(out or sys.stdout)
    print("Communique doctor", file=report.out)
    _check_settings(settings, report)
    store = await _check_database(settings, report)
    try:
        await _check_token(settings, report)
        if store is not None:
            await _check_feeds(settings, store, report)
    finally:
        if store is not None:
            await store.close()
    health = check_health(settings.database_path, database_file=settings.database_url is None)
    report.line("info", "bot", f"running, {health.detail}" if health.ok else health.detail)
    print(
        "everything looks fine" if not report.problems else f"{report.problems} problem(s) found",
        file=report.out,
    )
    return 0 if not report.problems else 1


def _check_settings(settings: Settings, report: Report) -> None:
    mode = f"webhook at {settings.webhook_url}" if settings.webhook_url else "polling"
    if not settings.token:
        mode = "console mode (TELEGRAM_BOT_TOKEN is not set)"
    report.line(
        "ok",
        "settings",
        f"{mode}; database {settings.database_name}; {len(settings.admin_ids)} admin(s); "
        f"daily at {settings.daily_time:%H:%M} {settings.timezone}",
    )
    if settings.token and not settings.admin_ids:
        report.line("warn", "settings", "ADMIN_IDS is empty: nobody can add feeds")
    if settings.webhook_url and not settings.webhook_secret:
        report.line("warn", "settings", "WEBHOOK_SECRET is not set: a random one is used per run")


async def _check_database(settings: Settings, report: Report) -> StoreAPI | None:
    if settings.database_url is not None:
        # PostgreSQL: nothing on this disk to check; the server is asked.
        try:
            store = await open_store(
                path=settings.database_path, url=settings.database_url.url, migrate=False
            )
        except StorageError as exc:
            report.line("FAIL", "database", str(exc))
            return None
        return await _check_contents(store, report)
    path = settings.database_path
    folder = path.parent
    if not folder.is_dir():
        report.line("FAIL", "database", f"the folder {folder} does not exist")
        return None
    if not os.access(folder, os.W_OK):
        report.line(
            "FAIL",
            "database",
            f"the folder {folder} is not writable by this user (uid {os.getuid()}); "
            "the bot needs it for the database, its journal and its lock",
        )
    if not path.exists():
        report.line("FAIL", "database", f"{path} does not exist yet (run the bot once)")
        return None
    try:
        store = await open_store(path=path, migrate=False)
    except StorageError as exc:
        report.line("FAIL", "database", str(exc))
        return None
    return await _check_contents(store, report)


async def _check_contents(store: StoreAPI, report: Report) -> StoreAPI | None:
    if await store.schema_version() == 0:
        await store.close()
        report.line("FAIL", "database", "it holds no Communique data yet (run the bot once)")
        return None
    try:
        version = await store.schema_version()
        integrity = await store.integrity_check()
        stats = await store.stats()
    except StorageError as exc:
        await store.close()
        report.line("FAIL", "database", str(exc))
        return None
    if version < LATEST_VERSION:
        report.line(
            "ok",
            "database schema",
            f"version {version}; this Communique migrates it to {LATEST_VERSION} at start",
        )
    else:
        report.line("ok", "database schema", f"version {version}")
    report.line(
        "ok" if integrity == "ok" else "FAIL",
        "database integrity",
        integrity if integrity == "ok" else f"{integrity} (restore a backup)",
    )
    report.line(
        "ok",
        "database contents",
        f"{stats.feeds} feed(s), {stats.items} statement(s), {stats.chats_active} active "
        f"chat(s), {stats.pending} message(s) waiting",
    )
    return store


async def _check_token(settings: Settings, report: Report) -> None:
    if not settings.token:
        report.line("ok", "token", "not set: `communique run` starts console mode")
        return
    try:
        async with Bot(settings.token, base_url=settings.api_base_url) as bot:
            me = await bot.get_me()
    except InvalidToken:
        report.line(
            "FAIL",
            "token",
            "Telegram rejected TELEGRAM_BOT_TOKEN (revoked or mistyped; ask @BotFather)",
        )
        return
    except NetworkError as exc:
        report.line(
            "FAIL", "token", f"could not reach the Bot API at {settings.api_base_url}: {exc}"
        )
        return
    except TelegramError as exc:
        report.line("FAIL", "token", f"the Bot API answered with an error: {exc}")
        return
    report.line("ok", "token", f"works for @{me.username}")


async def _check_feeds(settings: Settings, store: StoreAPI, report: Report) -> None:
    feeds = await store.list_feeds()
    client = make_client(user_agent=USER_AGENT, allow_private=settings.allow_private_feeds)
    limit = asyncio.Semaphore(FEED_CONCURRENCY)

    parser = FeedParser()

    async def check(feed: Feed) -> tuple[str, str]:
        if feed.paused:
            return "ok", "paused (not checked)"
        async with limit:
            try:
                # A page's list is what is checked: its body is always fetched.
                result = await fetch_feed(
                    client,
                    feed.url,
                    etag=None if feed.is_page else feed.etag,
                    last_modified=None if feed.is_page else feed.last_modified,
                    previous_hash=None if feed.is_page else feed.content_hash,
                    allow_private=settings.allow_private_feeds,
                    now=datetime.now(UTC),
                )
            except FetchError as exc:
                return "FAIL", str(exc)
        if feed.is_page and result.content is not None:
            return await _check_page(parser, feed, result.content, result.url, result.headers)
        return "ok", "answers (" + ("unchanged" if result.not_modified else "changed") + ")"

    try:
        results = await asyncio.gather(*(check(feed) for feed in feeds))
    finally:
        parser.close()
        await client.aclose()
    for feed, (status, detail) in zip(feeds, results, strict=True):
        report.line(status, f"feed {feed.id}", f"{feed.url}: {detail}")
    if not feeds:
        report.line("warn", "feeds", "none yet: an admin adds one with /addfeed URL")


async def _check_page(
    parser: FeedParser, feed: Feed, content: bytes, url: str, headers: dict[str, str]
) -> tuple[str, str]:
    """A page source's list, read as a poll would read it; nothing is stored."""
    try:
        selectors = Selectors.from_words(feed.selectors)[0] if feed.selectors else None
        listing = await parser.read_list(
            content, url=url, headers=headers, selectors=selectors, zone=None
        )
    except PageListError as exc:
        return "FAIL", list_not_found(exc, feed.detected_items)
    signature = listing.explanation.signature
    return (
        "ok",
        f"web page, answers; its list holds {len(listing.items)} statement(s) ({signature})",
    )

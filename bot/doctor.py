"""`communique doctor`: checks settings, database, token and feeds, and says plainly
what is wrong. Exit status 0 when everything is fine, 1 otherwise. Changes nothing."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TextIO

from telegram import Bot
from telegram.error import TelegramError

from bot.logs import redact
from bot.settings import Settings
from jobs.fetch import FetchError, fetch_feed, make_client
from storage.errors import StorageError
from storage.schema import LATEST_VERSION
from storage.store import Store


async def run_doctor(settings: Settings, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    problems = 0

    def report(ok: bool, what: str, detail: str) -> None:
        nonlocal problems
        if not ok:
            problems += 1
        print(f"[{'ok' if ok else 'FAIL'}] {what}: {redact(detail)}", file=out)

    report(True, "settings", "every variable is valid")

    store: Store | None = None
    if not settings.database_path.exists():
        report(False, "database", f"{settings.database_path} does not exist yet (run the bot once)")
    else:
        try:
            store = await Store.open(settings.database_path, migrate=False)
            version = await store.schema_version()
            integrity = await store.integrity_check()
            report(
                version == LATEST_VERSION,
                "database schema",
                f"version {version} (this Communique: {LATEST_VERSION})"
                + ("" if version == LATEST_VERSION else "; the bot migrates it at start"),
            )
            report(integrity == "ok", "database integrity", integrity)
        except StorageError as exc:
            report(False, "database", str(exc))

    if settings.token:
        bot = Bot(settings.token, base_url=settings.api_base_url)
        try:
            async with bot:
                me = await bot.get_me()
            report(True, "token", f"works for @{me.username}")
        except TelegramError as exc:
            report(False, "token", f"Telegram refused it: {exc}")
        except Exception as exc:
            report(False, "token", f"could not reach the Bot API: {exc}")
    else:
        report(True, "token", "not set: the bot runs in console mode")

    if store is not None:
        try:
            feeds = await store.list_feeds()
            client = make_client(allow_private=settings.allow_private_feeds)
            try:
                for feed in feeds:
                    if feed.paused:
                        report(True, f"feed {feed.id}", f"{feed.url} is paused")
                        continue
                    try:
                        result = await fetch_feed(
                            client,
                            feed.url,
                            etag=feed.etag,
                            last_modified=feed.last_modified,
                            previous_hash=feed.content_hash,
                            allow_private=settings.allow_private_feeds,
                            now=datetime.now(UTC),
                        )
                        state = "unchanged" if result.not_modified else "has a new version"
                        report(True, f"feed {feed.id}", f"{feed.url} answers ({state})")
                    except FetchError as exc:
                        report(False, f"feed {feed.id}", f"{feed.url}: {exc}")
            finally:
                await client.aclose()
        finally:
            await store.close()

    print("everything looks fine" if not problems else f"{problems} problem(s) found", file=out)
    return 0 if not problems else 1

"""`communique doctor` against the fake Bot API and the local feed server: a clear
report, exit status 0 only when all is well, and the database left exactly as it was."""

from __future__ import annotations

import hashlib
import io
import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings, load_settings
from bot.doctor import run_doctor
from jobs.parse import parse_feed
from storage.models import Detection
from storage.schema import LATEST_VERSION
from storage.store import Store
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import sample_feed, statements_of_the_seed
from tests.support.page_site import serve_list

ETAG = '"v1"'


def doctor_settings(tmp_path: Path, fake: FakeBotApi, **extra: str) -> Settings:
    env = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_PATH": str(tmp_path / "data" / "communique.sqlite3"),
        "ADMIN_IDS": "1001",
        "ALLOW_PRIVATE_FEEDS": "true",
    }
    env.update(extra)
    return load_settings(env, env_file=None)


async def make_database(settings: Settings, *urls: str) -> None:
    """A database as the bot leaves it: each feed polled once, with its ETag."""
    store = await Store.open(settings.database_path)
    try:
        for index, url in enumerate(urls):
            feed = await store.add_feed(url)
            parsed = parse_feed(sample_feed(index), url=url, headers={})
            await store.record_poll(
                feed.id,
                parsed.entries,
                feed_title=parsed.title,
                etag=ETAG,
                last_modified=None,
                content_hash=None,
                next_poll_at=datetime.now(UTC),
                push=False,
            )
    finally:
        await store.close()


def fingerprint(path: Path) -> tuple[str, list[str]]:
    """The database's bytes, and the files beside it."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(
        p.name for p in path.parent.iterdir()
    )


async def doctor(settings: Settings) -> tuple[int, str]:
    out = io.StringIO()
    status = await run_doctor(settings, out)
    return status, out.getvalue()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once it is closed


async def test_all_fine(tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer) -> None:
    feed_server.set("/embassy.xml", sample_feed(0), etag=ETAG)
    settings = doctor_settings(tmp_path, fake_bot_api)
    await make_database(settings, feed_server.url("/embassy.xml"))
    before = fingerprint(settings.database_path)

    status, report = await doctor(settings)

    assert status == 0, report
    assert "[ok]   token: works for @CommuniqueBot" in report
    assert f"[ok]   database schema: version {LATEST_VERSION}" in report
    assert "[ok]   database integrity: ok" in report
    assert f"[ok]   feed 1: {feed_server.url('/embassy.xml')}: answers (unchanged)" in report
    assert "[FAIL]" not in report
    assert report.rstrip().endswith("everything looks fine")
    # One conditional request, with the validator the server sent.
    (request,) = feed_server.requests_to("/embassy.xml")
    assert request.headers["If-None-Match"] == ETAG
    assert fingerprint(settings.database_path) == before


async def test_a_rejected_token(tmp_path: Path, fake_bot_api: FakeBotApi) -> None:
    wrong = "123456789:AAthisTokenWasRevokedLongAgo_xyz"
    settings = doctor_settings(tmp_path, fake_bot_api, TELEGRAM_BOT_TOKEN=wrong)
    await make_database(settings)

    status, report = await doctor(settings)

    assert status == 1
    assert "[FAIL] token: Telegram rejected TELEGRAM_BOT_TOKEN" in report
    assert "AAthisTokenWasRevokedLongAgo" not in report
    assert report.rstrip().endswith("1 problem(s) found")


async def test_an_unreachable_feed(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    feed_server.set("/good.xml", sample_feed(0), etag=ETAG)
    dead = f"http://127.0.0.1:{closed_port()}/feed.xml"
    settings = doctor_settings(tmp_path, fake_bot_api)
    await make_database(settings, feed_server.url("/good.xml"), dead)
    before = fingerprint(settings.database_path)

    status, report = await doctor(settings)

    assert status == 1
    assert f"[ok]   feed 1: {feed_server.url('/good.xml')}: answers" in report
    assert f"[FAIL] feed 2: {dead}: " in report
    assert report.rstrip().endswith("1 problem(s) found")
    assert fingerprint(settings.database_path) == before


async def test_a_database_newer_than_the_code(tmp_path: Path, fake_bot_api: FakeBotApi) -> None:
    settings = doctor_settings(tmp_path, fake_bot_api)
    await make_database(settings)
    db = sqlite3.connect(settings.database_path)
    db.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    db.close()
    before = fingerprint(settings.database_path)

    status, report = await doctor(settings)

    assert status == 1
    assert (
        f"[FAIL] database: the database is at schema version {LATEST_VERSION + 1}, but this "
        f"Communique only knows versions up to {LATEST_VERSION}" in report
    )
    assert "[ok]   token" in report  # the other checks still ran
    assert fingerprint(settings.database_path) == before


async def test_a_missing_database_is_reported_not_created(
    tmp_path: Path, fake_bot_api: FakeBotApi
) -> None:
    settings = doctor_settings(tmp_path, fake_bot_api)
    settings.database_path.parent.mkdir()

    status, report = await doctor(settings)

    assert status == 1
    assert "does not exist yet (run the bot once)" in report
    assert list(settings.database_path.parent.iterdir()) == []


async def test_page_sources_are_read_once_and_their_list_checked(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    serve_list(feed_server, statements_of_the_seed(5), path="/news")
    serve_list(feed_server, statements_of_the_seed(5), path="/old", layout="none")
    settings = doctor_settings(tmp_path, fake_bot_api)
    await make_database(settings)
    store = await Store.open(settings.database_path)
    try:
        for path in ("/news", "/old"):
            page = await store.add_feed(feed_server.url(path), kind="page")
            await store.record_poll(
                page.id,
                [],
                feed_title=None,
                etag=ETAG,
                last_modified=None,
                content_hash=None,
                next_poll_at=datetime.now(UTC),
                detection=Detection("div.news-list > div.news-item", 5),
            )
    finally:
        await store.close()
    before = fingerprint(settings.database_path)

    status, report = await doctor(settings)

    assert status == 1
    assert (
        f"[ok]   feed 1: {feed_server.url('/news')}: web page, answers; its list holds 5"
        " statement(s) (div.news-list > div.news-item)"
    ) in report
    assert (
        f"[FAIL] feed 2: {feed_server.url('/old')}: the list of statements was not found:"
        " 0 items where there were 5; no 3 or more repeated blocks"
    ) in report
    # One request each, for the page itself (its list is what is checked).
    assert [r.path for r in feed_server.requests] in (["/news", "/old"], ["/old", "/news"])
    assert "If-None-Match" not in feed_server.requests[0].headers
    assert fingerprint(settings.database_path) == before

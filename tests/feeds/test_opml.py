"""OPML: parsing and rendering, `communique import-opml FILE` / `export-opml` on the
command line (2,000 feeds, with progress), and in Telegram an admin's OPML file
imported with a summary and /exportopml sending the list back as a file."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.opml import OpmlError, import_opml, parse_opml, refuse_private, render_opml
from storage.store import Store
from tests.support.feeds import sample_feed
from tests.support.rig import ADMIN, Rig


def opml(*outlines: str) -> bytes:
    body = "".join(outlines)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><opml version="2.0">'
        f"<head><title>Exported</title></head><body>{body}</body></opml>"
    ).encode()


def outline(url: str, title: str = "") -> str:
    return f'<outline type="rss" text="{title}" xmlUrl="{url}"/>'


def test_parse_keeps_feeds_and_says_why_others_are_refused() -> None:
    feeds, refused = parse_opml(
        opml(
            '<outline text="News">',
            outline("https://a.example/feed", "A &amp; B"),
            outline("https://a.example/feed", "again"),
            outline("HTTPS://A.example:443/./feed#top", "the same, spelled otherwise"),
            "</outline>",
            outline("ftp://b.example/feed"),
            outline("https://c.example/rss"),
            '<outline text="a folder, no xmlUrl"/>',
        )
    )
    assert [(f.url, f.title) for f in feeds] == [
        ("https://a.example/feed", "A & B"),
        ("https://c.example/rss", None),
    ]
    assert refused == [("ftp://b.example/feed", "not an http(s) URL")]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<html><body>hi</body></html>", "the root element is <html>"),
        (b"not xml at all", "not an OPML file"),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x "y">]><opml/>',
            "declares a DOCTYPE",
        ),
    ],
)
def test_parse_refuses_what_is_not_opml(content: bytes, reason: str) -> None:
    with pytest.raises(OpmlError, match=reason):
        parse_opml(content)


def test_private_hosts_are_refused_unless_allowed() -> None:
    feeds, _ = parse_opml(
        opml(
            outline("http://127.0.0.1:8080/feed"),
            outline("http://localhost/feed"),
            outline("http://[::1]/feed"),
            outline("http://10.1.2.3/feed"),
            outline("https://public.example/feed"),
        )
    )
    kept, refused = refuse_private(feeds, allow_private=False)
    assert [f.url for f in kept] == ["https://public.example/feed"]
    assert len(refused) == 4
    assert {why for _, why in refused} == {"a private address (ALLOW_PRIVATE_FEEDS is off)"}
    kept, refused = refuse_private(feeds, allow_private=True)
    assert (len(kept), refused) == (5, [])


def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    database = tmp_path / "data" / "communique.sqlite3"
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_PATH", str(database))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("ALLOW_PRIVATE_FEEDS", raising=False)
    return database


def test_cli_import_of_2000_feeds_then_export(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = _environment(monkeypatch, tmp_path)
    source = tmp_path / "feeds.opml"
    source.write_bytes(
        opml(
            *(outline(f"https://feeds{n}.example/rss", f"Feed &lt;{n}&gt;") for n in range(2000)),
            outline("http://192.168.0.1/feed"),
            outline("mailto:someone@example.org"),
        )
    )

    started = time.perf_counter()
    assert main(["import-opml", str(source)]) == 0
    elapsed = time.perf_counter() - started
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "added 2000, already there 0, refused 2",
        "  refused mailto:someone@example.org: not an http(s) URL",
        "  refused http://192.168.0.1/feed: a private address (ALLOW_PRIVATE_FEEDS is off)",
    ]
    steps = err.split("\r")
    assert "importing: 200/2000" in steps
    assert steps[-1].strip() == "importing: 2000/2000"
    assert elapsed < 5.0, f"import of 2,000 feeds took {elapsed:.2f} s"

    async def stored() -> list[tuple[str, str]]:
        store = await Store.open(database)
        try:
            return [(f.url, f.title) for f in await store.list_feeds()]
        finally:
            await store.close()

    feeds = asyncio.run(stored())
    assert len(feeds) == 2000
    assert feeds[7] == ("https://feeds7.example/rss", "Feed <7>")

    # Importing the same file again changes nothing.
    assert main(["import-opml", str(source)]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[0] == "added 0, already there 2000, refused 2"

    assert main(["export-opml"]) == 0
    exported, _ = capsys.readouterr()
    again, refused = parse_opml(exported.encode())
    assert refused == []
    assert [(f.url, f.title) for f in again] == feeds
    assert 'text="Feed &lt;7&gt;"' in exported


def test_cli_import_refuses_a_bad_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _environment(monkeypatch, tmp_path)
    page = tmp_path / "page.html"
    page.write_bytes(b"<html><body>no</body></html>")
    assert main(["import-opml", str(page)]) == 2
    assert "not an OPML file: the root element is <html>" in capsys.readouterr().err
    assert main(["import-opml", str(tmp_path / "missing.opml")]) == 2
    assert "cannot read" in capsys.readouterr().err


async def test_admin_imports_an_opml_file_in_telegram(rig: Rig) -> None:
    rig.feeds.set("/known.xml", sample_feed(1))
    known = rig.feeds.url("/known.xml")
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {known}")
    content = opml(
        outline(known, "Known"),
        outline(rig.feeds.url("/new.xml"), "New &lt;one&gt;"),
        outline("https://other.example/feed"),
        outline("javascript:alert(1)"),
    )
    before = len(rig.api.messages(ADMIN))
    rig.api.send_document(ADMIN, ADMIN, "my feeds.opml", content, mime_type="text/x-opml")
    [summary] = (await rig.api.wait_for_messages(ADMIN, before + 1))[before:]
    assert (summary.plain_text or "").splitlines() == [
        "Imported my feeds.opml",
        "Added: 2; already there: 1; refused: 1.",
        "New: 2. New <one>, 3. https://other.example/feed.",
        "They are fetched on the next poll (/pollnow to do it now); what they hold now is "
        "stored, not pushed.",
        "Refused:",
        "• javascript:alert(1): not an http(s) URL",
    ]
    assert "New &lt;one&gt;" in (summary.text or "")
    assert [f.id for f in await rig.services.store.list_feeds()] == [1, 2, 3]


async def test_admin_gets_a_clear_answer_for_a_file_that_is_not_opml(rig: Rig) -> None:
    before = len(rig.api.messages(ADMIN))
    rig.api.send_document(ADMIN, ADMIN, "feed.xml", sample_feed(1), mime_type="text/xml")
    [answer] = (await rig.api.wait_for_messages(ADMIN, before + 1))[before:]
    assert answer.plain_text == (
        "Not imported: feed.xml: not an OPML file: the root element is <rss>. Nothing changed."
    )
    assert await rig.services.store.list_feeds() == []


async def test_exportopml_sends_the_list_as_a_file(rig: Rig) -> None:
    empty = await rig.reply_to(ADMIN, ADMIN, "/exportopml")
    assert empty.plain_text == "No feeds yet: nothing to export. Add one with /addfeed URL."
    rig.feeds.set("/a.xml", sample_feed(1))
    rig.feeds.set("/b.xml", sample_feed(2))
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/a.xml')}")
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/b.xml')} Ministry & Co")

    sent = await rig.reply_to(ADMIN, ADMIN, "/exportopml")
    assert sent.document is not None
    assert sent.document.file_name == "communique-feeds-2021-12-03.opml"
    assert sent.caption == "2 feed(s). Send this file back to the bot to import it."
    feeds, refused = parse_opml(sent.document.content)
    assert refused == []
    assert [(f.url, f.title) for f in feeds] == [
        (rig.feeds.url("/a.xml"), "Feed 1"),
        (rig.feeds.url("/b.xml"), "Ministry & Co"),
    ]
    assert render_opml(await rig.services.store.list_feeds()).encode() == sent.document.content


# --- web pages read as lists (issue 16) -------------------------------------------------


async def test_page_sources_go_out_as_html_outlines_and_come_back(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "out.sqlite3")
    try:
        await store.add_feed("https://embassy.example/rss", "Statements")
        await store.add_feed("https://embassy.example/news", "News", kind="page")
        words = "'item=.news-list li' title=h3"
        await store.add_feed(
            "https://mfa.example/press", "Press & co", kind="page", selectors=words
        )
        exported = render_opml(await store.list_feeds())
    finally:
        await store.close()

    assert (
        '<outline type="html" text="News" title="News" htmlUrl="https://embassy.example/news"/>'
        in exported
    )
    assert (
        '<outline type="html" text="Press &amp; co" title="Press &amp; co"'
        f' htmlUrl="https://mfa.example/press" selectors="{words}"/>' in exported
    )
    feeds, refused = parse_opml(exported.encode())
    assert refused == []
    assert [(f.url, f.kind, f.selectors) for f in feeds] == [
        ("https://embassy.example/rss", "feed", None),
        ("https://embassy.example/news", "page", None),
        ("https://mfa.example/press", "page", words),
    ]

    again = await Store.open(tmp_path / "in.sqlite3")
    try:
        result = await import_opml(again, exported.encode(), allow_private=False)
        assert [(f.kind, f.title, f.selectors) for f in result.added] == [
            ("feed", "Statements", None),
            ("page", "News", None),
            ("page", "Press & co", words),
        ]
        assert render_opml(await again.list_feeds()) == exported
    finally:
        await again.close()


def test_an_html_outline_with_bad_selectors_is_refused() -> None:
    content = opml(
        '<outline type="html" text="Bad" htmlUrl="https://a.example/news" selectors="item=li::x"/>',
        # A page's link beside a feed is the feed's site, not a page source.
        '<outline type="rss" text="Feed" xmlUrl="https://b.example/rss"'
        ' htmlUrl="https://b.example/"/>',
        # No type="html": an outline with only a page's address is no source.
        '<outline text="Site" htmlUrl="https://c.example/"/>',
    )
    feeds, refused = parse_opml(content)
    assert [(f.url, f.kind) for f in feeds] == [("https://b.example/rss", "feed")]
    [(url, why)] = refused
    assert url == "https://a.example/news"
    assert why.startswith("bad selectors: item=li::x is not a valid CSS selector")

"""Admins manage feeds from Telegram: /addfeed (refusals with the reason, backlog
stored and never pushed, duplicates named), /removefeed with its confirmation
button, /pausefeed, /resumefeed and /pollnow."""

from __future__ import annotations

from pathlib import Path

from tests.support.commands import press
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import sample_feed
from tests.support.rig import ADMIN, USER, Rig, start_rig, stop_rig


async def test_addfeed_reports_title_and_count_and_pushes_nothing(rig: Rig) -> None:
    rig.feeds.set("/one.xml", sample_feed(1, items=2))
    rig.feeds.set("/two.xml", sample_feed(2, items=7))
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/one.xml')}")
    await rig.reply_to(USER, USER, "/start")
    await rig.reply_to(USER, USER, "/subscribe all")
    before = len(rig.api.messages(USER))

    added = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/two.xml')}")
    text = added.plain_text or ""
    assert text.startswith("Added feed 2: Feed 2\n")
    assert "Stored 7 statement(s) already in it; none were pushed." in text
    assert await rig.services.store.feed_item_count(2) == 7

    # The subscriber follows the new feed too; neither its backlog nor a poll with
    # nothing new sends them anything.
    await rig.reply_to(USER, USER, "/subscribe 2")
    rig.clock.advance(seconds=600)
    await rig.run_job("poll")
    await rig.wait_delivered()
    assert len(rig.api.messages(USER)) == before + 1
    assert not await rig.services.store.outbox_rows_for_chat(USER)


async def test_addfeed_with_a_title_keeps_it(rig: Rig) -> None:
    rig.feeds.set("/feed.xml", sample_feed(3))
    added = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/feed.xml')} Embassy <UK>")
    assert (added.plain_text or "").startswith("Added feed 1: Embassy <UK>\n")
    assert "<b>Embassy &lt;UK&gt;</b>" in (added.text or "")


async def test_addfeed_says_when_the_url_is_already_there(rig: Rig) -> None:
    rig.feeds.set("/feed.xml", sample_feed(1))
    url = rig.feeds.url("/feed.xml")
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {url}")
    again = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {url}")
    assert again.plain_text == "That feed is already there: feed 1. Nothing changed."
    assert len(await rig.services.store.list_feeds()) == 1


async def test_addfeed_refuses_an_html_page_with_the_reason(rig: Rig) -> None:
    page = b"<!doctype html><html><head><title>Embassy</title></head><body>Hi</body></html>"
    rig.feeds.set("/index.html", page, content_type="text/html; charset=utf-8")
    answer = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/index.html')}")
    text = answer.plain_text or ""
    assert text.startswith("Not added: ")
    assert "HTML" in text or "web page" in text, text
    assert await rig.services.store.list_feeds() == []


async def test_addfeed_refuses_a_404_with_the_reason(rig: Rig) -> None:
    rig.feeds.set_status("/missing.xml", 404)
    url = rig.feeds.url("/missing.xml")
    answer = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {url}")
    text = answer.plain_text or ""
    assert text.startswith(f"Not added: could not fetch {url}: ")
    assert "404" in text
    assert await rig.services.store.list_feeds() == []


async def test_addfeed_usage_for_a_bad_argument(rig: Rig) -> None:
    reasons = {
        "/addfeed": "e.g. /addfeed https://example.org/feed.xml",
        "/addfeed ftp://example.org/feed": "the URL must start with http:// or https://",
        "/addfeed example.org": "the URL must start with http:// or https://",
        "/addfeed http://": "the URL has no host name",
        "/addfeed https://example.org:99999/feed": "it is not a valid URL",
        "/addfeed https://example.org/" + "x" * 2000: "the URL is too long",
    }
    for command, reason in reasons.items():
        answer = await rig.reply_to(ADMIN, ADMIN, command)
        assert (answer.plain_text or "").startswith("Usage: /addfeed URL [TITLE]"), command
        assert reason in (answer.plain_text or ""), command
    assert await rig.services.store.list_feeds() == []
    assert rig.feeds.requests == []  # refused before any fetch


async def test_one_feed_spelled_differently_is_the_same_feed(rig: Rig) -> None:
    """Upper-case scheme or host, the default port, `.` segments and a fragment name
    the URL the server already has: no second feed, no statement pushed twice."""
    rig.feeds.set("/a.xml", sample_feed(1))
    url = rig.feeds.url("/a.xml")
    first = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {url}")
    assert (first.plain_text or "").startswith("Added feed 1:")
    scheme, rest = url.split("://", 1)
    host, path = rest.split("/", 1)
    for spelling in (
        f"{scheme.upper()}://{host.upper()}/{path}",
        f"{url}#latest",
        f"{scheme}://{host}/./{path}",
        f"{scheme}://{host}/b/../{path}",
    ):
        again = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {spelling}")
        assert again.plain_text == "That feed is already there: feed 1. Nothing changed.", spelling
    assert [f.url for f in await rig.services.store.list_feeds()] == [url]
    # A feed stored before URLs were normalised is found by the spelling typed then.
    older = f"{scheme}://{host}/./{path}?old"
    await rig.services.store.add_feed(older)
    again = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {older}")
    assert again.plain_text == "That feed is already there: feed 2. Nothing changed."


async def test_addfeed_refuses_a_private_address_without_connecting(
    tmp_path: Path, fake_bot_api: FakeBotApi, feed_server: FeedServer
) -> None:
    looked_up: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return {"intranet.example": ["10.1.2.3"]}[host]

    rig = await start_rig(
        tmp_path,
        fake_bot_api,
        feed_server,
        env={"ALLOW_PRIVATE_FEEDS": "false"},
        resolver=resolver,
    )
    try:
        feed_server.set("/feed.xml", sample_feed(1))
        for url, shown in [
            ("http://intranet.example/feed.xml", "10.1.2.3"),
            (feed_server.url("/feed.xml"), "127.0.0.1"),
        ]:
            answer = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {url}")
            text = answer.plain_text or ""
            assert text.startswith("Not added: could not fetch"), text
            assert shown in text, text
        assert looked_up == ["intranet.example"]
        assert feed_server.requests == []
        assert await rig.services.store.list_feeds() == []
    finally:
        await stop_rig(rig)


async def test_removefeed_asks_first_and_keeps_statements_searchable(rig: Rig) -> None:
    rig.feeds.set("/feed.xml", sample_feed(4, items=3))
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/feed.xml')}")
    await rig.reply_to(USER, USER, "/subscribe all")

    ask = await rig.reply_to(ADMIN, ADMIN, "/removefeed 1")
    assert (ask.plain_text or "").startswith("Remove feed 1, Feed 4?")
    assert [b["callback_data"] for b in ask.buttons] == ["rf:y:1", "rf:n:1"]
    assert len(await rig.services.store.list_feeds()) == 1  # nothing yet

    await press(rig, ask, ADMIN, "rf:n:1")
    await rig.api.wait_for_call("editMessageText", 1)
    assert rig.api.message(ADMIN, ask.message_id).plain_text == "Feed 1 was kept."  # type: ignore[union-attr]
    assert len(await rig.services.store.list_feeds()) == 1

    ask = await rig.reply_to(ADMIN, ADMIN, "/removefeed 1")
    await press(rig, ask, ADMIN, "rf:y:1")
    await rig.api.wait_for_call("editMessageText", 2)
    edited = rig.api.message(ADMIN, ask.message_id)
    assert edited is not None
    assert edited.plain_text == "Feed 1 was removed. Its statements stay searchable."
    assert await rig.services.store.list_feeds() == []
    assert await rig.services.store.subscriptions(USER) == set()

    found = await rig.reply_to(USER, USER, "/search statement")
    assert "Statement 4-0" in (found.plain_text or "")

    assert edited.buttons == []  # the question cannot be answered twice
    gone = await rig.reply_to(ADMIN, ADMIN, "/removefeed 1")
    assert gone.plain_text == "There is no feed 1."


async def test_pause_resume_and_pollnow(rig: Rig) -> None:
    rig.feeds.set("/a.xml", sample_feed(1, items=1), etag='"a"')
    rig.feeds.set("/b.xml", sample_feed(2, items=1), etag='"b"')
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/a.xml')}")
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/b.xml')}")

    paused = await rig.reply_to(ADMIN, ADMIN, "/pausefeed 1")
    assert paused.plain_text == "Feed 1, Feed 1, is paused: it is not polled until /resumefeed."
    polled = await rig.reply_to(ADMIN, ADMIN, "/pollnow")
    assert polled.plain_text == (
        "Polled 1 feed(s): 0 changed, 1 unchanged, 0 failed; 0 new statement(s), 0 deliveries"
        " queued (one per chat and statement; more than 5 at once reach each chat as one"
        " digest)."
    )
    assert len(rig.feeds.requests_to("/a.xml")) == 1  # only /addfeed's fetch
    assert len(rig.feeds.requests_to("/b.xml")) == 2

    resumed = await rig.reply_to(ADMIN, ADMIN, "/resumefeed 1")
    assert resumed.plain_text == "Feed 1, Feed 1, is resumed: polled again."
    polled = await rig.reply_to(ADMIN, ADMIN, "/pollnow")
    assert (polled.plain_text or "").startswith("Polled 2 feed(s)")
    assert len(rig.feeds.requests_to("/a.xml")) == 2

    for command in ("/pausefeed", "/pausefeed x", "/resumefeed 1 2"):
        usage = await rig.reply_to(ADMIN, ADMIN, command)
        assert (usage.plain_text or "").startswith("Usage: /")
    missing = await rig.reply_to(ADMIN, ADMIN, "/pausefeed 9")
    assert missing.plain_text == "There is no feed 9."

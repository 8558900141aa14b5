"""Page sources polled for real (issue 16): the Poller with a real Store against the
local feed server. The same guarantees as feeds: conditional requests, the first
poll silent, a statement that drops off the list and comes back is no news, a list
that is gone is a failure that says so and alerts the admins (nothing deleted) until
it comes back; a list found elsewhere is judged before anything is pushed; an
imported address that is a web page becomes its feed or a page source."""

from __future__ import annotations

from pathlib import Path

import pytest

import jobs.page_poll
from jobs.page_list import NotAListError
from jobs.page_poll import ListVerdict, judge_list, list_not_found
from storage.models import Feed, NewFeed
from tests.support.feed_server import FeedServer
from tests.support.feeds import Entry, html_list, rss, statement, statements_of_the_seed
from tests.support.page_site import HTML, body_of, list_path, serve_list, serve_statement
from tests.support.polling import DAY, INTERVAL, PollEnv, poll_env
from tests.support.rig import ADMIN, Rig

SUBSCRIBER = 2002
ENTRIES = statements_of_the_seed(15)


async def add_page(env: PollEnv, entries: list[Entry] = ENTRIES[:5]) -> Feed:
    """A page source of `entries` (one page), added as /addfeed's Add button does,
    with a subscriber."""
    serve_list(env.server, entries)
    added = await env.poller.add_page(env.server.url("/news"))
    await env.store.upsert_chat(SUBSCRIBER, "private", "Uma")
    await env.store.subscribe(SUBSCRIBER, [added.feed.id])
    return added.feed


async def pushed_titles(env: PollEnv) -> list[str]:
    rows = await env.store.outbox_rows_for_chat(SUBSCRIBER)
    items = await env.store.items_by_ids(r.item_id for r in rows if r.item_id is not None)
    return [items[r.item_id].title for r in rows if r.item_id is not None]


# --------------------------------------------------------------- decisions, as tables


@pytest.mark.parametrize(
    ("first_poll", "previous", "signature", "stored", "verdict"),
    [
        # The first poll stores its backlog silently, wherever the list is.
        (True, None, "div.list > div.item", 0, ListVerdict(push=False, layout_changed=False)),
        (False, "div.list > div.item", "div.list > div.item", 5, ListVerdict(True, False)),
        # Nothing known yet (a page stored before detection was kept): news as usual.
        (False, None, "div.list > div.item", 0, ListVerdict(True, False)),
        # One more container of the same list (a new month) is no new layout.
        (False, "ul.month (×2) > li", "ul.month (×3) > li", 0, ListVerdict(True, False)),
        # The same statements in a new layout: its new ones are news.
        (False, "div.list > div.item", "tbody > tr.release", 4, ListVerdict(True, True)),
        # Another list altogether: stored silently (and the admins are told).
        (False, "div.list > div.item", "ul.popular > li", 0, ListVerdict(False, True)),
    ],
)
def test_judge_list(
    first_poll: bool, previous: str | None, signature: str, stored: int, verdict: ListVerdict
) -> None:
    assert (
        judge_list(
            first_poll=first_poll, previous=previous, signature=signature, already_stored=stored
        )
        == verdict
    )


@pytest.mark.parametrize(
    ("reason", "previous", "message"),
    [
        (
            "no list of statements found: the page is a login form (it asks for a password)",
            15,
            "the list of statements was not found: 0 items where there were 15;"
            " the page is a login form (it asks for a password)",
        ),
        (
            "no list of statements found: item=.news li matches nothing on the page",
            3,
            "the list of statements was not found: 0 items where there were 3;"
            " item=.news li matches nothing on the page",
        ),
        # Never found before: the reason alone.
        ("no list of statements found: x", None, "no list of statements found: x"),
        ("no list of statements found: x", 0, "no list of statements found: x"),
    ],
)
def test_list_not_found(reason: str, previous: int | None, message: str) -> None:
    assert list_not_found(NotAListError(reason), previous) == message


# ------------------------------------------------------------------- polling a page


async def test_the_list_page_is_polled_conditionally(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with poll_env(tmp_path, feed_server) as env:
        serve_list(feed_server, ENTRIES[:5], etag='"list-1"')
        page = (await env.poller.add_page(feed_server.url("/news"))).feed
        assert page.etag == '"list-1"'

        report = await env.poll_when_due(page)

        assert report.not_modified == 1
        last = feed_server.requests_to("/news")[-1]
        assert last.headers["If-None-Match"] == '"list-1"'
        assert [r.path for r in feed_server.requests] == ["/news", "/news"]


async def test_a_statement_that_drops_off_and_comes_back_is_not_news(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with poll_env(tmp_path, feed_server) as env:
        page = await add_page(env, ENTRIES[:5])
        serve_list(feed_server, ENTRIES[1:5])  # the newest drops off the list
        await env.poll_when_due(page)
        serve_list(feed_server, ENTRIES[:5])  # and comes back
        await env.poll_when_due(page)
        # A statement never seen, but much older than the newest stored, slides in.
        old = Entry("old", "Embassy comment from last year on the talks in Geneva", None)
        old = Entry(old.guid, old.title, ENTRIES[0].lead, ENTRIES[14].date)
        serve_list(feed_server, [*ENTRIES[:5], old], per_page=6)
        report = await env.poll_when_due(page)

        assert report.new_items == 1
        assert await pushed_titles(env) == []
        assert await env.store.feed_item_count(page.id) == 6
        assert not feed_server.requests_to("/statements/1"), "a known statement is not fetched"


async def test_a_list_that_is_gone_fails_alerts_keeps_everything_and_recovers(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with poll_env(tmp_path, feed_server) as env:
        page = await add_page(env, ENTRIES[:5])
        serve_list(feed_server, ENTRIES[:5], layout="none")  # a redesign without the list

        for _ in range(3):
            await env.poll_when_due(page)

        broken = await env.feed(page)
        assert broken.last_error == (
            "the list of statements was not found: 0 items where there were 5; no 3 or more"
            " repeated blocks link to pages of this site outside its navigation, header,"
            " footer and sidebars (left out: navigation (nav.main-menu): 4 links; the footer"
            " (footer.footer): 1 link)"
        )
        assert broken.consecutive_failures == 3
        assert (broken.detected_items, broken.detected_signature) == (
            5,
            "div.news-list > div.news-item",
        )
        # Backs off like any failure; alerts once, like a broken feed.
        assert await env.delay_of(page) > INTERVAL
        assert [(kind, feed) for kind, feed, _ in env.alerts] == [("feed_failing", page.id)]
        assert "0 items where there were 5" in env.alerts[0][2]
        assert await env.store.feed_item_count(page.id) == 5

        new = statements_of_the_seed(1, first=0)[0]
        serve_statement(feed_server, new)
        serve_list(feed_server, [new, *ENTRIES[:5]])
        await env.poll_when_due(page)

        back = await env.feed(page)
        assert (back.consecutive_failures, back.last_error) == (0, broken.last_error)
        assert env.alerts[-1][0] == "feed_recovered"
        assert await pushed_titles(env) == [new.title]


async def test_a_list_in_a_new_layout_goes_on_and_a_different_list_is_held_back(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with poll_env(tmp_path, feed_server) as env:
        page = await add_page(env, ENTRIES[1:6])
        # The same statements as a table, with one new: the new one is news.
        serve_list(feed_server, ENTRIES[0:6], layout="table")
        await env.poll_when_due(page)
        moved = await env.feed(page)
        assert moved.detected_signature == "tbody > tr.release"
        assert await pushed_titles(env) == [ENTRIES[0].title]
        assert env.alerts == []

        # A list that holds none of the stored statements: stored, not pushed, told.
        others = statements_of_the_seed(5, first=100)
        serve_list(feed_server, others)
        await env.poll_when_due(page)
        assert await pushed_titles(env) == [ENTRIES[0].title]
        assert await env.store.feed_item_count(page.id) == 6 + 5
        [(kind, feed_id, text)] = env.alerts
        assert (kind, feed_id) == ("page_layout_changed", page.id)
        assert "now div.news-list > div.news-item, 5 statement(s)" in text


async def test_new_statements_get_their_own_pages_text_within_limits(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs.page_poll, "MAX_BODIES", 2)
    async with poll_env(tmp_path, feed_server) as env:
        page = await add_page(env, ENTRIES[3:8])
        for entry in ENTRIES[:3]:
            serve_statement(feed_server, entry)
        serve_list(feed_server, ENTRIES[:8], per_page=8)
        await env.poll_when_due(page)

        fetched = [r.path for r in feed_server.requests if r.path.startswith("/statements/")]
        assert sorted(fetched) == ["/statements/1", "/statements/2"]  # two at most
        items = {i.title: i for i in await env.store.latest_items(10)}
        assert items[ENTRIES[0].title].summary == body_of(ENTRIES[0])[0]
        assert items[ENTRIES[1].title].content.startswith(body_of(ENTRIES[1])[0])
        assert items[ENTRIES[2].title].summary == ENTRIES[2].lead  # beyond the limit
        assert await pushed_titles(env) == [e.title for e in reversed(ENTRIES[:3])]


async def test_the_first_poll_reads_three_pages_at_most(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with poll_env(tmp_path, feed_server) as env:
        assert serve_list(feed_server, ENTRIES, per_page=4) == 4
        added = await env.poller.add_page(feed_server.url("/news"))
        assert (added.stored, added.pages) == (12, 3)
        assert not feed_server.requests_to(list_path(4))
        assert not feed_server.requests_to("/statements/1"), "the backlog keeps its leads"


# ------------------------------------------------------------ imported addresses


async def test_an_imported_page_becomes_its_feed_or_a_page_source_at_the_first_poll(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with poll_env(tmp_path, feed_server) as env:
        named = '<link rel="alternate" type="application/rss+xml" href="/site/feed.xml">'
        feed_server.set("/site", html_list(ENTRIES[:4], head=named), content_type=HTML)
        feed_server.set("/site/feed.xml", rss([statement(1), statement(2)]))
        serve_list(feed_server, ENTRIES[:8], per_page=4)
        feed_server.set("/empty", b"<html><body><p>Nothing here.</p></body></html>")
        added, _ = await env.store.add_feeds(
            [NewFeed(feed_server.url(path)) for path in ("/site", "/news", "/empty")]
        )

        await env.poll()

        site, news, empty = [await env.feed(f) for f in added]
        assert (site.kind, site.url) == ("feed", feed_server.url("/site/feed.xml"))
        assert await env.store.feed_item_count(site.id) == 2
        assert (news.kind, news.detected_items) == ("page", 4)
        assert await env.store.feed_item_count(news.id) == 8
        assert (empty.kind, empty.consecutive_failures) == ("feed", 1)
        assert empty.last_error is not None
        assert empty.last_error.startswith(
            "not a feed: the server sent an HTML page; the page names no feed (6 addresses"
            " tried), and no list of statements found:"
        )


# ------------------------------------------------------------------ what admins see


async def test_admins_hear_in_telegram_when_a_pages_list_is_gone_and_back(rig: Rig) -> None:
    serve_list(rig.feeds, ENTRIES[:5])
    await rig.services.poller.add_page(rig.feeds.url("/news"), "Embassy news")
    before = len(rig.api.messages(ADMIN))

    serve_list(rig.feeds, ENTRIES[:5], layout="none")
    for _ in range(4):
        rig.clock.advance(seconds=DAY + 60)  # past any backoff
        await rig.run_job("poll")
        await rig.wait_delivered()
    serve_list(rig.feeds, ENTRIES[:5])
    rig.clock.advance(seconds=DAY + 60)
    await rig.run_job("poll")
    await rig.wait_delivered()

    failing, recovered = rig.texts(ADMIN)[before:]
    assert failing.startswith(
        "⚠️ Feed failing\nfeed 1, Embassy news: failed 3 times in a row: the list of"
        " statements was not found: 0 items where there were 5; no 3 or more repeated"
        " blocks link to pages of this site"
    )
    assert recovered == "✅ Feed recovered\nfeed 1, Embassy news: works again"
    assert await rig.services.store.feed_item_count(1) == 5

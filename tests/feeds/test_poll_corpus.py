"""The feed corpus through the poll loop: every tricky or hostile feed served by the
local feed server next to a healthy one, polled together by the real Poller into a
real Store. Each good feed's statements come out clean; each bad feed fails alone,
with a status that says what went wrong; the healthy feed is polled fine throughout.

The parse-level expectations for the same files are in test_parse.py; here the
question is what the whole loop does with them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storage.models import Item
from tests.support.feed_server import FeedServer
from tests.support.feeds import PARSE_CORPUS, Entry, big_feed, rss
from tests.support.polling import INTERVAL, poll_env

RSS = "application/rss+xml"
HEALTHY = Entry("h1", "Healthy statement", "All is well.", "Wed, 01 Dec 2021 10:00:00 GMT")
HEALTHY_NEW = Entry("h2", "Another statement", "Still well.", "Fri, 03 Dec 2021 03:00:00 GMT")


@dataclass(frozen=True)
class Good:
    """A feed that must be stored: how many statements, and a check on them."""

    count: int
    check: Callable[[list[Item], str], None]


@dataclass(frozen=True)
class Bad:
    """A feed that must fail alone, with this in its status."""

    error: str


def titles_are(*expected: str) -> Callable[[list[Item], str], None]:
    def check(items: list[Item], base: str) -> None:
        assert sorted(i.title for i in items) == sorted(expected)

    return check


def check_relative(items: list[Item], base: str) -> None:
    links = {i.guid: i.link for i in items}
    assert links == {
        "r1": f"{base}/press/1.html",
        "r2": f"{base}/corpus/two.html",
        "r3": None,
        "12345": None,
    }


def check_script(items: list[Item], base: str) -> None:
    [item] = items
    assert item.content == "Before after.\n\nTail."


def check_cdata(items: list[Item], base: str) -> None:
    [item] = items
    assert item.summary == 'Talks ended & a "joint statement" was adopted.'


def check_big(items: list[Item], base: str) -> None:
    assert {i.title for i in items} >= {"Statement 0", "Statement 4999"}
    by_title = {i.title: i for i in items}
    assert by_title["Statement 4999"].link == f"{base}/s/4999"
    assert by_title["Statement 4999"].summary == "Text of statement 4999."


def check_laughs(items: list[Item], base: str) -> None:
    [item] = items
    assert item.title == "Laugh &lol9;"
    assert "lollol" not in item.content


# path on the feed server → (file or bytes, Content-Type, expectation)
CORPUS: dict[str, tuple[str | bytes, str, Good | Bad]] = {
    "rss091": ("rss091.xml", RSS, Good(1, titles_are("Notice on visas"))),
    "rss10": ("rss10_rdf.xml", RSS, Good(1, titles_are("Statement on the harbour"))),
    "rss20": ("rss20.xml", RSS, Good(1, titles_are("New rules on fees"))),
    "atom_text": (
        "atom_text.xml",
        "application/atom+xml",
        Good(1, titles_are("Pay & conditions: 5 < 6 <b>literally</b>")),
    ),
    "atom_html": (
        "atom_html.xml",
        "application/atom+xml",
        Good(1, titles_are("Budget & spending")),
    ),
    "atom_xhtml": ("atom_xhtml.xml", "application/atom+xml", Good(1, lambda i, b: None)),
    "no_guid": ("no_guid.xml", RSS, Good(1, titles_are("First"))),
    "no_guid_no_link": ("no_guid_no_link.xml", RSS, Good(2, lambda i, b: None)),
    "duplicate_guids": ("duplicate_guids.xml", RSS, Good(2, titles_are("Original", "Other"))),
    "relative_links": ("relative_links.xml", RSS, Good(4, check_relative)),
    "cdata": ("cdata.xml", RSS, Good(1, check_cdata)),
    "wrong_charset": (
        "wrong_charset.xml",
        "application/rss+xml; charset=utf-8",
        Good(1, titles_are("Заявление МИД России")),
    ),
    "windows1251": ("windows1251.xml", RSS, Good(1, titles_are("Заявление МИД России"))),
    "entity_titles": (
        "entity_titles.xml",
        RSS,
        Good(2, titles_are('Minister’s visit & talks — update "now"', "AT&T & partners")),
    ),
    "script": ("script_description.xml", RSS, Good(1, check_script)),
    "big": (big_feed(5000), RSS, Good(5000, check_big)),
    "empty_channel": ("empty_channel.xml", RSS, Good(0, lambda i, b: None)),
    "truncated": ("truncated.xml", RSS, Good(1, titles_are("Complete item"))),
    "billion_laughs": ("billion_laughs.xml", RSS, Good(1, check_laughs)),
    "html_page": (
        "html_page.html",
        "text/html; charset=utf-8",
        Bad("not a feed: the server sent an HTML page"),
    ),
    "truncated_early": ("truncated_early.xml", RSS, Bad("truncated")),
    "empty_body": (b"", RSS, Bad("not a feed: the body is empty")),
    "binary": (bytes(range(256)) * 8, "application/octet-stream", Bad("not a feed")),
}
FETCH_TIMEOUT = 1.0
# Served specially (see below); what their status must say.
HOSTILE = {
    "gzip_bomb": "response is larger than the limit of",
    "never_finishes": f"timed out after {FETCH_TIMEOUT:g} s",
    "redirect_loop": "redirect loop at",
    "not_found": "HTTP 404 Not Found",
}


async def test_the_corpus_polled_next_to_a_healthy_feed(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    started = time.perf_counter()
    base = f"http://127.0.0.1:{feed_server.port}"
    for name, (source, content_type, _) in CORPUS.items():
        body = (PARSE_CORPUS / source).read_bytes() if isinstance(source, str) else source
        feed_server.set(f"/corpus/{name}", body, content_type=content_type)
    feed_server.set_gzip_bomb("/corpus/gzip_bomb")
    feed_server.set_never_finishes("/corpus/never_finishes")
    feed_server.set_redirect("/corpus/redirect_loop", "/corpus/loop_b", 302)
    feed_server.set_redirect("/corpus/loop_b", "/corpus/redirect_loop", 301)
    feed_server.set("/healthy.xml", rss([HEALTHY]), etag='"h1"')

    async with poll_env(tmp_path, feed_server, fetch_timeout=FETCH_TIMEOUT) as env:
        healthy = await env.add_feed("/healthy.xml")
        ids = {name: (await env.add_feed(f"/corpus/{name}")).id for name in [*CORPUS, *HOSTILE]}
        subscriber = 2002
        await env.store.upsert_chat(subscriber, "private", "Uma")
        await env.store.subscribe(subscriber, [healthy.id])

        first = await env.poll()
        bad = [n for n, (_, _, e) in CORPUS.items() if isinstance(e, Bad)] + list(HOSTILE)
        assert first.polled == len(CORPUS) + len(HOSTILE) + 1
        assert first.failed == len(bad)
        assert first.changed == first.polled - len(bad)

        for name, (_, _, expected) in CORPUS.items():
            feed = await env.store.get_feed(ids[name])
            if isinstance(expected, Good):
                assert feed.last_error is None, (name, feed.last_error)
                assert feed.consecutive_failures == 0 and feed.last_success_at is not None
                items = await env.store.latest_items(6000, feed_id=feed.id)
                assert len(items) == expected.count, name
                expected.check(items, base)
            else:
                assert feed.consecutive_failures == 1, name
                assert feed.last_error is not None and expected.error in feed.last_error, (
                    name,
                    feed.last_error,
                )
                assert await env.store.feed_item_count(feed.id) == 0
        for name, error in HOSTILE.items():
            feed = await env.store.get_feed(ids[name])
            assert feed.consecutive_failures == 1, name
            assert feed.last_error is not None and error in feed.last_error, (
                name,
                feed.last_error,
            )
            assert not feed.paused
        assert await env.store.feed_item_count(healthy.id) == 1

        # Next interval: the healthy feed has news and it is pushed; the broken feeds
        # fail again, alone, and back off.
        feed_server.set("/healthy.xml", rss([HEALTHY_NEW, HEALTHY]), etag='"h2"')
        env.clock.advance(seconds=2 * INTERVAL)
        second = await env.poll()
        assert second.new_items == 1 and second.queued == 1
        assert second.failed == len(bad)
        assert len(await env.store.outbox_rows_for_chat(subscriber)) == 1
        assert (await env.store.get_feed(ids["gzip_bomb"])).consecutive_failures == 2
        assert (await env.store.get_feed(healthy.id)).last_error is None
    assert time.perf_counter() - started < 10

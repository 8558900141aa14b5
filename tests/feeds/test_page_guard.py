"""The address guard on everything a page source fetches (issue 16): its statements'
own pages (and their redirects), the feeds a page names, its next pages. A public
site is played by an httpx MockTransport and names are resolved by a fake resolver,
as in test_netguard: a refused address is refused before any request, and conftest
fails the test if anything tried to leave loopback."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from jobs.poll import Poller
from jobs.sources import PageFound
from storage.store import Store
from tests.support.feeds import Entry, html_list, statement_page, statements_of_the_seed
from tests.support.page_site import body_of
from tests.support.rig import FakeClock

PUBLIC = "93.184.216.34"  # only ever reported by the fake resolver, never dialled
NAMES = {
    "news.example": [PUBLIC],
    "intranet.news.example": ["10.1.2.3"],  # the same site, on a private network
    "feeds.example": ["192.168.0.7"],
}


# What a path answers: (status, headers, body); a new Response is made for each request.
Answer = tuple[int, dict[str, str], bytes]


class Site:
    """The public site: answers from a table of paths, records every request."""

    def __init__(self, pages: dict[str, Answer]) -> None:
        self.pages = pages
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        assert request.url.host == "news.example", f"a request left the site: {request.url}"
        status, headers, body = self.pages.get(request.url.path, (404, {}, b""))
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))


async def resolve(host: str, port: int) -> list[str]:
    if host not in NAMES:
        raise AssertionError(f"the guard resolved an unexpected name: {host}")
    return NAMES[host]


def html(body: bytes) -> Answer:
    return 200, {"content-type": "text/html"}, body


@asynccontextmanager
async def guarded_poller(tmp_path: Path, site: Site) -> AsyncIterator[tuple[Poller, Store]]:
    store = await Store.open(tmp_path / "guard.sqlite3", clock=FakeClock())
    client = httpx.AsyncClient(transport=httpx.MockTransport(site))
    poller = Poller(
        store,
        client,
        poll_interval=300,
        allow_private=False,
        clock=FakeClock(),
        resolver=resolve,
        rng=random.Random(1),
    )
    try:
        yield poller, store
    finally:
        poller.close()
        await client.aclose()
        await store.close()


async def test_statement_links_and_their_redirects_are_guarded(tmp_path: Path) -> None:
    known = statements_of_the_seed(5, first=4)
    fresh = statements_of_the_seed(3)
    links = {
        "1": "/statements/1",  # a public page of the site
        "2": "http://intranet.news.example/statements/2",  # the site's, but private
        "3": "/statements/3",  # redirects to this machine
    }
    fresh = [Entry(e.guid, e.title, e.lead, e.date, link=links[e.guid or ""]) for e in fresh]
    site = Site({"/news": html(html_list(known))})
    async with guarded_poller(tmp_path, site) as (poller, store):
        added = await poller.add_page("http://news.example/news")
        site.pages["/news"] = html(html_list([*fresh, *known]))
        site.pages["/statements/1"] = html(statement_page(fresh[0].title or "", body_of(fresh[0])))
        site.pages["/statements/3"] = (302, {"location": "http://127.0.0.1:9/secret"}, b"")
        await poller.poll_feed(await store.get_feed(added.feed.id))

        items = {item.link: item for item in await store.latest_items(10)}
    # The two public statement pages were asked for (at once, so in either order).
    assert site.requests[:2] == ["http://news.example/news"] * 2
    assert sorted(site.requests[2:]) == [
        "http://news.example/statements/1",
        "http://news.example/statements/3",
    ]
    assert items["http://news.example/statements/1"].summary == body_of(fresh[0])[0]
    # Refused before any request: each keeps the list's lead.
    assert items["http://intranet.news.example/statements/2"].summary == fresh[1].lead
    assert items["http://news.example/statements/3"].summary == fresh[2].lead


async def test_feeds_a_page_names_are_guarded(tmp_path: Path) -> None:
    named = "".join(
        f'<link rel="alternate" type="application/rss+xml" href="{href}">'
        for href in (
            "http://10.0.0.1/feed.xml",
            "http://127.0.0.1:9/feed.xml",
            "http://feeds.example/rss",
        )
    )
    site = Site({"/news": html(html_list(statements_of_the_seed(5), head=named))})
    async with guarded_poller(tmp_path, site) as (poller, store):
        found = await poller.find_source("http://news.example/news")
        assert await store.list_feeds() == []
    # None of the three was requested; the site's own usual feed paths were (404).
    assert isinstance(found, PageFound)
    assert found.feeds_tried == 3 + 6
    assert site.requests[0] == "http://news.example/news"
    assert all(url.startswith("http://news.example/") for url in site.requests)
    assert len(site.requests) == 1 + 6


async def test_a_next_page_on_another_site_is_not_read(tmp_path: Path) -> None:
    page = html_list(statements_of_the_seed(5), next_page="http://elsewhere.example/news/2")
    site = Site({"/news": html(page)})
    async with guarded_poller(tmp_path, site) as (poller, _store):
        added = await poller.add_page("http://news.example/news")
    assert (added.stored, added.pages) == (5, 1)
    assert site.requests == ["http://news.example/news"]

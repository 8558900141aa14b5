"""What the store keeps of a source that is a web page (issue 16): its kind and
selectors, its language, what reading it last found; a source added as a feed that
turns out to be a page (or to name its feed) at its first poll."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.errors import FeedExistsError
from storage.models import Detection, NewFeed, NewItem
from storage.store import Store
from tests.support.rig import FakeClock

NOW = datetime(2021, 12, 3, 4, 30, tzinfo=UTC)


async def open_store(tmp_path: Path) -> Store:
    return await Store.open(tmp_path / "pages.sqlite3", clock=FakeClock(NOW))


async def test_a_page_source_keeps_its_kind_selectors_and_what_was_found(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        page = await store.add_feed(
            "https://embassy.example/news", "News", kind="page", selectors="item=li"
        )
        assert (page.kind, page.is_page, page.selectors) == ("page", True, "item=li")
        assert (page.language, page.detected_signature, page.detected_items) == (None,) * 3

        await store.record_poll(
            page.id,
            [],
            feed_title="Embassy news",
            etag=None,
            last_modified=None,
            content_hash="h",
            next_poll_at=NOW,
            language="en-GB",
            detection=Detection("item=li", 12),
        )
        # A poll that says nothing of them keeps what was found before.
        await store.record_poll(
            page.id,
            [],
            feed_title=None,
            etag=None,
            last_modified=None,
            content_hash="h",
            next_poll_at=NOW,
        )
        page = await store.get_feed(page.id)
        assert (page.language, page.detected_signature, page.detected_items) == (
            "en-GB",
            "item=li",
            12,
        )
        assert page.title == "News"  # the admin's name stays
    finally:
        await store.close()


async def test_removed_and_added_again_as_the_other_kind(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        feed = await store.add_feed("https://embassy.example/news")
        await store.remove_feed(feed.id)
        again = await store.add_feed("https://embassy.example/news", kind="page")
        assert (again.id, again.kind) == (feed.id, "page")
    finally:
        await store.close()


async def test_add_feeds_takes_pages_and_pairs(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        added, existing = await store.add_feeds(
            [
                ("https://a.example/feed", "A"),
                NewFeed("https://b.example/news", "B", "page", "item=.news"),
                NewFeed("https://a.example/feed"),
            ]
        )
        assert [(f.url, f.kind, f.selectors) for f in added] == [
            ("https://a.example/feed", "feed", None),
            ("https://b.example/news", "page", "item=.news"),
        ]
        assert existing == [("https://a.example/feed", added[0].id)]
    finally:
        await store.close()


async def test_a_source_becomes_its_feed_or_a_page(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        taken = await store.add_feed("https://a.example/feed.xml")
        site = await store.add_feed("https://a.example/")
        with pytest.raises(FeedExistsError) as exc:
            await store.set_feed_url(site.id, taken.url)
        assert exc.value.feed_id == taken.id
        moved = await store.set_feed_url(site.id, "https://a.example/rss")
        assert (moved.url, moved.kind) == ("https://a.example/rss", "feed")

        other = await store.add_feed("https://b.example/")
        page = await store.set_page_source(other.id)
        assert (page.url, page.kind, page.etag, page.content_hash) == (
            "https://b.example/",
            "page",
            None,
            None,
        )
    finally:
        await store.close()


async def test_stored_identities_says_which_are_known(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    try:
        page = await store.add_feed("https://embassy.example/news", kind="page")
        item = NewItem("a", None, "https://embassy.example/news/1", "One", "", "", None)
        await store.record_poll(
            page.id,
            [item],
            feed_title=None,
            etag=None,
            last_modified=None,
            content_hash=None,
            next_poll_at=NOW,
        )
        assert await store.stored_identities(page.id, ["a", "b"]) == {"a"}
        other = await store.add_feed("https://embassy.example/other", kind="page")
        assert await store.stored_identities(other.id, ["a"]) == set()
    finally:
        await store.close()

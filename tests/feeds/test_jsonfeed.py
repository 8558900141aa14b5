"""JSON Feed 1.0 and 1.1 through parse_feed, by the same rules as RSS and Atom."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobs.jsonfeed import looks_like_json_feed, parse_json_feed
from jobs.parse import NotAFeedError, entry_identity, parse_feed

DATA = Path(__file__).parent.parent / "data" / "jsonfeed"
URL = "https://embassy.example/en/feed.json"
V11 = "https://jsonfeed.org/version/1.1"


def parse(body: bytes | dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    content = json.dumps(body).encode() if isinstance(body, dict) else body
    return parse_feed(content, url=URL, headers=headers or {})


def test_json_feed_1_1_gives_the_same_shape_as_rss() -> None:
    feed = parse((DATA / "feed_1_1.json").read_bytes(), {"Content-Type": "application/feed+json"})
    assert feed.title == "Embassy statements"
    assert feed.link == "https://embassy.example/en/"
    assert feed.ttl_seconds is None
    assert feed.whole
    first, second, third = feed.entries
    assert first.guid == "https://embassy.example/en/news/7102"
    assert first.identity == entry_identity(first.guid, None, "", None, "")  # guid decides
    assert first.link == "https://embassy.example/en/news/7102"
    assert first.published_at == datetime(2021, 12, 3, 7, 0, tzinfo=UTC)
    # content_html is fuller than the summary; the lead skips the photo's caption.
    assert first.content.startswith("The consular section\n\nThe Embassy has received")
    assert first.summary.startswith("The Embassy has received a number of enquiries")
    # JSON Feed 1.1: a numeric id is read as a string; relative URLs resolve.
    assert second.guid == "7101"
    assert second.link == "https://embassy.example/en/news/7101"
    assert second.published_at == datetime(2021, 12, 1, 9, 0, tzinfo=UTC)  # date_modified
    assert second.content.split("\n\n")[1] == "The organisers claim to lead the world."
    # No id: the url is the identity; no title: the first words stand in.
    assert third.guid is None
    link = "https://embassy.example/en/news/7100"
    assert third.identity == entry_identity(None, link, "", "", "")
    assert third.title.startswith("The Russian Foreign Ministry has always proceeded")
    assert third.title.endswith("…")
    # The duplicate id "7101" (the same as the number 7101) is left out.
    assert len(feed.entries) == 3


def test_json_feed_1_0_and_a_date_that_is_no_date() -> None:
    feed = parse((DATA / "feed_1_0.json").read_bytes())
    assert feed.title == "Ministry notices"
    notice, moved = feed.entries
    assert notice.title == "Notice on visas"
    assert notice.summary == "Visa offices are closed on Monday."
    assert notice.published_at == datetime(2021, 12, 3, 7, 30, tzinfo=UTC)
    assert moved.published_at is None
    assert moved.content.startswith("The consular section moves to a new building from Monday.")


def test_identity_falls_back_to_the_text_without_id_or_url() -> None:
    feed = parse({"version": V11, "items": [{"title": "T", "content_text": "Body."}]})
    [entry] = feed.entries
    assert entry.identity == entry_identity(None, None, "T", None, "Body.")


def test_unchanged_entries_are_skipped_with_the_digests_of_the_last_parse() -> None:
    body = (DATA / "feed_1_1.json").read_bytes()
    first = parse_json_feed(body, url=URL, headers={})
    again = parse_json_feed(body, url=URL, headers={}, known=first.digests)
    assert again.entries == [] and again.unchanged == 3
    changed = json.loads(body)
    changed["items"][0]["title"] = "Corrected title"
    after = parse_json_feed(json.dumps(changed).encode(), url=URL, headers={}, known=first.digests)
    assert [e.title for e in after.entries] == ["Corrected title"]


def test_rss_still_goes_to_feedparser_and_json_by_its_body_or_type() -> None:
    rss = b'<?xml version="1.0"?><rss version="2.0"><channel><title>R</title></channel></rss>'
    assert not looks_like_json_feed(rss, {"content-type": "application/json"})
    assert parse(rss, {"Content-Type": "application/json"}).title == "R"
    assert looks_like_json_feed(b'\xef\xbb\xbf  {"version": 1}', {})
    assert looks_like_json_feed(b"[]", {"content-type": "application/feed+json"})
    assert not looks_like_json_feed(b"", {"content-type": "application/json"})
    with_bom = b"\xef\xbb\xbf" + json.dumps({"version": V11, "title": "B", "items": []}).encode()
    assert parse(with_bom).title == "B"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "malformed JSON"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [}', "malformed JSON"),
        (b"{}", "without a JSON Feed version"),
        (b'{"version": "https://jsonfeed.org/version/2"}', "without a JSON Feed version"),
        (b'{"version": 1.1, "items": []}', "without a JSON Feed version"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', "no title and no items"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": "x"}', "no title"),
        (b"[1, 2]", "not a feed"),
        (b"[" * 100_000 + b"]" * 100_000, "not a feed"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
        (b'{"version": "' + b"9" * 10_000 + b'"}', "without a JSON Feed version"),
        (b'{"version": 1e999999}', "not a feed"),
        (b'{"n": ' + b"9" * 50_000 + b"}", "malformed JSON"),  # past int's digit limit
        (b"{\xff\xfe}", "malformed JSON"),
    ],
)
def test_hostile_or_broken_json_is_a_clear_not_a_feed(body: bytes, reason: str) -> None:
    with pytest.raises(NotAFeedError, match=reason):
        parse(body, {"Content-Type": "application/feed+json"})


@pytest.mark.parametrize(
    "item",
    [
        {"id": {"nested": True}, "url": 5, "title": ["x"], "content_html": 7},
        {"id": True, "title": None, "content_text": {"a": 1}, "date_published": 2021},
        {"id": 1.5, "url": "javascript:alert(1)", "title": "T", "date_published": "2021-02-30"},
        {"url": "http://[::1", "summary": "S"},
        {},
    ],
)
def test_wrong_types_in_an_item_are_ignored_not_crashed_on(item: dict[str, Any]) -> None:
    feed = parse({"version": V11, "title": "T", "items": [item, "a string", 5, None]})
    for entry in feed.entries:
        assert entry.link is None or entry.link.startswith("http")
        assert isinstance(entry.title, str)
        assert entry.published_at is None


def test_a_big_feed_is_parsed_whole() -> None:
    items = [
        {"id": f"n{i}", "title": f"Statement {i}", "content_text": "Lead. " * 50}
        for i in range(5000)
    ]
    feed = parse({"version": V11, "title": "Big", "items": items})
    assert len(feed.entries) == 5000

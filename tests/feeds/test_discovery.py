"""The feeds a page advertises, and where else a site's feed usually is."""

from __future__ import annotations

from jobs.discovery import AdvertisedFeed, advertised_feeds, well_known_feed_urls
from tests.feeds.pages import URLS, page


def test_advertised_feeds_in_page_order_with_titles_and_absolute_urls() -> None:
    feeds = advertised_feeds(page("with_feeds.html"), url=URLS["with_feeds.html"], headers={})
    assert feeds == [
        AdvertisedFeed(
            "https://embassy.example/en/rss", "Embassy statements", "rss", "application/rss+xml"
        ),
        AdvertisedFeed(
            "https://feeds.embassy.example/atom.xml",
            "Embassy statements (Atom)",
            "atom",
            "application/atom+xml",
        ),
        AdvertisedFeed(
            "https://embassy.example/en/feed.json", "JSON Feed", "json", "application/feed+json"
        ),
        # Plain JSON last (it may be an API); WordPress's /wp-json/ is no feed at all.
        AdvertisedFeed(
            "https://embassy.example/en/statements.json",
            "Statements (JSON)",
            "json",
            "application/json",
        ),
    ]


def test_a_page_without_feeds_or_no_page_at_all_advertises_nothing() -> None:
    assert advertised_feeds(page("seed_home.html"), url=URLS["seed_home.html"], headers={}) == []
    assert advertised_feeds(b"", url="https://x.example/", headers={}) == []
    assert advertised_feeds(b"\x00\x01binary", url="https://x.example/", headers={}) == []


def test_well_known_paths_on_the_pages_own_site_in_order() -> None:
    assert well_known_feed_urls("HTTPS://Embassy.example:443/en/news?page=2#top") == [
        "https://embassy.example/feed",
        "https://embassy.example/rss",
        "https://embassy.example/rss.xml",
        "https://embassy.example/atom.xml",
        "https://embassy.example/index.xml",
        "https://embassy.example/feed.json",
    ]
    assert well_known_feed_urls("http://127.0.0.1:8080/news")[0] == "http://127.0.0.1:8080/feed"


def test_the_page_itself_is_not_tried_again_and_other_schemes_give_nothing() -> None:
    assert "https://x.example/rss" not in well_known_feed_urls("https://x.example/rss")
    assert len(well_known_feed_urls("https://x.example/rss")) == 5
    assert well_known_feed_urls("ftp://x.example/") == []
    assert well_known_feed_urls("not a url") == []

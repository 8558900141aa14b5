"""One spelling for one feed URL: what is the same feed, and what is no feed URL."""

from __future__ import annotations

import pytest

from jobs.urls import normalise_feed_url


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("HTTPS://Example.org:443/./feed#top", "https://example.org/feed"),
        ("http://a.example", "http://a.example/"),
        ("http://a.example:80/x/../y/./z?q=1#f", "http://a.example/y/z?q=1"),
        ("  https://a.example:8443/feed  ", "https://a.example:8443/feed"),
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
        ("http://user:pw@A.example/p", "http://user:pw@a.example/p"),
        # httpx will not read octal hosts; kept as typed for the address guard to judge.
        ("http://0177.0.0.1:8080/feed#x", "http://0177.0.0.1:8080/feed"),
    ],
)
def test_one_spelling(typed: str, stored: str) -> None:
    assert normalise_feed_url(typed) == stored
    assert normalise_feed_url(stored) == stored


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("ftp://a.example/feed", "must start with http:// or https://"),
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("http:///feed", "no host name"),
        ("http://a.example:99999/", "not a valid URL"),
        ("http://[::1/", "not a valid URL"),
    ],
)
def test_what_is_no_feed_url(typed: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalise_feed_url(typed)

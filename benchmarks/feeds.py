"""Realistic generated RSS: statements with titles, HTML leads and bodies made of
the seed page's words, for the ingest and memory benchmarks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from benchmarks.common import TextMaker

EPOCH = datetime(2021, 12, 3, 7, 30, tzinfo=UTC)


def rss(feed: int, first: int, count: int, text: TextMaker) -> bytes:
    """Feed `feed` holding statements first .. first+count-1, newest first."""
    entries = []
    for n in reversed(range(first, first + count)):
        # The same statement always has the same words, whichever version it is in.
        text.rng.seed(feed * 100_003 + n)
        title, lead = text.title(), text.lead()
        body = text.body(lead)
        published = format_datetime(EPOCH + timedelta(hours=n), usegmt=True)
        html = f"<p><strong>{escape(lead)}</strong></p><p>{escape(body)}</p>"
        entries.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>https://mid.example.org/feeds/{feed}/statements/{n}</link>"
            f'<guid isPermaLink="false">feed-{feed}-statement-{n}</guid>'
            f"<pubDate>{published}</pubDate>"
            f"<description>{escape(html)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0"><channel>'
        f"<title>Ministry {feed}: statements</title>"
        f"<link>https://mid.example.org/feeds/{feed}</link>"
        "<description>Press releases and statements</description><language>en</language>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()

"""The tests' feed builders (tests/support/feeds.py) make what the real parser reads:
the same entries as RSS 2.0 or as Atom come out as the same statements, and text
with markup characters arrives as the text it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobs.parse import parse_feed
from tests.support.feeds import SITE, Entry, atom, numbered, rss, statement

ENTRIES = [
    statement(2, day=2),
    Entry(
        "odd",
        "Pay & conditions: 5 < 6",
        "<p>First &amp; only paragraph.</p>",
        datetime(2021, 12, 1, 8, 15, tzinfo=UTC),
        link="https://ministry.example/odd",
    ),
    *numbered(2),
]


@pytest.mark.parametrize("build", [rss, atom])
def test_rss_and_atom_give_the_same_statements(build: object) -> None:
    assert callable(build)
    parsed = parse_feed(build(ENTRIES, title="Ministry <news>"), url=f"{SITE}/f", headers={})
    assert parsed.title == "Ministry <news>"
    assert [e.guid for e in parsed.entries] == ["s2", "odd", "n1", "n2"]
    odd = parsed.entries[1]
    assert odd.title == "Pay & conditions: 5 < 6"
    assert odd.summary == "First & only paragraph."
    assert odd.link == "https://ministry.example/odd"
    assert odd.published_at == datetime(2021, 12, 1, 8, 15, tzinfo=UTC)
    assert parsed.entries[0].link == f"{SITE}/statements/s2"
    assert parsed.entries[0].published_at == datetime(2021, 12, 2, 10, 0, tzinfo=UTC)
    assert parsed.entries[2].summary == "Lead of statement 1."


def test_a_field_left_none_is_left_out() -> None:
    body = rss([Entry("bare", link="")], link="")
    assert b"<item><guid>bare</guid></item>" in body
    assert b"<link>" not in body

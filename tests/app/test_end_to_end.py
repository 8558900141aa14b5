"""The whole path, for real: /addfeed → backlog stored, nothing pushed → /start and
/subscribe all → the feed gains a statement → the next poll pushes exactly one
message → /latest lists it. The real Application long-polls the fake Bot API over
HTTP and fetches the feed from the local feed server."""

from __future__ import annotations

import logging

import pytest

from tests.support.feeds import Entry, rss
from tests.support.rig import ADMIN, USER, Rig

OLD = [
    Entry("s1", "Statement on the summit", "The summit was held.", "Wed, 01 Dec 2021 10:00:00 GMT"),
    Entry(
        "s2",
        "Comment on the inquiry",
        "The inquiry was announced.",
        "Thu, 02 Dec 2021 10:00:00 GMT",
    ),
]
NEW = Entry(
    "s3",
    "Sanctions & <counter-measures>",
    "<p>The Ministry responded today. Further steps will follow.</p>",
    "Fri, 03 Dec 2021 03:00:00 GMT",
)


async def test_one_statement_end_to_end(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rig.feeds.set("/feed.xml", rss(OLD), etag='"v1"')
    url = rig.feeds.url("/feed.xml")

    added = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {url}")
    assert "Added feed 1" in (added.plain_text or "")
    assert "Embassy statements" in (added.plain_text or "")
    assert "Stored 2 statement(s)" in (added.plain_text or "")

    welcome = await rig.reply_to(USER, USER, "/start")
    assert "Communique" in (welcome.plain_text or "")
    assert [b["callback_data"] for b in welcome.buttons] == ["f:s:1"]
    subscribed = await rig.reply_to(USER, USER, "/subscribe all")
    assert "Subscribed to Embassy statements" in (subscribed.plain_text or "")

    # The backlog was stored, not pushed: a poll with nothing new sends nothing.
    rig.clock.advance(seconds=600)
    await rig.run_job("poll")
    await rig.wait_delivered()
    assert len(rig.feeds.requests_to("/feed.xml")) == 2
    assert len(rig.api.messages(USER)) == 2

    rig.feeds.set("/feed.xml", rss([NEW, *OLD]), etag='"v2"')
    rig.clock.advance(seconds=600)
    await rig.run_job("poll")
    await rig.wait_delivered()

    pushed = rig.api.messages(USER)[2:]
    assert len(pushed) == 1, [m.plain_text for m in pushed]
    message = pushed[0]
    assert message.parse_mode == "HTML"
    assert message.plain_text == (
        "Sanctions & <counter-measures>\n"
        "3 December 2021 · Embassy statements\n\n"
        "The Ministry responded today. Further steps will follow.\n\n"
        "Read the statement\n"
        # The feed gave nothing beyond this text: no "Full text" button, a note instead.
        "ℹ️ The source gave only this summary."
    )
    assert message.buttons == []
    assert "<b>Sanctions &amp; &lt;counter-measures&gt;</b>" in (message.text or "")
    assert 'href="https://embassy.example/statements/s3"' in (message.text or "")
    assert (message.link_preview_options or {}).get("is_disabled") is True

    # A third poll (feed unchanged: 304) pushes nothing more.
    rig.clock.advance(seconds=600)
    await rig.run_job("poll")
    await rig.wait_delivered()
    assert len(rig.api.messages(USER)) == 3
    assert len(rig.feeds.requests_to("/feed.xml")) == 4
    assert rig.feeds.requests_to("/feed.xml")[-1].headers.get("If-None-Match") == '"v2"'

    latest = await rig.reply_to(USER, USER, "/latest")
    lines = (latest.plain_text or "").splitlines()
    assert lines[0] == "Latest statements"
    assert lines[2] == "1. 3 December 2021 · Embassy statements · summary only"
    assert lines[3] == "Sanctions & <counter-measures>"
    assert "Comment on the inquiry" in (latest.plain_text or "")

    # The token never reaches a log line, at any level.
    assert caplog.records, "the run logged nothing at DEBUG: the check would prove nothing"
    assert any("getUpdates" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert rig.fake.token not in record.getMessage()
        assert rig.fake.token.split(":", 1)[1] not in record.getMessage()
    assert rig.fake.token not in caplog.text

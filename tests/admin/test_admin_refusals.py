"""Every admin command, sent by someone not in ADMIN_IDS, is refused and changes
nothing: one case per command, plus an OPML file and the admin buttons."""

from __future__ import annotations

import pytest

from tests.support.feeds import sample_feed
from tests.support.rig import ADMIN, USER, Rig

REFUSAL = "Sorry, only the bot's admins can do that."

OPML = (
    b'<?xml version="1.0"?><opml version="2.0"><body>'
    b'<outline text="New" xmlUrl="https://example.org/new.xml"/></body></opml>'
)


async def _snapshot(rig: Rig) -> tuple[object, ...]:
    """Everything an admin command could change."""
    store = rig.services.store
    return (
        await store.list_feeds(),
        await store.list_counters(),
        await store.list_channels(),
        await store.subscriptions(-1001234567890),
        await store.count_items(),
        await store.stats(),
    )


@pytest.fixture
async def seeded(rig: Rig) -> Rig:
    """One feed with statements, one counter and a channel the bot may post in."""
    rig.feeds.set("/feed.xml", sample_feed(1, items=3))
    added = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/feed.xml')}")
    assert "Added feed 1" in (added.plain_text or "")
    counter = await rig.reply_to(ADMIN, ADMIN, "/addcounter 2018-03-04 {days} days since")
    assert "Added counter 1" in (counter.plain_text or "")
    rig.api.add_chat(-1001234567890, "channel", title="News", username="newschan")
    return rig


COMMANDS = [
    "/addfeed https://example.org/other.xml",
    "/removefeed 1",
    "/pausefeed 1",
    "/resumefeed 1",
    "/feedstatus",
    "/pollnow",
    "/addcounter 2020-01-01 {days} days",
    "/countertext 1 ru прошло {days} {день|дня|дней}",
    "/removecounter 1",
    "/stats",
    "/addchannel @newschan all",
    "/removechannel @newschan",
    "/exportopml",
    "/settings @newschan time 08:00",
]


@pytest.mark.parametrize("command", COMMANDS, ids=[c.split()[0] for c in COMMANDS])
async def test_non_admin_is_refused(seeded: Rig, command: str) -> None:
    rig = seeded
    before = await _snapshot(rig)
    requests = len(rig.feeds.requests)
    answer = await rig.reply_to(USER, USER, command)
    assert answer.plain_text == REFUSAL
    # Nothing was sent but the refusal, nothing fetched, nothing stored.
    await rig.wait_delivered()
    assert [m.plain_text for m in rig.api.messages(USER)][-1] == REFUSAL
    assert not any(m.document for m in rig.api.messages(USER))
    assert len(rig.feeds.requests) == requests
    assert not rig.api.calls_to("getChatMember")
    assert await _snapshot(rig) == before


async def test_non_admin_opml_upload_is_refused(seeded: Rig) -> None:
    rig = seeded
    before = await _snapshot(rig)
    rig.api.send_document(USER, USER, "feeds.opml", OPML, mime_type="text/x-opml")
    await rig.api.wait_for_messages(USER, 1)
    assert [m.plain_text for m in rig.api.messages(USER) if m.from_bot] == [REFUSAL]
    # The file was not even downloaded.
    assert not rig.api.calls_to("getFile")
    assert await _snapshot(rig) == before


@pytest.mark.parametrize("data", ["rf:y:1", "fs:1"])
async def test_non_admin_admin_buttons_are_refused(seeded: Rig, data: str) -> None:
    rig = seeded
    # A modified client can send any callback data on any of the bot's messages.
    sent = await rig.reply_to(USER, USER, "/feeds")
    before = await _snapshot(rig)
    answered = len(rig.api.calls_to("answerCallbackQuery"))
    rig.api.press_button(USER, USER, sent.message_id, data, forge=True)
    await rig.api.wait_for_call("answerCallbackQuery", answered + 1)
    answer = rig.api.calls_to("answerCallbackQuery")[-1]
    assert answer.params.get("text") == REFUSAL
    assert await _snapshot(rig) == before

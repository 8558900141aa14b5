"""Corrections: a statement whose title or summary changes within 48 hours of its push
is corrected in the messages already sent, edited in place and marked "Updated";
later changes only update the archive. A change racing the send is caught too."""

from __future__ import annotations

from datetime import UTC, datetime

from emulator import Delay
from storage.models import NewItem
from tests.support.commands import text
from tests.support.delivery import outbox
from tests.support.feeds import Entry
from tests.support.rig import ADMIN, OTHER, USER, Rig, add_feed, publish, subscribe

OLD = Entry("old", "Backlog", "Stored when the feed was added.", datetime(2021, 11, 1, tzinfo=UTC))
FIRST = Entry(
    "new", "Statement on visas", "The first wording.", datetime(2021, 12, 2, 10, tzinfo=UTC)
)


def reworded(title: str = "Statement on visas", lead: str = "The first wording.") -> Entry:
    return Entry(FIRST.guid, title, lead, FIRST.date)


async def pushed(rig: Rig) -> int:
    feed = await add_feed(rig, OLD)
    await subscribe(rig, feed, [USER, OTHER])
    await publish(rig, OLD, FIRST)
    await rig.wait_delivered()
    return feed


async def test_a_changed_summary_edits_the_messages_sent(rig: Rig) -> None:
    await pushed(rig)
    before = {chat: rig.api.messages(chat)[-1] for chat in (USER, OTHER)}
    assert (before[USER].plain_text or "").startswith("Statement on visas")

    await publish(rig, OLD, reworded(lead="The corrected wording."))
    await rig.wait_delivered()
    for chat in (USER, OTHER):
        message = rig.api.message(chat, before[chat].message_id)
        assert message is not None
        lines = (message.plain_text or "").split("\n")
        assert lines[:2] == ["✏️ Updated", "Statement on visas"]
        assert "The corrected wording." in lines
        assert message.edits, "edited in place, not sent again"
        assert rig.api.messages(chat)[-1].message_id == before[chat].message_id
    assert len(rig.api.calls_to("editMessageText")) == 2


async def test_a_changed_title_is_corrected_and_the_text_alone_is_not(rig: Rig) -> None:
    await pushed(rig)
    await publish(
        rig, OLD, Entry(FIRST.guid, "Statement on visas, revised", FIRST.lead, FIRST.date)
    )
    await rig.wait_delivered()
    assert rig.texts(USER)[-1].split("\n")[:2] == ["✏️ Updated", "Statement on visas, revised"]
    edits = len(rig.api.calls_to("editMessageText"))
    # Same title and summary, a different full text: the archive changes, no edit.
    changed_body = Entry(
        FIRST.guid,
        "Statement on visas, revised",
        FIRST.lead,
        FIRST.date,
        extra="<content:encoded xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
        "<![CDATA[<p>The first wording.</p><p>And a long appendix nobody sees in a push.</p>"
        "]]></content:encoded>",
    )
    await publish(rig, OLD, changed_body)
    await rig.wait_delivered()
    assert len(rig.api.calls_to("editMessageText")) == edits


async def test_after_48_hours_only_the_archive_changes(rig: Rig) -> None:
    await pushed(rig)
    rig.clock.advance(hours=49)
    await publish(rig, OLD, reworded(title="Statement on visas (archived wording)"))
    await rig.wait_delivered()
    assert rig.api.calls_to("editMessageText") == []
    assert rig.texts(USER)[-1].startswith("Statement on visas\n")
    latest = text(await rig.reply_to(USER, USER, "/latest 1"))
    assert "Statement on visas (archived wording)" in latest


async def test_a_message_deleted_in_the_chat_is_not_an_error(rig: Rig) -> None:
    await pushed(rig)
    rig.api.delete_message(USER, rig.api.messages(USER)[-1].message_id)
    await publish(rig, OLD, reworded(lead="Reworded after the reader deleted it."))
    await rig.wait_delivered()
    edits = [r for r in outbox(rig) if r.item_id is None and r.chat_id == USER]
    assert [r.state for r in edits] == ["cancelled"]
    assert "gone" in (edits[0].last_error or "")
    stats = text(await rig.reply_to(ADMIN, ADMIN, "/stats"))
    assert "0 failed" in stats


async def test_a_correction_racing_the_send_still_reaches_the_message(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    await subscribe(rig, feed, [USER])
    # Telegram takes its time answering the push: the statement changes meanwhile.
    rig.api.inject(Delay(1.0), chat_id=USER)
    await publish(rig, OLD, FIRST)
    await rig.api.wait_for(lambda: bool(rig.api.calls_to("sendMessage")), timeout=5)
    await publish(rig, OLD, reworded(lead="Corrected while the push was on its way."))
    await rig.wait_delivered(10)
    message = rig.api.messages(USER)[-1]
    assert (message.plain_text or "").split("\n")[:2] == ["✏️ Updated", "Statement on visas"]
    assert "Corrected while the push was on its way." in (message.plain_text or "")
    assert len(rig.api.messages(USER)) == 1  # one message, edited, not two


async def test_corrections_are_paced_like_sends(rig: Rig) -> None:
    await pushed(rig)
    await publish(rig, OLD, reworded(lead="Another wording."))
    await rig.wait_delivered()
    # Each edit went through the outbox like a push (claimed, paced, marked sent),
    # one per message, so a crash or a 429 treats it as it treats a push.
    edits = [r for r in outbox(rig) if r.item_id is None]
    assert [(r.chat_id, r.state) for r in edits] == [(USER, "sent"), (OTHER, "sent")]
    assert all(r.message_id is not None for r in edits)


async def test_a_new_summariser_is_no_correction(rig: Rig) -> None:
    """After an upgrade the summariser may word a stored statement's summary anew: the
    source did not change, so the messages sent stay as they are (the archive follows)."""
    await pushed(rig)
    store = rig.services.store
    [item] = await store.latest_items(1)
    resummarised = NewItem(
        identity=item.identity,
        guid=item.guid,
        link=item.link,
        title=item.title,
        summary="A summary worded by a newer summariser.",
        content=item.content,
        published_at=item.published_at,
    )
    feed = await store.get_feed(item.feed_id)
    await store.record_poll(
        feed.id,
        [resummarised],
        feed_title=feed.title,
        etag=None,
        last_modified=None,
        content_hash=None,
        next_poll_at=rig.clock.now,
    )
    await rig.wait_delivered()
    assert rig.api.calls_to("editMessageText") == []
    [stored] = await store.latest_items(1)
    assert stored.summary == "A summary worded by a newer summariser."

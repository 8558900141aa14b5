"""Forum topics: in a supergroup with topics, /subscribe, /filter, /alert and /settings
sent inside a topic apply to that topic, whose pushes go there; a deleted topic is
handled like a chat that went away, and the rest of the group carries on."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.commands import check_output
from tests.support.delivery import outbox
from tests.support.feeds import Entry
from tests.support.rig import OTHER, USER, Rig, add_feed, publish

FORUM = -1009001
OLD = Entry("old", "Backlog", "Stored when the feed was added.", datetime(2021, 11, 1, tzinfo=UTC))
NEW = Entry(
    "n1", "On the Salisbury case", "A new statement.", datetime(2021, 12, 2, 10, tzinfo=UTC)
)
OTHER_NEW = Entry("n2", "On visas", "Another one.", datetime(2021, 12, 2, 11, tzinfo=UTC))


def forum(rig: Rig) -> tuple[int, int]:
    """A forum where OTHER is an admin, with two topics; returns their thread ids."""
    rig.api.add_chat(
        FORUM, "supergroup", title="Newsroom", admins=[OTHER], members=[USER], is_forum=True
    )
    return rig.api.create_topic(FORUM, "Statements"), rig.api.create_topic(FORUM, "Chat")


async def say_in(rig: Rig, thread: int, user: int, words: str) -> str:
    before = len(rig.api.messages(FORUM))
    rig.api.send_text(FORUM, user, words, thread_id=thread)
    reply = (await rig.api.wait_for_messages(FORUM, before + 1))[-1]
    assert reply.thread_id == thread, "the bot answers in the topic it was asked in"
    return reply.plain_text or ""


async def test_a_topic_subscribes_and_gets_its_pushes_in_the_topic(rig: Rig) -> None:
    statements, chat_topic = forum(rig)
    feed = await add_feed(rig, OLD)
    answer = await say_in(rig, statements, OTHER, f"/subscribe {feed}")
    assert answer.startswith("Subscribed to Embassy statements.")
    # The group itself (General) and the other topic follow nothing.
    assert await rig.services.store.subscriptions(FORUM) == set()

    await publish(rig, OLD, NEW)
    await rig.wait_delivered()
    pushes = [
        m for m in rig.api.messages(FORUM) if m.from_bot and "Salisbury" in (m.plain_text or "")
    ]
    assert [m.thread_id for m in pushes] == [statements]

    # A filter set in the other topic is that topic's own.
    refused = await say_in(rig, chat_topic, OTHER, f"/filter {feed} visas")
    assert refused.startswith(f"This chat does not follow feed {feed}")
    await check_output(rig)


async def test_settings_and_alerts_in_a_topic_are_the_topics_own(rig: Rig) -> None:
    statements, chat_topic = forum(rig)
    await say_in(rig, statements, OTHER, "/settings time 07:00")
    await say_in(rig, chat_topic, OTHER, "/alert visas")
    shown = await say_in(rig, statements, OTHER, "/settings")
    assert "Time: 07:00" in shown
    other = await say_in(rig, chat_topic, OTHER, "/settings")
    assert "Time: 09:00" in other
    assert (await say_in(rig, statements, USER, "/alerts")).startswith("This chat has no alerts")
    assert (await say_in(rig, chat_topic, USER, "/alerts")).startswith("Alerts (1 of at most 20)")
    # Only the group's admins change a topic's settings, as the group's.
    refused = await say_in(rig, statements, USER, "/alert salisbury")
    assert refused == "Only the group's admins can change this group's subscriptions and settings."

    feed = await add_feed(rig, OLD)
    await publish(rig, OLD, NEW, OTHER_NEW)
    await rig.wait_delivered()
    alerted = [m for m in rig.api.messages(FORUM) if "🔔" in (m.plain_text or "")]
    assert [(m.thread_id, (m.plain_text or "").split("\n")[1]) for m in alerted] == [
        (chat_topic, "On visas")
    ]
    assert feed


async def test_a_deleted_topic_is_a_subscriber_that_went_away(rig: Rig) -> None:
    statements, chat_topic = forum(rig)
    feed = await add_feed(rig, OLD)
    await say_in(rig, statements, OTHER, f"/subscribe {feed}")
    await say_in(rig, chat_topic, OTHER, f"/subscribe {feed}")
    rig.api.delete_topic(FORUM, statements)

    await publish(rig, OLD, NEW)
    await rig.wait_delivered()
    store = rig.services.store
    topics = [c for c in [await store.find_chat(r.chat_id) for r in outbox(rig)] if c]
    states = {c.thread_id: (c.active, c.inactive_reason) for c in topics}
    assert states[statements] == (False, "topic deleted")
    assert states[chat_topic] == (True, None)
    pushes = [
        m for m in rig.api.messages(FORUM) if m.from_bot and "Salisbury" in (m.plain_text or "")
    ]
    assert [m.thread_id for m in pushes] == [chat_topic]
    group = await store.find_chat(FORUM)
    assert group is not None and group.active

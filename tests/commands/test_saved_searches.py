"""Filters and alerts, end to end: the commands a chat uses, and what it then gets.

A statement reaches a chat through its subscription (narrowed by a filter, if the
chat set one) and through any alert that matches, but only ever once."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.commands import (
    add_group,
    check_output,
    data_of,
    press,
    text,
)
from tests.support.delivery import outbox
from tests.support.feeds import Entry
from tests.support.rig import ADMIN, OTHER, USER, Rig, add_feed, publish, subscribe

OLD = Entry(
    "old", "An old statement", "Before anyone subscribed.", datetime(2021, 11, 1, tzinfo=UTC)
)


def entry(guid: str, title: str, lead: str, day: int = 2) -> Entry:
    return Entry(guid, title, lead, datetime(2021, 12, day, 10, tzinfo=UTC))


SANCTIONS = entry("a", "New sanctions announced", "The ministry comments on sanctions.")
CONSULAR = entry("b", "Consular sanctions notice", "Visa rules under the sanctions.")
SALISBURY = entry("c", "On the Salisbury case", "No credible information was given.")


async def test_a_filter_narrows_a_subscription_and_exclusions_work(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    await subscribe(rig, feed, [USER, OTHER])
    answer = text(await rig.reply_to(USER, USER, f"/filter {feed} sanctions -consular"))
    assert answer.startswith(
        f"Filter set on feed {feed}, Embassy statements: «sanctions -consular»"
    )

    await publish(rig, OLD, SANCTIONS, CONSULAR, SALISBURY)
    await rig.wait_delivered()

    # The filtered chat gets only what matches; the other chat gets everything.
    assert [t.split("\n")[0] for t in rig.texts(USER)[-1:]] == ["New sanctions announced"]
    assert sum("Consular sanctions notice" in t for t in rig.texts(USER)) == 0
    assert (
        sum(
            t.startswith(("New sanctions", "Consular", "On the Salisbury"))
            for t in rig.texts(OTHER)
        )
        == 3
    )

    shown = text(await rig.reply_to(USER, USER, f"/filter {feed}"))
    assert "«sanctions -consular»" in shown
    feeds = text(await rig.reply_to(USER, USER, "/feeds"))
    assert f"{feed}. Embassy statements — ✅ subscribed, filter «sanctions -consular»" in feeds
    await check_output(rig)


async def test_a_filter_of_exclusions_only_means_everything_but(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    await subscribe(rig, feed, [USER])
    await rig.reply_to(USER, USER, f"/filter {feed} -consular")
    await publish(rig, OLD, SANCTIONS, CONSULAR)
    await rig.wait_delivered()
    pushed = [t.split("\n")[0] for t in rig.texts(USER) if not t.startswith("Filter")]
    assert pushed == ["New sanctions announced"]


async def test_unfilter_brings_everything_back(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    await subscribe(rig, feed, [USER])
    await rig.reply_to(USER, USER, f"/filter {feed} salisbury")
    answer = text(await rig.reply_to(USER, USER, f"/unfilter {feed}"))
    assert answer == f"Filter removed: every new statement of feed {feed} arrives again."
    again = text(await rig.reply_to(USER, USER, f"/unfilter {feed}"))
    assert again == f"There is no filter on feed {feed} here. Nothing changed."
    await publish(rig, OLD, SANCTIONS)
    await rig.wait_delivered()
    assert rig.texts(USER)[-1].startswith("New sanctions announced")


async def test_filter_refusals_change_nothing(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    store = rig.services.store
    not_followed = text(await rig.reply_to(USER, USER, f"/filter {feed} sanctions"))
    assert not_followed.startswith(f"This chat does not follow feed {feed}")
    assert not_followed.endswith("Nothing changed.")
    await subscribe(rig, feed, [USER])
    for bad, reason in [
        (f"/filter {feed} s*", "put at least two letters before the *"),
        (f"/filter {feed} " + "word " * 21, "too many"),
        (f"/filter {feed} " + "x" * 201, "too long"),
        (f'/filter {feed} "" ***', "nothing to search for"),
    ]:
        answer = text(await rig.reply_to(USER, USER, bad))
        assert answer.startswith("I can't filter on that:"), answer
        assert reason in answer, (bad, answer)
        assert "Usage: /filter FEED_ID QUERY" in answer
    assert text(await rig.reply_to(USER, USER, "/filter 99 sanctions")) == (
        "There is no feed 99. /feeds lists them."
    )
    assert text(await rig.reply_to(USER, USER, "/filter")).startswith("Usage: /filter FEED_ID")
    assert await store.get_filter(USER, feed) is None
    await check_output(rig)


async def test_an_alert_brings_matches_from_any_feed_and_names_itself(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    await subscribe(rig, feed, [OTHER])
    saved = text(await rig.reply_to(USER, USER, "/alert Salisbury"))
    assert saved.startswith("Alert 1 saved: «Salisbury».")

    await publish(rig, OLD, SANCTIONS, SALISBURY)
    await rig.wait_delivered()
    push = rig.texts(USER)[-1]
    # USER follows nothing: only the match arrives, and says which alert brought it.
    assert push.split("\n")[:2] == ["🔔 Alert: «Salisbury»", "On the Salisbury case"]
    assert not any("New sanctions" in t for t in rig.texts(USER))
    await check_output(rig)


async def test_subscription_and_alerts_together_push_once(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    await subscribe(rig, feed, [USER])
    await rig.reply_to(USER, USER, "/alert salisbury")
    await rig.reply_to(USER, USER, '/alert "Salisbury case"')
    await rig.reply_to(USER, USER, f"/filter {feed} sanctions")  # the alert still brings it
    await publish(rig, OLD, SANCTIONS, SALISBURY)
    await rig.wait_delivered()

    rows = [r for r in outbox(rig) if r.chat_id == USER and r.item_id is not None]
    assert len(rows) == len({r.item_id for r in rows}) == 2  # once per statement
    pushed = [t for t in rig.texts(USER) if t.startswith(("🔔", "On the Salisbury case"))]
    assert len(pushed) == 1 and pushed[0].startswith("🔔 Alert: «salisbury»")
    # In publication order: the sanctions statement (day 2, first in the feed) first.
    order = [t.split("\n")[0] for t in rig.texts(USER)[-2:]]
    assert order == ["New sanctions announced", "🔔 Alert: «salisbury»"]


async def test_alerts_list_with_remove_buttons(rig: Rig) -> None:
    await rig.reply_to(USER, USER, "/alert salisbury")
    await rig.reply_to(USER, USER, "/alert sanctions -consular")
    listing = await rig.reply_to(USER, USER, "/alerts")
    assert text(listing).split("\n")[:3] == [
        "Alerts (2 of at most 20)",
        "1. «salisbury»",
        "2. «sanctions -consular»",
    ]
    assert data_of(listing) == ["al:rm:1", "al:rm:2"]
    assert await press(rig, listing, USER, "al:rm:1") == "Alert 1 removed"
    remaining = rig.api.message(USER, listing.message_id)
    assert remaining is not None
    assert "1. «salisbury»" not in (remaining.plain_text or "")
    assert data_of(remaining) == ["al:rm:2"]
    assert [a.id for a in await rig.services.store.chat_alerts(USER)] == [2]
    removed = text(await rig.reply_to(USER, USER, "/unalert 2"))
    assert removed == "Alert 2 removed: «sanctions -consular»."
    empty = text(await rig.reply_to(USER, USER, "/alerts"))
    assert empty.startswith("This chat has no alerts.")
    await check_output(rig)


async def test_alert_refusals_change_nothing(rig: Rig) -> None:
    await rig.reply_to(USER, USER, "/alert Salisbury")
    duplicate = text(await rig.reply_to(USER, USER, "/alert   SALISBURY"))
    assert duplicate == "This chat already has that alert: alert 1. Nothing changed."
    assert text(await rig.reply_to(USER, USER, "/unalert 7")) == (
        "This chat has no alert 7. /alerts lists them."
    )
    # Another chat's alert is not this chat's to remove.
    assert text(await rig.reply_to(OTHER, OTHER, "/unalert 1")).startswith(
        "This chat has no alert 1"
    )
    only_exclusions = text(await rig.reply_to(USER, USER, "/alert -consular"))
    assert only_exclusions.startswith("An alert needs at least one word to look for")
    bad = text(await rig.reply_to(USER, USER, "/alert s*"))
    assert bad.startswith("I can't watch for that:") and "Usage: /alert QUERY" in bad
    for n in range(2, 21):
        assert text(await rig.reply_to(USER, USER, f"/alert word{n}")).startswith(
            f"Alert {n} saved"
        )
    refused = text(await rig.reply_to(USER, USER, "/alert one more"))
    assert refused.startswith("This chat already has 20 alerts, the most it can have.")
    assert len(await rig.services.store.chat_alerts(USER)) == 20
    assert len(await rig.services.store.chat_alerts(OTHER)) == 0
    await check_output(rig)


async def test_only_group_admins_change_a_groups_saved_searches(rig: Rig) -> None:
    group = add_group(rig)
    feed = await add_feed(rig, OLD)
    await rig.services.store.upsert_chat(group, "supergroup", "Group")
    await rig.services.store.subscribe(group, [feed])
    store = rig.services.store
    for command in (f"/filter {feed} sanctions", "/alert salisbury", "/unalert 1"):
        answer = text(await rig.reply_to(group, USER, command))
        assert (
            answer == "Only the group's admins can change this group's subscriptions and settings."
        )
    assert await store.chat_alerts(group) == [] and await store.get_filter(group, feed) is None
    # Anyone may look.
    assert text(await rig.reply_to(group, USER, "/alerts")).startswith("This chat has no alerts")
    answer = text(await rig.reply_to(group, OTHER, "/alert salisbury"))
    assert answer.startswith("Alert 1 saved")


async def test_stats_counts_saved_searches(rig: Rig) -> None:
    feed = await add_feed(rig, OLD)
    await subscribe(rig, feed, [USER])
    await rig.reply_to(USER, USER, f"/filter {feed} sanctions")
    await rig.reply_to(USER, USER, "/alert salisbury")
    await rig.reply_to(OTHER, OTHER, "/alert visas")
    stats = text(await rig.reply_to(ADMIN, ADMIN, "/stats"))
    assert "Saved searches: 2 alert(s), 1 filter(s)" in stats

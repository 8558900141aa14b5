"""The store's promises about statements and chats: new means new (each statement
stored once, pushed once, in the same transaction as its outbox rows), a feed's
backlog and old statements are not news, an edited statement keeps its identity,
and a chat that moves to a new id takes everything with it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.api import StoreAPI as Store
from storage.api import open_store as open_any
from storage.models import NewItem
from storage.store import DIGEST_THRESHOLD, PollOutcome
from tests.support.rig import FakeClock
from tests.support.stores import Opener, execute, failing, sql

START = datetime(2021, 12, 3, 4, 30, tzinfo=UTC)


def entry(key: str, *, title: str | None = None, age: timedelta = timedelta(0)) -> NewItem:
    return NewItem(
        identity=f"identity-{key}",
        guid=f"guid-{key}",
        link=f"https://mfa.example/{key}",
        title=title if title is not None else f"Statement {key}",
        summary=f"Lead of statement {key}",
        content=f"Full text of statement {key}",
        published_at=START - age,
    )


async def poll(store: Store, feed_id: int, entries: list[NewItem]) -> PollOutcome:
    return await store.record_poll(
        feed_id,
        entries,
        feed_title="Ministry",
        etag=None,
        last_modified=None,
        content_hash=None,
        next_poll_at=store.now() + timedelta(minutes=5),
    )


async def outbox(store: Store) -> list[tuple[int, int | None, str]]:
    rows = await sql(store, "SELECT chat_id, item_id, state FROM outbox ORDER BY id")
    return [(r[0], r[1], r[2]) for r in rows]


async def item_count(store: Store) -> int:
    return await store.count_items()


@pytest.fixture
async def store(open_store: Opener) -> AsyncIterator[Store]:
    yield await open_store(clock=FakeClock(START))


async def _feed_past_backlog(store: Store, chats: tuple[int, ...] = (2002, 3003)) -> int:
    """A feed that has had its first poll, with subscribed chats."""
    feed = await store.add_feed("https://mfa.example/rss")
    backlog = await poll(store, feed.id, [entry("old", age=timedelta(hours=1))])
    assert backlog.backlog
    for chat_id in chats:
        await store.upsert_chat(chat_id, "private", f"chat {chat_id}")
        await store.subscribe(chat_id, [feed.id])
    return feed.id


# ------------------------------------------------------------------ new means new


async def test_storing_returns_only_new_statements_with_their_outbox_rows(store: Store) -> None:
    feed_id = await _feed_past_backlog(store)
    first = await poll(store, feed_id, [entry("old"), entry("a"), entry("b")])
    assert [i.identity for i in first.new_items] == ["identity-a", "identity-b"]
    assert first.pushed_items == first.new_items
    assert first.outbox_rows == 4
    ids = {i.identity: i.id for i in first.new_items}
    assert sorted(await outbox(store)) == sorted(
        (chat, ids[key], "pending") for chat in (2002, 3003) for key in ("identity-a", "identity-b")
    )
    assert store.outbox_changed.is_set()

    again = await poll(store, feed_id, [entry("a"), entry("b"), entry("old")])
    assert again.new_items == [] and again.outbox_rows == 0
    assert await item_count(store) == 3
    assert len(await outbox(store)) == 4


async def test_an_inactive_or_unsubscribed_chat_gets_no_rows(store: Store) -> None:
    feed_id = await _feed_past_backlog(store, chats=(2002, 3003, 4004))
    await store.deactivate_chat(3003, "blocked")
    await store.unsubscribe(4004, [feed_id])
    outcome = await poll(store, feed_id, [entry("a")])
    assert outcome.outbox_rows == 1
    assert [chat for chat, _, _ in await outbox(store)] == [2002]


async def test_the_items_and_their_outbox_rows_commit_together(store: Store) -> None:
    feed_id = await _feed_past_backlog(store)
    # The outbox insert fails half-way (a trigger stands in for a full disk).
    async with failing(store, "AFTER INSERT", "outbox", "new.chat_id = 3003") as error:
        with pytest.raises(error):
            await poll(store, feed_id, [entry("a"), entry("b")])
    assert await item_count(store) == 1
    assert await outbox(store) == []
    # The next poll sees them as new, so nothing is lost.
    outcome = await poll(store, feed_id, [entry("a"), entry("b")])
    assert len(outcome.new_items) == 2 and outcome.outbox_rows == 4


async def test_a_feeds_first_poll_stores_its_backlog_and_pushes_nothing(store: Store) -> None:
    feed = await store.add_feed("https://mfa.example/rss")
    await store.upsert_chat(2002, "private", "User")
    await store.subscribe(2002, [feed.id])
    first = await poll(store, feed.id, [entry("a"), entry("b"), entry("c")])
    assert first.backlog
    assert len(first.new_items) == 3 and first.pushed_items == [] and first.outbox_rows == 0
    assert await outbox(store) == []
    second = await poll(store, feed.id, [entry("a"), entry("d")])
    assert not second.backlog
    assert [i.identity for i in second.pushed_items] == ["identity-d"]
    assert second.outbox_rows == 1


async def test_an_old_statement_sliding_back_in_is_stored_but_not_pushed(store: Store) -> None:
    feed_id = await _feed_past_backlog(store)
    outcome = await poll(
        store,
        feed_id,
        [
            entry("ancient", age=timedelta(days=7, hours=2)),
            entry("last-week", age=timedelta(days=6, hours=23)),
        ],
    )
    assert {i.identity for i in outcome.new_items} == {"identity-ancient", "identity-last-week"}
    assert [i.identity for i in outcome.pushed_items] == ["identity-last-week"]
    assert outcome.outbox_rows == 2
    assert [h.item.identity for h in await store.search("ancient")] == ["identity-ancient"]


async def test_a_future_date_counts_as_now_and_does_not_hold_back_real_news(
    store: Store,
) -> None:
    """A typo in the year (2022 for 2021) must not make every real statement after it
    look a year too old to push, nor sit on top of /latest for a year."""
    feed_id = await _feed_past_backlog(store)
    typo = entry("typo", age=-timedelta(days=364))
    outcome = await poll(store, feed_id, [typo])
    assert outcome.outbox_rows == 2
    assert outcome.new_items[0].published_at == START
    clock = store._clock
    assert isinstance(clock, FakeClock)
    clock.now = START + timedelta(days=2)
    outcome = await poll(store, feed_id, [typo, entry("real", age=-timedelta(days=1))])
    assert [i.identity for i in outcome.pushed_items] == ["identity-real"]
    assert outcome.outbox_rows == 2
    latest = await store.latest_items(5, feed_id=feed_id)
    assert latest[0].identity == "identity-real"


async def test_dates_ahead_keep_their_order_and_a_small_skew_keeps_its_date(
    store: Store,
) -> None:
    feed_id = await _feed_past_backlog(store, chats=(2002,))
    # Newest first, as feeds list them; two are far ahead, one a few hours ahead.
    listed = [
        entry("far", age=-timedelta(days=30)),
        entry("farther-back", age=-timedelta(days=20)),
        entry("soon", age=-timedelta(hours=3)),
    ]
    outcome = await poll(store, feed_id, listed)
    assert [i.identity for i in outcome.pushed_items] == [
        "identity-soon",
        "identity-farther-back",
        "identity-far",
    ]
    assert [i.published_at for i in outcome.new_items] == [
        START + timedelta(hours=3),
        START,
        START,
    ]
    assert [item_id for _, item_id, _ in await outbox(store)][-3:] == [
        i.id for i in outcome.pushed_items
    ]


async def test_a_statement_without_a_date_counts_as_published_now(store: Store) -> None:
    feed_id = await _feed_past_backlog(store)
    undated = NewItem("identity-x", None, None, "Undated", "lead", "text", None)
    outcome = await poll(store, feed_id, [undated])
    assert outcome.outbox_rows == 2
    assert outcome.new_items[0].published_at == START


async def test_an_edited_statement_keeps_its_identity_and_is_not_pushed_again(
    store: Store,
) -> None:
    feed_id = await _feed_past_backlog(store)
    clock = store._clock
    assert isinstance(clock, FakeClock)
    first = await poll(store, feed_id, [entry("a", title="Statment on visas")])
    original = first.new_items[0]
    clock.now = START + timedelta(hours=2)
    edited = await poll(store, feed_id, [entry("a", title="Statement on visas")])
    assert edited.new_items == [] and edited.outbox_rows == 0
    stored = await store.get_item(original.id)
    assert stored is not None
    assert stored.title == "Statement on visas"
    assert stored.first_seen_at == START and stored.updated_at == clock.now
    assert len(await outbox(store)) == 2
    # The search index followed the edit.
    assert [h.item.id for h in await store.search("statement visas")] == [original.id]
    assert await store.search("statment") == []


async def test_one_poll_with_the_same_statement_twice_stores_it_once(store: Store) -> None:
    feed_id = await _feed_past_backlog(store)
    outcome = await poll(store, feed_id, [entry("a"), entry("a", title="again"), entry("b")])
    assert [i.identity for i in outcome.new_items] == ["identity-a", "identity-b"]
    assert outcome.outbox_rows == 4


async def test_the_same_identity_in_two_feeds_is_two_statements(store: Store) -> None:
    feed_id = await _feed_past_backlog(store)
    other = await store.add_feed("https://embassy.example/rss")
    await poll(store, other.id, [])
    await store.subscribe(2002, [other.id])
    assert len((await poll(store, feed_id, [entry("a")])).new_items) == 1
    assert len((await poll(store, other.id, [entry("a")])).new_items) == 1
    assert await item_count(store) == 3


@pytest.mark.parametrize("count", [3, DIGEST_THRESHOLD + 4])
async def test_every_chat_gets_a_polls_statements_in_publication_order(
    store: Store, count: int
) -> None:
    feed_id = await _feed_past_backlog(store)
    # Listed newest first, as feeds do.
    outcome = await poll(
        store, feed_id, [entry(f"{n}", age=timedelta(minutes=n)) for n in range(count)]
    )
    order = [i.id for i in outcome.new_items]
    assert [i.identity for i in outcome.new_items] == [
        f"identity-{n}" for n in reversed(range(count))
    ]
    rows = await outbox(store)
    for chat_id in (2002, 3003):
        assert [item for chat, item, _ in rows if chat == chat_id] == order
    digest_keys = {r.digest_key for r in await store.pending_outbox()}
    if count > DIGEST_THRESHOLD:
        assert len(digest_keys) == 1 and None not in digest_keys
    else:
        assert digest_keys == {None}


# A pool of statements, and polls that each list some of them (overlapping, repeated,
# with edited titles and duplicates inside one poll).
_polls = st.lists(
    st.lists(st.tuples(st.integers(0, 7), st.booleans()), max_size=10),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(polls=_polls)
def test_any_sequence_of_stores_yields_each_statement_and_each_row_once(
    backend: str, request: pytest.FixtureRequest, polls: list[list[tuple[int, bool]]]
) -> None:
    server = request.getfixturevalue("postgres_server") if backend == "postgres" else None

    async def scenario() -> None:
        # Each example starts from an empty database.
        url = server.new_database() if server is not None else None
        store = await open_any(path=":memory:", url=url, clock=FakeClock(START))
        try:
            feed_id = await _feed_past_backlog(store)
            seen: set[str] = {"identity-old"}
            returned: list[str] = []
            queued = 0
            for listed in polls:
                entries = [
                    entry(f"{n}", title=f"Edited {n}" if edited else None, age=timedelta(hours=n))
                    for n, edited in listed
                ]
                outcome = await poll(store, feed_id, entries)
                expected_new = {e.identity for e in entries} - seen
                assert {i.identity for i in outcome.new_items} == expected_new
                assert len(outcome.new_items) == len(expected_new)
                seen |= expected_new
                returned += [i.identity for i in outcome.new_items]
                queued += outcome.outbox_rows
            assert len(returned) == len(set(returned))
            assert await store.count_items() == len(seen)
            rows = await outbox(store)
            assert len(rows) == len({(chat, item) for chat, item, _ in rows})
            assert len(rows) == queued == 2 * len(returned)
        finally:
            await store.close()

    asyncio.run(scenario())


# ----------------------------------------------------------------- chat migration


async def _group_with_history(store: Store) -> tuple[int, list[int]]:
    feed_id = await _feed_past_backlog(store, chats=())
    other = await store.add_feed("https://embassy.example/rss")
    await poll(store, other.id, [])
    await store.upsert_chat(-100, "group", "Group")
    await store.subscribe(-100, [feed_id, other.id])
    await store.update_chat_settings(
        -100, timezone="Europe/Moscow", daily_time=time(7, 30), daily_enabled=False
    )
    outcome = await poll(store, feed_id, [entry("a"), entry("b"), entry("c")])
    item_ids = [i.id for i in outcome.new_items]
    rows = await store.outbox_rows_for_chat(-100)
    await store.mark_sent([rows[0].id], message_id=5)
    return feed_id, item_ids


async def test_a_group_becoming_a_supergroup_takes_everything_to_its_new_id(
    store: Store,
) -> None:
    feed_id, item_ids = await _group_with_history(store)
    subscribed = await store.subscriptions(-100)

    await store.migrate_chat(-100, -1001)

    assert await store.find_chat(-100) is None
    chat = await store.get_chat(-1001)
    assert (chat.type, chat.timezone, chat.daily_time, chat.daily_enabled) == (
        "supergroup",
        "Europe/Moscow",
        time(7, 30),
        False,
    )
    assert await store.subscriptions(-1001) == subscribed
    assert await store.subscriptions(-100) == set()
    pending = await store.pending_outbox()
    assert [(r.chat_id, r.item_id) for r in pending] == [(-1001, i) for i in item_ids[1:]]
    assert await store.outbox_rows_for_chat(-100) == []
    # New statements go to the new id.
    outcome = await poll(store, feed_id, [entry("d")])
    assert outcome.outbox_rows == 1
    assert (await store.pending_outbox())[-1].chat_id == -1001


async def test_migrating_into_a_chat_we_already_know_merges_without_duplicates(
    store: Store,
) -> None:
    feed_id, item_ids = await _group_with_history(store)
    # The supergroup spoke first: it exists, with its own subscription and queue.
    await store.upsert_chat(-1001, "supergroup", "Group")
    third = await store.add_feed("https://regulator.example/rss")
    await store.subscribe(-1001, [feed_id, third.id])
    await execute(
        store,
        "INSERT INTO outbox (chat_id, kind, item_id, created_at) VALUES (-1001, 'item', ?, 0)",
        (item_ids[2],),
    )
    expected_subs = await store.subscriptions(-100) | {third.id}

    await store.migrate_chat(-100, -1001)

    assert await store.find_chat(-100) is None
    chat = await store.get_chat(-1001)
    assert (chat.timezone, chat.daily_time, chat.daily_enabled, chat.active) == (
        "Europe/Moscow",
        time(7, 30),
        False,
        True,
    )
    assert await store.subscriptions(-1001) == expected_subs
    pending = [(r.chat_id, r.item_id) for r in await store.pending_outbox()]
    assert sorted(pending) == sorted([(-1001, item_ids[1]), (-1001, item_ids[2])])
    assert await store.outbox_rows_for_chat(-100) == []


async def test_a_chat_migration_is_all_or_nothing(store: Store) -> None:
    await _group_with_history(store)
    await store.upsert_chat(-1001, "supergroup", "Group")
    before_subs = await store.subscriptions(-100)
    before_rows = await store.outbox_rows_for_chat(-100)
    # The last step (forgetting the old id) fails: every earlier step must roll back.
    async with failing(store, "BEFORE DELETE", "chats") as error:
        with pytest.raises(error):
            await store.migrate_chat(-100, -1001)
    assert await store.subscriptions(-100) == before_subs
    assert await store.subscriptions(-1001) == set()
    assert await store.outbox_rows_for_chat(-100) == before_rows
    assert await store.outbox_rows_for_chat(-1001) == []


async def test_migrating_an_unknown_chat_or_to_itself_changes_nothing(store: Store) -> None:
    await _group_with_history(store)
    await store.migrate_chat(-555, -1001)
    assert await store.find_chat(-1001) is None
    await store.migrate_chat(-100, -100)
    assert (await store.get_chat(-100)).type == "group"
    assert len(await store.subscriptions(-100)) == 2

"""API faults: with a fifth of all Bot API calls failing at random (a seeded mix of
429, 500, answers that never come in time and connection resets), every statement
reaches every healthy chat; the only duplicates are sends the bot counted as of
unknown fate; blocked and vanished chats are marked inactive with the reason, and a
group that became a supergroup keeps its subscription and gets its messages at the
new id. `make soak` runs it at full size."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from emulator import (
    Blocked,
    ChatNotFound,
    ConnectionReset,
    Delay,
    Migrate,
    RetryAfter,
    ServerError,
)
from jobs.delivery_policy import MAX_ATTEMPTS, DeliveryTuning
from tests.reliability.conftest import Report
from tests.support.fake_bot_api import FakeBotApi
from tests.support.feed_server import FeedServer
from tests.support.feeds import statement
from tests.support.rig import Rig, add_feed, publish, start_rig, stop_rig, subscribe

pytestmark = pytest.mark.slow

SEED = 1203
FAULT_RATE = 0.2
READ_TIMEOUT = 0.4
HOLD = 0.8  # a held answer outlives the client's patience
TITLE = re.compile(r"^Statement (\d+)$", re.M)
# Production attempts and backoff shape, with waits shrunk so the test runs in seconds.
TUNING = DeliveryTuning(
    backoff=0.02, backoff_cap=0.3, max_attempts=MAX_ATTEMPTS, timeout_pause=0.05
)


def received(rig: Rig, chat_id: int) -> Counter[int]:
    return Counter(
        int(n) for m in rig.api.messages(chat_id) for n in TITLE.findall(m.plain_text or "")
    )


async def test_a_fifth_of_api_calls_failing_loses_nothing(
    tmp_path: Path,
    fake_bot_api: FakeBotApi,
    feed_server: FeedServer,
    soak: bool,
    reliability_report: Report,
) -> None:
    healthy_count, rounds = (100, 10) if soak else (24, 5)
    rig = await start_rig(
        tmp_path,
        fake_bot_api,
        feed_server,
        env={"DELIVERY_CONCURRENCY": "1"},
        chat_pacing=False,
        delivery=TUNING,
        read_timeout=READ_TIMEOUT,
    )
    api = rig.api
    try:
        old = statement(1, day=1)
        feed = await add_feed(rig, old)
        healthy = [50_000 + i for i in range(healthy_count)]
        blocked_later, blocked_now = 60_001, 60_002  # the user blocks; a 403 tells the bot
        vanished_later, vanished_now = 61_001, 61_002  # the chat is gone: 400 chat not found
        group, migrating = -62_001, -62_002  # become supergroups: 400 migrate_to_chat_id
        moved_group, moved_migrating = -1_000_062_001, -1_000_062_002
        await subscribe(rig, feed, [*healthy, blocked_later, blocked_now])
        await subscribe(rig, feed, [vanished_later, vanished_now])
        await subscribe(rig, feed, [group, migrating], "group")

        api.block_bot(blocked_now)
        api.delete_chat(vanished_now)
        api.migrate_chat(group, moved_group)
        api.set_fault_rate(
            FAULT_RATE,
            seed=SEED,
            kinds=[
                RetryAfter(1),
                ServerError(),
                ServerError(502, "Bad Gateway"),
                Delay(HOLD, deliver=True),  # taken by Telegram, answered too late
                Delay(HOLD, deliver=False),  # lost on the way, answered too late
                ConnectionReset(),
            ],
        )

        published = [old]
        for n in range(2, rounds + 2):
            published.insert(0, statement(n, day=n))
            if n == 3:
                # Between two rounds the others go: blocked, deleted, upgraded by a
                # fault injected into the very send that meets it.
                api.inject(Blocked(), chat_id=blocked_later)
                api.inject(ChatNotFound(), chat_id=vanished_later)
                api.inject(Migrate(moved_migrating), chat_id=migrating)
            await publish(rig, *published)
        await rig.wait_delivered(within=600 if soak else 120)
        api.set_fault_rate(0.0)

        expected = set(range(2, rounds + 2))
        lost: list[tuple[int, int]] = []
        duplicates = 0
        for chat in [*healthy, moved_group, moved_migrating]:
            got = received(rig, chat)
            lost += [(chat, n) for n in sorted(expected - set(got))]
            duplicates += sum(c - 1 for c in got.values())
            assert set(got) <= expected, f"chat {chat} got an old statement"
        with sqlite3.connect(rig.settings.database_path) as db:
            flagged = db.execute("SELECT COALESCE(SUM(possible_duplicate), 0) FROM outbox")
            counted = int(flagged.fetchone()[0])
            states = dict(db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"))
        deliveries = sum(sum(received(rig, c).values()) for c in api.message_counts())
        faults = sum(api.faults_injected.values())
        reliability_report(
            statements=rounds,
            deliveries=deliveries,
            lost=len(lost),
            duplicates=duplicates,
            faults=faults,
            flagged=counted,
        )
        assert lost == [], f"lost {len(lost)}: {lost[:10]}"
        assert duplicates <= counted, "a duplicate the bot did not count"
        assert "failed" not in states and "pending" not in states, states
        assert faults >= 0.1 * len(api.calls), "the faults were not injected"
        assert {"RetryAfter", "ServerError", "Delay", "ConnectionReset"} <= set(api.faults_injected)

        store = rig.services.store
        for chat, reason in {
            blocked_later: "blocked the bot",
            blocked_now: "blocked the bot",
            vanished_later: "chat not found",
            vanished_now: "chat not found",
        }.items():
            found = await store.get_chat(chat)
            assert (found.active, found.inactive_reason) == (False, reason), chat
        # What the blocked and vanished chats got before they went, and nothing after.
        assert set(received(rig, blocked_later)) <= {2}
        assert set(received(rig, vanished_later)) <= {2}
        for old_id, new_id in ((group, moved_group), (migrating, moved_migrating)):
            assert await store.find_chat(old_id) is None
            moved = await store.get_chat(new_id)
            assert (moved.type, moved.active) == ("supergroup", True)
            assert await store.subscriptions(new_id) == {feed}
            assert received(rig, old_id) == Counter()

        # Faults gone, the next statement goes straight to every healthy chat and the
        # new ids, once.
        sends_before = len(api.calls_to("sendMessage"))
        last = rounds + 2
        await publish(rig, statement(last, day=last), *published)
        await rig.wait_delivered(within=30)
        for chat in [*healthy, moved_group, moved_migrating]:
            assert received(rig, chat)[last] == 1, chat
        assert len(api.calls_to("sendMessage")) - sends_before == len(healthy) + 2
    finally:
        api.set_fault_rate(0.0)
        await stop_rig(rig)

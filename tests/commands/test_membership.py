"""When Telegram says the bot was blocked or removed (my_chat_member), the chat is
marked inactive at once and its queued messages are cancelled (kept); /start brings
it back."""

from __future__ import annotations

from telegram import Update

from tests.support.feeds import sample_feed
from tests.support.rig import ADMIN, USER, Rig


async def test_a_user_blocking_the_bot_stops_deliveries_at_once(rig: Rig) -> None:
    rig.feeds.set("/feed.xml", sample_feed(1, items=2), etag='"1"')
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/feed.xml')}")
    await rig.reply_to(USER, USER, "/subscribe all")
    await rig.services.deliverer.stop()  # an outage: the next statement waits

    rig.feeds.set("/feed.xml", sample_feed(1, items=3), etag='"2"')
    rig.clock.advance(minutes=10)
    await rig.run_job("poll")
    assert [r.state for r in await rig.services.store.outbox_rows_for_chat(USER)] == ["pending"]

    # The user blocks the bot. The running bot gets the update by long polling
    # too; handling it here as well awaits the handler's end (it is idempotent).
    raw = rig.api.set_bot_status(USER, "kicked", by_user_id=USER)
    await rig.app.process_update(Update.de_json(raw, rig.app.bot))
    store = rig.services.store
    chat = await store.find_chat(USER)
    assert chat is not None and not chat.active
    assert chat.inactive_reason == "blocked the bot"
    rows = await store.outbox_rows_for_chat(USER)
    assert [r.state for r in rows] == ["cancelled"]

    # Writing /start again makes the chat active; new statements reach it.
    await rig.reply_to(USER, USER, "/start")
    chat = await store.find_chat(USER)
    assert chat is not None and chat.active

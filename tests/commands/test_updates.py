"""The update processor: one chat's updates in the order they came, other chats at
the same time, and a chat with many updates waiting never holds up the others."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.updates import PerChatUpdateProcessor

SENT = datetime(2021, 12, 3, 7, 30, tzinfo=UTC)


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    user = User(chat_id, "Reader", is_bot=False)
    return Update(update_id, message=Message(update_id, SENT, chat, from_user=user, text="/x"))


async def test_one_chat_in_order_while_other_chats_go_on() -> None:
    processor = PerChatUpdateProcessor(max_concurrent_updates=2)
    done: list[str] = []
    first_may_end = asyncio.Event()
    other_chat_done = asyncio.Event()

    async def handle(name: str, wait: asyncio.Event | None = None) -> None:
        if wait is not None:
            await wait.wait()
        done.append(name)
        if name == "b1":
            other_chat_done.set()

    tasks = [
        asyncio.create_task(processor.process_update(update(1, 10), handle("a1", first_may_end))),
        asyncio.create_task(processor.process_update(update(2, 10), handle("a2"))),
        asyncio.create_task(processor.process_update(update(3, 10), handle("a3"))),
        asyncio.create_task(processor.process_update(update(4, 20), handle("b1"))),
    ]
    # a1 holds one of the two slots and chat 10's turn; a2 and a3 wait for their
    # chat without taking the other slot, so chat 20 goes on.
    await asyncio.wait_for(other_chat_done.wait(), 5)
    assert done == ["b1"]
    first_may_end.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert done == ["b1", "a1", "a2", "a3"]
    assert processor._locks == {}  # nothing kept once a chat is quiet

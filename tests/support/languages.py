"""Chats that read the bot in a given language: what the Russian tests set up before
they talk to the bot (as `/settings language ru` would)."""

from __future__ import annotations

from emulator import ChatType
from tests.support.rig import Rig


async def speak(rig: Rig, chat_id: int, language: str, chat_type: ChatType = "private") -> None:
    """The chat (known to the store, as after its first message) reads `language`."""
    store = rig.services.store
    await store.touch_chat(chat_id, chat_type, f"Chat {chat_id}")
    await store.update_chat_settings(chat_id, language=language)

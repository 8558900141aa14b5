"""What the command tests share: groups to talk in, buttons to press, messages as
the chat shows them, and the checks every test ends with (no refused reply,
nothing over 4096, every button press answered once)."""

from __future__ import annotations

import asyncio
import re
import weakref

from emulator import SentMessage
from tests.support.rig import OTHER, USER, Rig
from text.markup import utf16_length

GROUP = -100500
BOT = "CommuniqueBot"
# A tag or an entity of ours in a message sent without a parse mode: shown as written.
MEANT_AS_HTML = re.compile(r"</?(?:b|i|a|code|pre)\b|&(?:amp|lt|gt|quot);")


def add_group(rig: Rig) -> int:
    """A supergroup where OTHER is a group admin and USER a plain member."""
    rig.api.add_chat(GROUP, "supergroup", title="Press <room>", admins=[OTHER], members=[USER])
    return GROUP


async def subscriptions(rig: Rig, chat_id: int) -> set[int]:
    return await rig.services.store.subscriptions(chat_id)


def text(message: SentMessage) -> str:
    return message.plain_text or ""


def current(rig: Rig, message: SentMessage) -> SentMessage:
    """The message as the chat shows it now (after edits)."""
    found = rig.api.message(message.chat_id, message.message_id)
    assert found is not None
    return found


def data_of(message: SentMessage) -> list[str]:
    return [str(b["callback_data"]) for b in message.buttons]


def button(message: SentMessage, label_part: str) -> str:
    """The callback_data of the button whose label contains `label_part`."""
    for b in message.buttons:
        if label_part in str(b["text"]):
            return str(b["callback_data"])
    raise AssertionError(f"no button {label_part!r} in {message.buttons!r}")


# Button presses made through press(), per emulator: each must get exactly one answer.
# Keyed weakly by the emulator itself: an id() can be reused by a later test's
# emulator once this one is gone, which would carry its count over.
PRESSES: weakref.WeakKeyDictionary[object, int] = weakref.WeakKeyDictionary()


async def press(
    rig: Rig, message: SentMessage, user: int, data: str, *, forge: bool = False
) -> str:
    """Press a button; returns the text the bot answered the press with ('' if none)."""
    answered = len(rig.api.calls_to("answerCallbackQuery"))
    rig.api.press_button(message.chat_id, user, message.message_id, data, forge=forge)
    PRESSES[rig.api] = PRESSES.get(rig.api, 0) + 1
    calls = await rig.api.wait_for_call("answerCallbackQuery", answered + 1)
    await wait_settled(rig)  # the answer comes first, the edit after it
    return str(calls[answered].params.get("text") or "")


async def say_unanswered(rig: Rig, chat_id: int, user_id: int, text_: str) -> None:
    """A message the bot must not answer: once it was fetched and handled, nothing
    new is in the chat."""
    before = len(rig.api.messages(chat_id))
    rig.api.send_text(chat_id, user_id, text_)
    await wait_settled(rig)
    assert len(rig.api.messages(chat_id)) == before, rig.api.messages(chat_id)[before:]


async def wait_settled(rig: Rig, timeout: float = 5.0) -> None:
    """Wait until every update sent so far was fetched and fully handled (handlers
    run concurrently, so a later reply does not prove an earlier press is done).

    An update leaves the emulator's pending list only when the next getUpdates
    confirms it, by which time it is in the application's queue; the queue counts
    it unfinished until its handlers have returned.
    """
    await rig.api.wait_for(lambda: not rig.api.pending_updates, timeout)
    await asyncio.wait_for(rig.app.update_queue.join(), timeout)


async def check_output(rig: Rig, *, restarted: bool = False) -> None:
    """Every call succeeded (the HTML validator refuses bad HTML with 400), every
    message is within Telegram's 4096 and every button press was answered once."""
    await wait_settled(rig)
    failed = [
        (c.method, c.status, c.description)
        for c in rig.api.calls
        # A restarted bot's first long poll may overlap the old one's (409); PTB retries.
        if c.status >= 400 and not (restarted and c.method == "getUpdates" and c.status == 409)
    ]
    assert not failed, failed
    for chat_id in list(rig.api.chats):
        for message in rig.api.messages(chat_id):
            # HTML, but for a full text's parts: plain text, with no markup in them
            # that was meant as HTML.
            plain = message.parse_mode is None and not MEANT_AS_HTML.search(message.text or "")
            assert message.parse_mode == "HTML" or plain, message.text
            assert utf16_length(message.plain_text or "") <= 4096
            for b in message.buttons:
                assert len(str(b.get("callback_data", "")).encode()) < 64, b
    answers = rig.api.calls_to("answerCallbackQuery")
    assert len(answers) == PRESSES.get(rig.api, 0), "a press unanswered or answered twice"

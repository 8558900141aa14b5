"""The fake Bot API, driven by a real python-telegram-bot Application over HTTP.

Each test checks one thing the rig promises: that PTB sees the same answers,
errors and exceptions from it as from Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

import emulator as emu
from emulator import BotApiEmulator, EmulatorRequest
from tests.support.fake_bot_api import FakeBotApi

USER = 42
GROUP = -1001
BUTTONS = InlineKeyboardMarkup([[InlineKeyboardButton("Subscribe", callback_data="sub:1")]])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply to /start with a button."""
    assert update.effective_message is not None
    await update.effective_message.reply_html("<b>Welcome</b>", reply_markup=BUTTONS)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a button press and edit the message it came from."""
    query = update.callback_query
    assert query is not None
    await query.answer("Subscribed")
    await query.edit_message_text(f"Done: {query.data}")


async def echo_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the sent document and reply with its content."""
    message = update.effective_message
    assert message is not None and message.document is not None
    file = await message.document.get_file()
    content = await file.download_as_bytearray()
    await message.reply_text(f"got {bytes(content).decode()}")


def build_app(fake: FakeBotApi) -> Application:  # type: ignore[type-arg]
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(filters.Document.ALL, echo_document))
    return app


@contextlib.asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=5)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def bot_for(fake: FakeBotApi, *, read_timeout: float = 5.0) -> Bot:
    return Bot(
        fake.token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        request=HTTPXRequest(read_timeout=read_timeout),
    )


async def test_start_command_gets_a_reply(fake_bot_api: FakeBotApi) -> None:
    em = fake_bot_api.emulator
    em.add_user(USER, "Ann", username="ann")
    async with polling(build_app(fake_bot_api)):
        em.send_text(USER, USER, "/start@CommuniqueBot")
        [reply] = await em.wait_for_messages(USER, 1)
    assert reply.text == "<b>Welcome</b>"
    assert reply.plain_text == "Welcome"
    assert reply.parse_mode == "HTML"
    assert reply.buttons == [{"text": "Subscribe", "callback_data": "sub:1"}]
    assert [c.method for c in em.calls][:1] == ["getMe"]


async def test_button_press_is_answered_and_message_edited(fake_bot_api: FakeBotApi) -> None:
    em = fake_bot_api.emulator
    em.add_user(USER, "Ann")
    async with polling(build_app(fake_bot_api)):
        em.send_text(USER, USER, "/start")
        [reply] = await em.wait_for_messages(USER, 1)
        update = em.press_button(USER, USER, reply.message_id, "sub:1")
        query_id = update["callback_query"]["id"]
        await em.wait_for(lambda: reply.edits != [])
        await em.wait_for(lambda: query_id in em.callback_answers)
    assert em.callback_answers[query_id]["text"] == "Subscribed"
    assert reply.plain_text == "Done: sub:1"
    assert reply.edits == ["<b>Welcome</b>"]
    with pytest.raises(ValueError, match="no button"):
        em.press_button(USER, USER, reply.message_id, "forged")


async def test_users_document_is_downloadable(fake_bot_api: FakeBotApi) -> None:
    em = fake_bot_api.emulator
    em.add_user(USER, "Ann")
    async with polling(build_app(fake_bot_api)):
        em.send_document(USER, USER, "feeds.opml", b"<opml/>", mime_type="text/x-opml")
        [reply] = await em.wait_for_messages(USER, 1)
    assert reply.text == "got <opml/>"


async def test_send_document_records_the_upload(fake_bot_api: FakeBotApi) -> None:
    em = fake_bot_api.emulator
    em.add_user(USER, "Ann")
    async with bot_for(fake_bot_api) as bot:
        sent = await bot.send_document(
            USER, b"a,b\n", filename="export.csv", caption="<i>x</i>", parse_mode="HTML"
        )
    [message] = em.messages(USER)
    assert message.document is not None
    assert (message.document.file_name, message.document.content) == ("export.csv", b"a,b\n")
    assert sent.document is not None and sent.caption == "x"


# PTB 22 warns that retry_after will become a timedelta; the value is what matters here.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
@pytest.mark.parametrize(
    ("fault", "exception", "text"),
    [
        (emu.RetryAfter(7), RetryAfter, ""),
        (emu.Blocked(), Forbidden, "Forbidden: bot was blocked by the user"),
        (emu.ChatNotFound(), BadRequest, "Chat not found"),
        (emu.ServerError(), NetworkError, "Internal Server Error"),
        (emu.ConnectionReset(), NetworkError, ""),
    ],
)
async def test_injected_faults_raise_what_telegram_would(
    fake_bot_api: FakeBotApi, fault: emu.Fault, exception: type[Exception], text: str
) -> None:
    em = fake_bot_api.emulator
    em.add_user(USER, "Ann")
    em.inject(fault, method="sendMessage", chat_id=USER)
    async with bot_for(fake_bot_api) as bot:
        with pytest.raises(exception) as caught:
            await bot.send_message(USER, "hello")
        if not isinstance(fault, emu.Blocked):  # a blocked chat stays blocked
            await bot.send_message(USER, "again")  # times=1: only the first call fails
    if isinstance(caught.value, RetryAfter):
        assert caught.value.retry_after == 7
    assert text.lower() in str(caught.value).lower()
    assert em.faults_injected[type(fault).__name__] == 1


async def test_blocked_chat_stays_blocked_until_the_user_writes(fake_bot_api: FakeBotApi) -> None:
    em = fake_bot_api.emulator
    em.add_user(USER, "Ann")
    em.block_bot(USER)
    async with bot_for(fake_bot_api) as bot:
        with pytest.raises(Forbidden):
            await bot.send_message(USER, "hello")
        em.send_text(USER, USER, "/start")
        await bot.send_message(USER, "welcome back")
    assert [m.text for m in em.messages(USER)] == ["welcome back"]


async def test_migration_moves_the_chat(fake_bot_api: FakeBotApi) -> None:
    em = fake_bot_api.emulator
    em.add_chat(-5, "group", title="Readers", admins=[USER])
    em.inject(emu.Migrate(-1005), chat_id=-5)
    async with bot_for(fake_bot_api) as bot:
        with pytest.raises(ChatMigrated) as caught:
            await bot.send_message(-5, "news")
        assert caught.value.new_chat_id == -1005
        with pytest.raises(ChatMigrated):
            await bot.send_message(-5, "still the old id")
        await bot.send_message(caught.value.new_chat_id, "news")
    assert em.chats[-1005].type == "supergroup"
    assert em.chats[-1005].members[USER] == "administrator"
    assert [m.text for m in em.messages(-1005)] == ["news"]


@pytest.mark.parametrize(
    ("kwargs", "description"),
    [
        ({"text": "<div>x</div>", "parse_mode": "HTML"}, "can't parse entities: unsupported"),
        ({"text": "R&D", "parse_mode": "HTML"}, "can't parse entities"),
        ({"text": "<b>open", "parse_mode": "HTML"}, "can't find end tag"),
        ({"text": "x" * 4097}, "message is too long"),
        ({"text": "<b>" + "x" * 4097 + "</b>", "parse_mode": "HTML"}, "message is too long"),
        ({"text": "  "}, "message text is empty"),
        (
            {
                "text": "x",
                "reply_markup": InlineKeyboardMarkup(
                    [[InlineKeyboardButton("b", callback_data="d" * 65)]]
                ),
            },
            "button_data_invalid",
        ),
    ],
)
async def test_refuses_what_telegram_refuses(
    fake_bot_api: FakeBotApi, kwargs: dict[str, object], description: str
) -> None:
    em = fake_bot_api.emulator
    em.add_user(USER, "Ann")
    async with bot_for(fake_bot_api) as bot:
        with pytest.raises(BadRequest) as caught:
            await bot.send_message(USER, **kwargs)  # type: ignore[arg-type]
    assert description in str(caught.value).lower()
    assert em.messages(USER) == []


async def test_length_limit_counts_after_parsing(fake_bot_api: FakeBotApi) -> None:
    em = fake_bot_api.emulator
    em.add_user(USER, "Ann")
    async with bot_for(fake_bot_api) as bot:
        await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
        await bot.send_message(
            USER,
            "x" * 64,
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("b", callback_data="é" * 32)]]
            ),
        )
    assert len(em.messages(USER)) == 2


async def test_unknown_method_is_a_clear_400(fake_bot_api: FakeBotApi) -> None:
    async with bot_for(fake_bot_api) as bot:
        with pytest.raises(BadRequest, match=r'(?i)does not implement method "sendHologram"'):
            await bot.do_api_request("sendHologram", api_kwargs={"chat_id": 1})


async def test_wrong_token_is_refused(fake_bot_api: FakeBotApi) -> None:
    bot = Bot("1:wrong", base_url=fake_bot_api.base_url)
    with pytest.raises(InvalidToken):
        await bot.initialize()
    assert fake_bot_api.emulator.calls == []


async def test_slow_answer_times_out_but_may_still_deliver(fake_bot_api: FakeBotApi) -> None:
    em = fake_bot_api.emulator
    em.add_user(USER, "Ann")
    em.inject(emu.Delay(5.0, deliver=True))
    em.inject(emu.Delay(5.0, deliver=False))
    async with bot_for(fake_bot_api, read_timeout=0.2) as bot:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "arrives anyway")
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "lost")
        assert time.monotonic() - started < 2.0
    assert [m.text for m in em.messages(USER)] == ["arrives anyway"]


async def test_long_poll_returns_as_soon_as_an_update_arrives(fake_bot_api: FakeBotApi) -> None:
    em = fake_bot_api.emulator
    em.add_user(USER, "Ann")
    async with bot_for(fake_bot_api) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=10))
        await em.wait_for_call("getUpdates")
        started = time.monotonic()
        em.send_text(USER, USER, "hi")
        [update] = await asyncio.wait_for(poll, 5)
        assert time.monotonic() - started < 1.0
        assert update.message is not None and update.message.text == "hi"
        # Confirming with offset removes it; an empty poll with timeout 0 returns at once.
        assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert em.pending_updates == []


async def test_rate_limits_answer_429_on_an_injected_clock() -> None:
    now = [100.0]
    em = BotApiEmulator("1:T", clock=lambda: now[0])
    em.add_user(USER, "Ann")
    em.add_chat(GROUP, "supergroup", title="G")
    em.enable_rate_limits(emu.RateLimits(global_per_second=30, slack=0.0))
    assert (await em.handle("sendMessage", {"chat_id": str(USER), "text": "1"}))[0] == 200
    status, body = await em.handle("sendMessage", {"chat_id": str(USER), "text": "2"})
    assert (status, body["parameters"]) == (429, {"retry_after": 1})
    now[0] += 1.0
    assert (await em.handle("sendMessage", {"chat_id": str(USER), "text": "3"}))[0] == 200
    for i in range(20):
        now[0] += 0.05
        assert (await em.handle("sendMessage", {"chat_id": GROUP, "text": str(i)}))[0] == 200
    status, body = await em.handle("sendMessage", {"chat_id": GROUP, "text": "21st"})
    assert status == 429 and body["parameters"]["retry_after"] == 60
    assert em.count_429 == 2


async def test_seeded_fault_rate_is_reproducible() -> None:
    async def statuses(seed: int) -> list[int]:
        em = BotApiEmulator("1:T")
        em.add_user(USER, "Ann")
        em.set_fault_rate(0.3, seed=seed, kinds=[emu.RetryAfter(1), emu.ServerError()])
        return [(await em.handle("getMe", {}))[0] for _ in range(40)]

    first = await statuses(3)
    assert first == await statuses(3)
    assert {200, 429, 500} == set(first)


async def test_commands_chat_member_and_webhook(fake_bot_api: FakeBotApi) -> None:
    em = fake_bot_api.emulator
    em.add_chat(GROUP, "supergroup", title="G", creator=1, admins=[2], members=[3])
    em.add_user(4, "Outsider")
    em.add_chat(-1002, "channel", title="News", bot_can_post=False)
    async with bot_for(fake_bot_api) as bot:
        await bot.set_my_commands([("start", "Start"), ("latest", "Latest statements")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "latest"]
        statuses = [(await bot.get_chat_member(GROUP, uid)).status for uid in (1, 2, 3, 4)]
        assert statuses == ["creator", "administrator", "member", "left"]
        me = await bot.get_chat_member(-1002, bot.id)
        assert me.status == "administrator" and me.can_post_messages is False  # type: ignore[attr-defined]
        with pytest.raises(BadRequest, match=r"(?i)need administrator rights"):
            await bot.send_message(-1002, "x")
        assert (await bot.get_chat(GROUP)).title == "G"
        await bot.set_webhook("https://example.org/hook", secret_token="s3cret")
        assert (await bot.get_webhook_info()).url == "https://example.org/hook"
        with pytest.raises(Exception, match="webhook is active"):
            await bot.get_updates()
        await bot.delete_webhook()
    assert em.webhook_url == "" and len(em.calls_to("setMyCommands")) == 1


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_control_api(fake_bot_api: FakeBotApi) -> None:
    root = fake_bot_api.root_url
    async with aiohttp.ClientSession() as http:
        await http.post(f"{root}/_control/users", json=[{"id": 7, "first_name": "Bo"}])
        await http.post(
            f"{root}/_control/inject", json={"error": {"kind": "retry_after", "seconds": 2}}
        )
        async with bot_for(fake_bot_api) as bot:
            with pytest.raises(RetryAfter):
                await bot.send_message(7, "x")
            await bot.send_message(7, "y")
        async with http.get(f"{root}/_control/messages", params={"chat_id": "7"}) as resp:
            assert [m["text"] for m in await resp.json()] == ["y"]
        async with http.get(f"{root}/_control/counts") as resp:
            counts = await resp.json()
    assert counts["messages"] == {"7": 1} and counts["count_429"] == 1


async def test_in_process_application_answers_start() -> None:
    em = BotApiEmulator("123:T")
    em.add_user(USER, "Ann")
    app = (
        ApplicationBuilder()
        .token(em.token)
        .request(EmulatorRequest(em))
        .get_updates_request(EmulatorRequest(em))
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    async with polling(app):
        em.send_text(USER, USER, "/start")
        [reply] = await em.wait_for_messages(USER, 1)
    assert reply.plain_text == "Welcome"
    em.close()

"""Channels as subscribers: admins add and remove them and set their daily message.

A channel cannot send the bot commands, so everything is done by an admin from
their own chat: `/addchannel @name [FEED_ID…|all]` (the bot first asks Telegram,
with getChatMember, whether it may post there), `/removechannel @name
[FEED_ID…]`, and `/settings @name time 08:00` for the channel's daily message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden
from telegram.ext import ApplicationHandlerStop

from bot.admin import admin_only
from bot.replies import Context, args_of, reply
from bot.services import services
from storage.errors import ChatNotFoundError
from storage.models import Chat
from storage.store import Channel
from text.dates import canonical_zone, parse_time
from text.markup import esc

# Public channel usernames are 5-32 characters; ids of channels start with -100.
_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_CHANNEL_ID = re.compile(r"-100\d{1,16}")

HOW_TO_ALLOW = (
    "In the channel: Administrators → Add Admin → this bot, with “Post messages” "
    "allowed. Then send /addchannel again."
)
SETTINGS_USAGE = (
    "Usage: /settings @channel [time HH:MM] [zone Area/City] [daily on|off] — for example "
    "<code>/settings @mychannel time 08:00 zone Europe/Moscow</code>"
)


def parse_channel_ref(arg: str) -> int | str | None:
    """`@name` → "@name", `-100…` → the id; anything else → None."""
    if _USERNAME.fullmatch(arg):
        return arg
    if _CHANNEL_ID.fullmatch(arg):
        return int(arg)
    return None


def parse_feed_selection(args: list[str]) -> list[int] | None:
    """`all` (or nothing) → None, every feed; ids → the ids. Bad → ValueError."""
    if not args or [a.lower() for a in args] == ["all"]:
        return None
    ids: list[int] = []
    for arg in args:
        for part in arg.split(","):
            if not part:
                continue
            if not part.isdigit() or len(part) > 9:
                raise ValueError(f"«{esc(part[:20])}» is not a feed id")
            ids.append(int(part))
    if not ids:
        raise ValueError("no feed ids given")
    return list(dict.fromkeys(ids))


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    daily_time: time | None = None
    timezone: str | None = None
    daily_enabled: bool | None = None

    @property
    def empty(self) -> bool:
        return self.daily_time is None and self.timezone is None and self.daily_enabled is None


def parse_channel_settings(args: list[str]) -> ChannelSettings:
    """`time HH:MM`, `zone Area/City`, `daily on|off`, in any order. Bad → ValueError."""
    if len(args) % 2:
        raise ValueError("give each setting a value, e.g. time 08:00")
    at: time | None = None
    zone: str | None = None
    enabled: bool | None = None
    for key, value in zip(args[::2], args[1::2], strict=True):
        key = key.lower()
        if key == "time":
            at = parse_time(value)
            if at is None:
                raise ValueError(f"«{esc(value[:20])}» is not a time as HH:MM (24-hour)")
        elif key in ("zone", "timezone", "tz"):
            zone = canonical_zone(value)
            if zone is None:
                raise ValueError(
                    f"«{esc(value[:40])}» is not a time zone; use an IANA name such as "
                    "Europe/London"
                )
        elif key == "daily":
            if value.lower() not in ("on", "off"):
                raise ValueError("daily is on or off")
            enabled = value.lower() == "on"
        else:
            raise ValueError(f"«{esc(key[:20])}» is not a setting: time, zone or daily")
    return ChannelSettings(at, zone, enabled)


def _name(chat: Chat, username: str | None) -> str:
    handle = f"@{username}" if username else str(chat.id)
    return f"<b>{esc(chat.title or handle)}</b> ({esc(handle)})"


def render_channel(channel: Channel) -> str:
    chat = channel.chat
    feeds = ", ".join(str(i) for i in sorted(channel.feed_ids)) or "none"
    daily = (
        f"{chat.daily_time.strftime('%H:%M')} {esc(chat.timezone)}" if chat.daily_enabled else "off"
    )
    state = "" if chat.active else f" — inactive: {esc(chat.inactive_reason or 'unknown')}"
    return f"{_name(chat, channel.username)}{state}\nfeeds: {feeds}; daily message: {daily}"


def render_channel_list(channels: list[Channel]) -> str:
    if not channels:
        return "No channels yet."
    return "<b>Channels</b>\n\n" + "\n\n".join(render_channel(c) for c in channels)


async def _may_post(context: Context, ref: int | str) -> tuple[int, str, str | None] | str:
    """(chat id, title, username) when the bot may post in the channel, else why not."""
    try:
        chat = await context.bot.get_chat(ref)
    except (BadRequest, Forbidden) as exc:
        return (
            f"Telegram does not show the bot a channel {esc(str(ref))} ({esc(exc.message)}). "
            f"Check the name, and add the bot to the channel first. {HOW_TO_ALLOW}"
        )
    if chat.type != ChatType.CHANNEL:
        return (
            f"{esc(str(ref))} is a {esc(chat.type)}, not a channel. In a group, the group's "
            "admins add the bot and use /subscribe there."
        )
    title = chat.title or (f"@{chat.username}" if chat.username else str(chat.id))
    try:
        member = await context.bot.get_chat_member(chat.id, context.bot.id)
    except (BadRequest, Forbidden) as exc:
        return (
            f"Could not check the bot's rights in {esc(title)}: {esc(exc.message)}. {HOW_TO_ALLOW}"
        )
    if member.status == ChatMemberStatus.OWNER:
        return chat.id, title, chat.username
    if member.status == ChatMemberStatus.ADMINISTRATOR:
        if getattr(member, "can_post_messages", False):
            return chat.id, title, chat.username
        return (
            f"The bot is an administrator of {esc(title)} but may not post messages. In the "
            "channel: Administrators → this bot → turn on “Post messages”. Then send "
            "/addchannel again."
        )
    return (
        f"The bot is not an administrator of {esc(title)}, so it cannot post there. {HOW_TO_ALLOW}"
    )


async def _channel_arguments(
    update: Update, context: Context, usage: str, short_usage: str
) -> tuple[int | str, list[int] | None] | None:
    """`@name|-100… [FEED_ID…|all]` → (channel, feeds or None for all); on bad input
    the usage is the reply (with the channels there are) and the result is None."""
    args = args_of(context)
    ref = parse_channel_ref(args[0]) if args else None
    if ref is None:
        listing = render_channel_list(await services(context).store.list_channels())
        await reply(update, f"{usage}\n\n{listing}")
        return None
    try:
        return ref, parse_feed_selection(args[1:])
    except ValueError as exc:
        await reply(update, f"{short_usage} — {exc}.")
        return None


@admin_only
async def addchannel(update: Update, context: Context) -> None:
    """`/addchannel @name|-100… [FEED_ID…|all]`: the channel subscribes (default: all)."""
    svc = services(context)
    parsed = await _channel_arguments(
        update,
        context,
        "Usage: /addchannel @name|-100… [FEED_ID…|all] — e.g. "
        "<code>/addchannel @mychannel all</code> or <code>/addchannel -1001234567890 1 3</code>",
        "Usage: /addchannel @name [FEED_ID…|all]",
    )
    if parsed is None:
        return
    ref, wanted = parsed
    feeds = {f.id for f in await svc.store.list_feeds()}
    if wanted is not None:
        unknown = [i for i in wanted if i not in feeds]
        if unknown:
            await reply(
                update,
                f"There is no feed {', '.join(map(str, unknown))}; /feedstatus lists the ids. "
                "Nothing changed.",
            )
            return
    checked = await _may_post(context, ref)
    if isinstance(checked, str):
        await reply(update, f"Not added. {checked}")
        return
    chat_id, title, username = checked
    user = update.effective_user
    await svc.store.add_channel(chat_id, title, username, user.id if user else 0)
    added = await svc.store.subscribe(chat_id, sorted(feeds) if wanted is None else wanted)
    channel = await svc.store.find_channel(chat_id)
    assert channel is not None
    handle = f"@{username}" if username else str(chat_id)
    note = f"newly subscribed: {', '.join(map(str, added))}" if added else "no new feeds"
    if not channel.feed_ids:
        note += " — there are no feeds yet: add some with /addfeed, then /addchannel again"
    await reply(
        update,
        f"The channel receives new statements now ({note}).\n{render_channel(channel)}\n\n"
        f"Its daily message: <code>/settings {esc(handle)} time 08:00 zone Europe/London"
        f"</code> or <code>daily off</code>. Stop: <code>/removechannel {esc(handle)}</code>",
    )


async def _stored_channel(context: Context, ref: int | str) -> Channel | None:
    store = services(context).store
    found = await store.find_channel(ref)
    if found is None and isinstance(ref, str):
        # A channel renamed since it was added: Telegram still knows it by the new name.
        try:
            chat = await context.bot.get_chat(ref)
        except (BadRequest, Forbidden):
            return None
        found = await store.find_channel(chat.id)
    return found


@admin_only
async def removechannel(update: Update, context: Context) -> None:
    """`/removechannel @name|-100… [FEED_ID…]`: stop some feeds, or the whole channel."""
    svc = services(context)
    parsed = await _channel_arguments(
        update,
        context,
        "Usage: /removechannel @name|-100… [FEED_ID…] — without feed ids the channel "
        "gets nothing more.",
        "Usage: /removechannel @name [FEED_ID…]",
    )
    if parsed is None:
        return
    ref, wanted = parsed
    channel = await _stored_channel(context, ref)
    if channel is None:
        await reply(update, f"{esc(str(ref))} is not one of the bot's channels. Nothing changed.")
        return
    if wanted is None:
        try:
            had = await svc.store.remove_channel(channel.chat.id)
        except ChatNotFoundError:
            await reply(update, f"{esc(str(ref))} was already removed.")
            return
        await reply(
            update,
            f"Removed the channel {_name(channel.chat, channel.username)}: it had {had} "
            "subscription(s) and gets no more statements or daily messages.",
        )
        return
    removed = await svc.store.unsubscribe(channel.chat.id, wanted)
    channel = await svc.store.find_channel(channel.chat.id)
    assert channel is not None
    what = f"stopped feed(s) {', '.join(map(str, removed))}" if removed else "no change"
    await reply(update, f"{what.capitalize()}.\n{render_channel(channel)}")


@admin_only
async def _channel_settings(update: Update, context: Context) -> None:
    # A MessageHandler brings no context.args: split the text as CommandHandler would.
    message = update.effective_message
    args = ((message.text or "") if message else "").split()[1:]
    ref = parse_channel_ref(args[0]) if args else None
    if ref is None:
        await reply(update, SETTINGS_USAGE)
        return
    try:
        wanted = parse_channel_settings(args[1:])
    except ValueError as exc:
        await reply(update, f"{SETTINGS_USAGE}\n{exc}. Nothing changed.")
        return
    channel = await _stored_channel(context, ref)
    if channel is None:
        await reply(
            update,
            f"{esc(str(ref))} is not one of the bot's channels: add it with "
            f"<code>/addchannel {esc(str(ref))}</code>. Nothing changed.",
        )
        return
    if not wanted.empty:
        await services(context).store.update_chat_settings(
            channel.chat.id,
            timezone=wanted.timezone,
            daily_time=wanted.daily_time,
            daily_enabled=wanted.daily_enabled,
        )
        channel = await services(context).store.find_channel(channel.chat.id)
        assert channel is not None
    head = "Saved." if not wanted.empty else "Settings of the channel:"
    await reply(update, f"{head}\n{render_channel(channel)}")


async def channel_settings(update: Update, context: Context) -> None:
    """`/settings @channel …` (registered ahead of the chat's own /settings): admins
    set a channel's daily message. It always stops there, refused or done."""
    await _channel_settings(update, context)
    raise ApplicationHandlerStop

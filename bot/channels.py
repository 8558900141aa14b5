"""Channels as subscribers: admins add and remove them and set their daily message.

A channel cannot send the bot commands, so everything is done by an admin from
their own chat: `/addchannel @name [FEED_ID…|all]` (the bot first asks Telegram,
with getChatMember, whether it may post there), `/removechannel @name
[FEED_ID…]`, and `/settings @name time 08:00` for the channel's daily message
(`language ru` for the language it is posted in). The admin is answered in their
own chat's language; Telegram's own words (why a chat cannot be seen) are quoted.
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
from bot.replies import Context, args_of, language_of, reply
from bot.services import services
from storage.errors import ChatNotFoundError
from storage.models import Chat
from storage.store import Channel
from text.dates import canonical_zone, parse_time
from text.i18n import LANGUAGES, N_, Translator, translator
from text.markup import esc

# Public channel usernames are 5-32 characters; ids of channels start with -100.
_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_CHANNEL_ID = re.compile(r"-100\d{1,16}")

HOW_TO_ALLOW = N_(
    "In the channel: Administrators → Add Admin → this bot, with “Post messages” "
    "allowed. Then send /addchannel again."
)
SETTINGS_USAGE = N_(
    "Usage: /settings @channel [time HH:MM] [zone Area/City] [daily on|off] [language en|ru]"
    " — for example <code>/settings @mychannel time 08:00 zone Europe/Moscow</code>"
)
ADDCHANNEL_USAGE = N_(
    "Usage: /addchannel @name|-100… [FEED_ID…|all] — e.g. "
    "<code>/addchannel @mychannel all</code> or <code>/addchannel -1001234567890 1 3</code>"
)
ADDCHANNEL_SHORT_USAGE = N_("Usage: /addchannel @name [FEED_ID…|all]")
REMOVECHANNEL_USAGE = N_(
    "Usage: /removechannel @name|-100… [FEED_ID…] — without feed ids the channel gets nothing more."
)
REMOVECHANNEL_SHORT_USAGE = N_("Usage: /removechannel @name [FEED_ID…]")
NOT_OURS = N_("{channel} is not one of the bot's channels. Nothing changed.")


def parse_channel_ref(arg: str) -> int | str | None:
    """`@name` → "@name", `-100…` → the id; anything else → None."""
    if _USERNAME.fullmatch(arg):
        return arg
    if _CHANNEL_ID.fullmatch(arg):
        return int(arg)
    return None


def parse_feed_selection(args: list[str], tr: Translator | None = None) -> list[int] | None:
    """`all` (or nothing) → None, every feed; ids → the ids. Bad → ValueError (its
    reason in `tr`'s language, as HTML)."""
    _ = (tr or translator("en")).gettext
    if not args or [a.lower() for a in args] == ["all"]:
        return None
    ids: list[int] = []
    for arg in args:
        for part in arg.split(","):
            if not part:
                continue
            if not part.isdigit() or len(part) > 9:
                raise ValueError(_("«{id}» is not a feed id").format(id=esc(part[:20])))
            ids.append(int(part))
    if not ids:
        raise ValueError(_("no feed ids given"))
    return list(dict.fromkeys(ids))


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    daily_time: time | None = None
    timezone: str | None = None
    daily_enabled: bool | None = None
    language: str | None = None

    @property
    def empty(self) -> bool:
        return (
            self.daily_time is None
            and self.timezone is None
            and self.daily_enabled is None
            and self.language is None
        )


def parse_channel_settings(args: list[str], tr: Translator | None = None) -> ChannelSettings:
    """`time HH:MM`, `zone Area/City`, `daily on|off`, `language en|ru`, in any order.
    Bad → ValueError (its reason in `tr`'s language, as HTML)."""
    _ = (tr or translator("en")).gettext
    if len(args) % 2:
        raise ValueError(_("give each setting a value, e.g. time 08:00"))
    at: time | None = None
    zone: str | None = None
    enabled: bool | None = None
    language: str | None = None
    for key, value in zip(args[::2], args[1::2], strict=True):
        key = key.lower()
        if key == "time":
            at = parse_time(value)
            if at is None:
                raise ValueError(
                    _("«{value}» is not a time as HH:MM (24-hour)").format(value=esc(value[:20]))
                )
        elif key in ("zone", "timezone", "tz"):
            zone = canonical_zone(value)
            if zone is None:
                raise ValueError(
                    _(
                        "«{value}» is not a time zone; use an IANA name such as Europe/London"
                    ).format(value=esc(value[:40]))
                )
        elif key == "daily":
            if value.lower() not in ("on", "off"):
                raise ValueError(_("daily is on or off"))
            enabled = value.lower() == "on"
        elif key in ("language", "lang"):
            if value.lower() not in LANGUAGES:
                raise ValueError(
                    _("«{value}» is not a language of the bot: {languages}").format(
                        value=esc(value[:20]), languages=", ".join(LANGUAGES)
                    )
                )
            language = value.lower()
        else:
            raise ValueError(
                _("«{value}» is not a setting: time, zone, daily or language").format(
                    value=esc(key[:20])
                )
            )
    return ChannelSettings(at, zone, enabled, language)


def _name(chat: Chat, username: str | None) -> str:
    handle = f"@{username}" if username else str(chat.id)
    return f"<b>{esc(chat.title or handle)}</b> ({esc(handle)})"


def render_channel(channel: Channel, language: str = "en", *, default_language: str = "en") -> str:
    """A channel as an admin reading `language` sees it: name, state, feeds, daily
    message, and its language when it is not the bot's default."""
    _ = translator(language).gettext
    chat = channel.chat
    feeds = ", ".join(str(i) for i in sorted(channel.feed_ids)) or _("none")
    daily = (
        f"{chat.daily_time.strftime('%H:%M')} {esc(chat.timezone)}"
        if chat.daily_enabled
        else _("off")
    )
    state = (
        ""
        if chat.active
        # The reason as it was recorded (Telegram's words, or the store's).
        else _(" — inactive: {reason}").format(reason=esc(chat.inactive_reason or "unknown"))
    )
    if chat.language == default_language:
        details = _("feeds: {feeds}; daily message: {daily}").format(feeds=feeds, daily=daily)
    else:
        details = _("feeds: {feeds}; daily message: {daily}; language: {language}").format(
            feeds=feeds, daily=daily, language=chat.language
        )
    return f"{_name(chat, channel.username)}{state}\n{details}"


def render_channel_list(
    channels: list[Channel], language: str = "en", *, default_language: str = "en"
) -> str:
    _ = translator(language).gettext
    if not channels:
        return _("No channels yet.")
    shown = (render_channel(c, language, default_language=default_language) for c in channels)
    return _("<b>Channels</b>") + "\n\n" + "\n\n".join(shown)


def _render(context: Context, channel: Channel, language: str) -> str:
    default = services(context).store.default_language
    return render_channel(channel, language, default_language=default)


async def _may_post(
    context: Context, ref: int | str, tr: Translator
) -> tuple[int, str, str | None] | str:
    """(chat id, title, username) when the bot may post in the channel, else why not."""
    _ = tr.gettext
    how_to_allow = _(HOW_TO_ALLOW)
    try:
        chat = await context.bot.get_chat(ref)
    except (BadRequest, Forbidden) as exc:
        return _(
            "Telegram does not show the bot a channel {channel} ({error}). "
            "Check the name, and add the bot to the channel first. {how_to_allow}"
        ).format(channel=esc(str(ref)), error=esc(exc.message), how_to_allow=how_to_allow)
    if chat.type != ChatType.CHANNEL:
        return _(
            "{chat} is a {type}, not a channel. In a group, the group's "
            "admins add the bot and use /subscribe there."
        ).format(chat=esc(str(ref)), type=esc(chat.type))
    title = chat.title or (f"@{chat.username}" if chat.username else str(chat.id))
    try:
        member = await context.bot.get_chat_member(chat.id, context.bot.id)
    except (BadRequest, Forbidden) as exc:
        return _("Could not check the bot's rights in {title}: {error}. {how_to_allow}").format(
            title=esc(title), error=esc(exc.message), how_to_allow=how_to_allow
        )
    if member.status == ChatMemberStatus.OWNER:
        return chat.id, title, chat.username
    if member.status == ChatMemberStatus.ADMINISTRATOR:
        if getattr(member, "can_post_messages", False):
            return chat.id, title, chat.username
        return _(
            "The bot is an administrator of {title} but may not post messages. In the "
            "channel: Administrators → this bot → turn on “Post messages”. Then send "
            "/addchannel again."
        ).format(title=esc(title))
    return _(
        "The bot is not an administrator of {title}, so it cannot post there. {how_to_allow}"
    ).format(title=esc(title), how_to_allow=how_to_allow)


async def _channel_arguments(
    update: Update, context: Context, language: str, usage: str, short_usage: str
) -> tuple[int | str, list[int] | None] | None:
    """`@name|-100… [FEED_ID…|all]` → (channel, feeds or None for all); on bad input
    the usage is the reply (with the channels there are) and the result is None.
    `usage` and `short_usage` are their messages, translated here."""
    tr = translator(language)
    args = args_of(context)
    ref = parse_channel_ref(args[0]) if args else None
    if ref is None:
        store = services(context).store
        listing = render_channel_list(
            await store.list_channels(), language, default_language=store.default_language
        )
        await reply(update, f"{tr.gettext(usage)}\n\n{listing}")
        return None
    try:
        return ref, parse_feed_selection(args[1:], tr)
    except ValueError as exc:
        await reply(update, f"{tr.gettext(short_usage)} — {exc}.")
        return None


@admin_only
async def addchannel(update: Update, context: Context) -> None:
    """`/addchannel @name|-100… [FEED_ID…|all]`: the channel subscribes (default: all)."""
    svc = services(context)
    language = await language_of(update, context)
    tr = translator(language)
    _ = tr.gettext
    parsed = await _channel_arguments(
        update, context, language, ADDCHANNEL_USAGE, ADDCHANNEL_SHORT_USAGE
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
                _("There is no feed {ids}; /feedstatus lists the ids. Nothing changed.").format(
                    ids=", ".join(map(str, unknown))
                ),
            )
            return
    checked = await _may_post(context, ref, tr)
    if isinstance(checked, str):
        await reply(update, _("Not added. {reason}").format(reason=checked))
        return
    chat_id, title, username = checked
    user = update.effective_user
    await svc.store.add_channel(chat_id, title, username, user.id if user else 0)
    added = await svc.store.subscribe(chat_id, sorted(feeds) if wanted is None else wanted)
    channel = await svc.store.find_channel(chat_id)
    assert channel is not None
    handle = esc(f"@{username}" if username else str(chat_id))
    if added:
        head = _("The channel receives new statements now (newly subscribed: {feeds}).").format(
            feeds=", ".join(map(str, added))
        )
    elif channel.feed_ids:
        head = _("The channel receives new statements now (no new feeds).")
    else:
        head = _(
            "The channel receives new statements now (no new feeds — there are no feeds"
            " yet: add some with /addfeed, then /addchannel again)."
        )
    how = _(
        "Its daily message: <code>/settings {handle} time 08:00 zone Europe/London</code>"
        " or <code>daily off</code>. Stop: <code>/removechannel {handle}</code>"
    ).format(handle=handle)
    await reply(update, f"{head}\n{_render(context, channel, language)}\n\n{how}")


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
    language = await language_of(update, context)
    tr = translator(language)
    _ = tr.gettext
    parsed = await _channel_arguments(
        update, context, language, REMOVECHANNEL_USAGE, REMOVECHANNEL_SHORT_USAGE
    )
    if parsed is None:
        return
    ref, wanted = parsed
    channel = await _stored_channel(context, ref)
    if channel is None:
        await reply(update, _(NOT_OURS).format(channel=esc(str(ref))))
        return
    if wanted is None:
        try:
            had = await svc.store.remove_channel(channel.chat.id)
        except ChatNotFoundError:
            await reply(update, _("{channel} was already removed.").format(channel=esc(str(ref))))
            return
        await reply(
            update,
            tr.ngettext(
                "Removed the channel {channel}: it had {count} subscription(s) and gets no more "
                "statements or daily messages.",
                "Removed the channel {channel}: it had {count} subscription(s) and gets no more "
                "statements or daily messages.",
                had,
            ).format(channel=_name(channel.chat, channel.username), count=had),
        )
        return
    removed = await svc.store.unsubscribe(channel.chat.id, wanted)
    channel = await svc.store.find_channel(channel.chat.id)
    assert channel is not None
    if removed:
        what = _("Stopped feed(s) {feeds}.").format(feeds=", ".join(map(str, removed)))
    else:
        what = _("No change.")
    await reply(update, f"{what}\n{_render(context, channel, language)}")


@admin_only
async def _channel_settings(update: Update, context: Context) -> None:
    language = await language_of(update, context)
    tr = translator(language)
    _ = tr.gettext
    # A MessageHandler brings no context.args: split the text as CommandHandler would.
    message = update.effective_message
    args = ((message.text or "") if message else "").split()[1:]
    ref = parse_channel_ref(args[0]) if args else None
    if ref is None:
        await reply(update, _(SETTINGS_USAGE))
        return
    try:
        wanted = parse_channel_settings(args[1:], tr)
    except ValueError as exc:
        await reply(
            update,
            _("{usage}\n{error}. Nothing changed.").format(usage=_(SETTINGS_USAGE), error=exc),
        )
        return
    channel = await _stored_channel(context, ref)
    if channel is None:
        await reply(
            update,
            _(
                "{channel} is not one of the bot's channels: add it with "
                "<code>/addchannel {channel}</code>. Nothing changed."
            ).format(channel=esc(str(ref))),
        )
        return
    if not wanted.empty:
        await services(context).store.update_chat_settings(
            channel.chat.id,
            timezone=wanted.timezone,
            daily_time=wanted.daily_time,
            daily_enabled=wanted.daily_enabled,
            language=wanted.language,
        )
        channel = await services(context).store.find_channel(channel.chat.id)
        assert channel is not None
    head = _("Saved.") if not wanted.empty else _("Settings of the channel:")
    await reply(update, f"{head}\n{_render(context, channel, language)}")


async def channel_settings(update: Update, context: Context) -> None:
    """`/settings @channel …` (registered ahead of the chat's own /settings): admins
    set a channel's daily message. It always stops there, refused or done."""
    await _channel_settings(update, context)
    raise ApplicationHandlerStop

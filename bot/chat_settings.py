"""/settings: a chat's daily message time, time zone and on/off, shown with buttons
that change them in place. Anyone may change them in a private chat; in a group,
only the group's admins (a member sees them, and is told who can change them).

Arguments: `/settings time 08:00`, `/settings zone Europe/Berlin`,
`/settings daily on|off`. Rendering and parsing are pure; the handlers parse,
call the store once and reply.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.replies import (
    GROUP_ADMINS_ONLY,
    Context,
    args_of,
    can_manage_chat,
    edit,
    remember_chat,
    reply,
)
from bot.services import services
from storage.models import Chat as StoredChat
from text.dates import (
    canonical_zone,
    clock_label,
    due_instant,
    format_date,
    is_valid_zone,
    parse_time,
)
from text.markup import esc

log = logging.getLogger(__name__)

PREFIX = "st:"
# Offered as buttons; any other IANA zone is one `/settings zone Area/City` away.
COMMON_ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Sydney",
)
ZONE_EXAMPLES = "Europe/London, Europe/Berlin, Europe/Moscow, America/New_York, Asia/Tokyo"
USAGE = (
    "Usage:\n"
    "/settings — show the daily message settings, with buttons\n"
    "/settings time HH:MM — for example <code>/settings time 08:00</code>\n"
    "/settings zone Area/City — for example <code>/settings zone Europe/Berlin</code>\n"
    "/settings daily on or /settings daily off\n"
    "/settings pushes instant or /settings pushes digest — each statement as it comes, "
    "or the day's statements in one message at the daily time"
)
STALE = "That button is no longer valid. Send /settings again."


@dataclass(frozen=True, slots=True)
class Change:
    """What one command or button asks to change (None: leave as it is)."""

    timezone: str | None = None
    daily_time: time | None = None
    daily_enabled: bool | None = None
    pushes: str | None = None

    def describe(self) -> str:
        """A short confirmation, plain text (fits a callback answer)."""
        if self.pushes is not None:
            if self.pushes == "digest":
                return "New statements: one digest a day"
            return "New statements: each as it comes"
        if self.daily_enabled is not None:
            return "Daily message on" if self.daily_enabled else "Daily message off"
        if self.daily_time is not None:
            return f"Daily time set to {self.daily_time:%H:%M}"
        return f"Time zone set to {self.timezone}"


# ------------------------------------------------------------------- parsing


def parse_settings_args(args: list[str]) -> Change | str:
    """The change the arguments ask for, or a reply (HTML) saying what is wrong."""
    if len(args) != 2:
        return USAGE
    what, value = args[0].lower(), args[1]
    if what == "time":
        at = parse_time(value)
        if at is None:
            return f"«{esc(value[:20])}» is not a time. {USAGE}"
        return Change(daily_time=at)
    if what in ("zone", "timezone", "tz"):
        zone = canonical_zone(value)
        if zone is None:
            return (
                f"«{esc(value[:40])}» is not a time zone I know. Use an IANA name "
                f"(Area/City), such as {ZONE_EXAMPLES}.\n"
                "For example: <code>/settings zone Europe/Berlin</code>"
            )
        return Change(timezone=zone)
    if what == "daily":
        if value.lower() in ("on", "off"):
            return Change(daily_enabled=value.lower() == "on")
        return f"«{esc(value[:20])}» is neither on nor off. {USAGE}"
    if what == "pushes":
        if value.lower() in ("instant", "digest"):
            return Change(pushes=value.lower())
        return f"«{esc(value[:20])}» is neither instant nor digest. {USAGE}"
    return USAGE


def parse_button(data: str) -> Change | None:
    """`st:d:1|0`, `st:t:HHMM` or `st:z:Area/City` → the change; None if not ours or bad."""
    if not data.startswith(PREFIX):
        return None
    kind, _, value = data[len(PREFIX) :].partition(":")
    if kind == "d" and value in ("0", "1"):
        return Change(daily_enabled=value == "1")
    if kind == "p" and value in ("instant", "digest"):
        return Change(pushes=value)
    if kind == "t" and len(value) == 4 and value.isdigit():
        at = parse_time(f"{value[:2]}:{value[2:]}")
        return None if at is None else Change(daily_time=at)
    if kind == "z" and is_valid_zone(value) and "/" in value:
        return Change(timezone=value)
    return None


# ----------------------------------------------------------------- rendering


def _shift(at: time, hours: int) -> time:
    moved = datetime.combine(date(2000, 1, 1), at) + timedelta(hours=hours)
    return moved.time()


def describe_next(chat: StoredChat, now: datetime, *, sent_today: bool) -> str:
    """When the next daily message comes, by the scheduler's rules (plain text)."""
    tz = ZoneInfo(chat.timezone)
    today = now.astimezone(tz).date()
    if sent_today:
        return f"tomorrow at {chat.daily_time:%H:%M} (today's has been sent)"
    due = due_instant(today, chat.daily_time, tz)
    if now < due:
        return f"today at {due.astimezone(tz):%H:%M}"
    return "within a minute (today's time has passed and it has not been sent yet)"


def render_settings(
    chat: StoredChat,
    now: datetime,
    *,
    sent_today: bool,
    subscribed: bool,
    can_change: bool = True,
    note: str | None = None,
) -> str:
    """The /settings message as Telegram HTML."""
    tz = ZoneInfo(chat.timezone)
    local = now.astimezone(tz)
    lines = [f"<b>{esc(note)}</b>", ""] if note else []
    lines += [
        "<b>Daily counter message</b>",
        f"Daily message: {'on' if chat.daily_enabled else 'off'}",
        f"Time: {chat.daily_time:%H:%M}",
        f"Time zone: {esc(chat.timezone)} (there it is {local:%H:%M}, {esc(format_date(now, tz))})",
    ]
    if chat.daily_enabled and subscribed:
        lines.append(f"Next: {esc(describe_next(chat, now, sent_today=sent_today))}")
    lines.append(
        "New statements: one digest a day, at the daily time"
        if chat.pushes == "digest"
        else "New statements: each as it comes"
    )
    if chat.daily_enabled and not subscribed:
        lines += [
            "",
            "The daily message goes to chats that follow at least one feed: /feeds lists them.",
        ]
    lines.append("")
    if can_change:
        lines.append(
            "Change them with the buttons, or: <code>/settings time 08:00</code>, "
            "<code>/settings zone Europe/Berlin</code>, <code>/settings daily off</code>, "
            "<code>/settings pushes digest</code>"
        )
    else:
        lines.append(esc(GROUP_ADMINS_ONLY))
    return "\n".join(lines)


def settings_keyboard(chat: StoredChat) -> InlineKeyboardMarkup:
    """Buttons that set an absolute value, so a double press or an old message's
    button does exactly what its label says."""
    earlier, later = _shift(chat.daily_time, -1), _shift(chat.daily_time, 1)
    toggle = (
        InlineKeyboardButton("Turn the daily message off", callback_data=f"{PREFIX}d:0")
        if chat.daily_enabled
        else InlineKeyboardButton("Turn the daily message on", callback_data=f"{PREFIX}d:1")
    )
    rows = [
        [toggle],
        [
            InlineKeyboardButton(
                f"−1 h ({earlier:%H:%M})", callback_data=f"{PREFIX}t:{earlier:%H%M}"
            ),
            InlineKeyboardButton(f"+1 h ({later:%H:%M})", callback_data=f"{PREFIX}t:{later:%H%M}"),
        ],
    ]
    zone_buttons = [
        InlineKeyboardButton(
            ("✓ " if zone == chat.timezone else "") + clock_label(zone),
            callback_data=f"{PREFIX}z:{zone}",
        )
        for zone in COMMON_ZONES
    ]
    rows += [zone_buttons[i : i + 3] for i in range(0, len(zone_buttons), 3)]
    rows.append(
        [
            InlineKeyboardButton("Each statement as it comes", callback_data=f"{PREFIX}p:instant")
            if chat.pushes == "digest"
            else InlineKeyboardButton("One digest a day instead", callback_data=f"{PREFIX}p:digest")
        ]
    )
    return InlineKeyboardMarkup(rows)


# ------------------------------------------------------------------ handlers


async def _view(
    context: Context, chat: StoredChat, *, can_change: bool, note: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    svc = services(context)
    now = svc.clock()
    today = now.astimezone(ZoneInfo(chat.timezone)).date()
    text = render_settings(
        chat,
        now,
        sent_today=await svc.store.daily_sent(chat.id, today),
        subscribed=bool(await svc.store.subscriptions(chat.id)),
        can_change=can_change,
        note=note,
    )
    return text, settings_keyboard(chat) if can_change else None


async def settings(update: Update, context: Context) -> None:
    """`/settings [time HH:MM | zone Area/City | daily on|off]`."""
    args = args_of(context)
    may_change = await can_manage_chat(update, context)
    if args and not may_change:
        await reply(update, GROUP_ADMINS_ONLY)
        return
    change = parse_settings_args(args) if args else None
    if isinstance(change, str):
        await reply(update, change)
        return
    stored = await remember_chat(update, context, reactivate=change is not None)
    note = None
    if change is not None:
        stored = await services(context).store.update_chat_settings(
            stored.id,
            timezone=change.timezone,
            daily_time=change.daily_time,
            daily_enabled=change.daily_enabled,
            pushes=change.pushes,
        )
        note = change.describe()
        log.info("chat %s settings: %s", stored.id, note)
    text, markup = await _view(context, stored, can_change=may_change, note=note)
    await reply(update, text, markup)


def _is_settings_message(message: object) -> bool:
    """A settings button is only honoured under a settings message (a forged press
    under another of our messages must not turn it into this one)."""
    if not isinstance(message, Message) or message.reply_markup is None:
        return False
    return any(
        isinstance(button.callback_data, str) and button.callback_data.startswith(PREFIX)
        for row in message.reply_markup.inline_keyboard
        for button in row
    )


async def settings_button(update: Update, context: Context) -> None:
    """The buttons under /settings: each sets one value and redraws the message."""
    query = update.callback_query
    assert query is not None
    change = parse_button(query.data or "")
    if change is None or not _is_settings_message(query.message):
        await query.answer(STALE)
        return
    if not await can_manage_chat(update, context):
        await query.answer(GROUP_ADMINS_ONLY, show_alert=True)
        return
    stored = await remember_chat(update, context, reactivate=True)
    stored = await services(context).store.update_chat_settings(
        stored.id,
        timezone=change.timezone,
        daily_time=change.daily_time,
        daily_enabled=change.daily_enabled,
        pushes=change.pushes,
    )
    log.info("chat %s settings (button): %s", stored.id, change.describe())
    text, markup = await _view(context, stored, can_change=True)
    # Redrawn before the answer, so the spinner stops on the new state; a failed
    # edit still gets the query answered, by the error handler.
    await edit(query, text, markup)
    await query.answer(change.describe())

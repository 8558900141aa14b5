"""/settings: a chat's daily message time, time zone and on/off, how statements
arrive and the language the bot speaks there, shown with buttons that change them
in place. Anyone may change them in a private chat; in a group, only the group's
admins (a member sees them, and is told who can change them).

Arguments: `/settings time 08:00`, `/settings zone Europe/Berlin`,
`/settings daily on|off`, `/settings pushes instant|digest`,
`/settings language ru|en` (`/settings language` alone: a button per language).
Rendering and parsing are pure; the handlers parse, call the store once and reply,
in the chat's language (after a change of language, in the new one).
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
    language_of,
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
from text.i18n import LANGUAGES, N_, NAMES, supported, translator
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
USAGE = N_(
    "Usage:\n"
    "/settings — show the daily message settings, with buttons\n"
    "/settings time HH:MM — for example <code>/settings time 08:00</code>\n"
    "/settings zone Area/City — for example <code>/settings zone Europe/Berlin</code>\n"
    "/settings daily on or /settings daily off\n"
    "/settings pushes instant or /settings pushes digest — each statement as it comes, "
    "or the day's statements in one message at the daily time\n"
    "/settings language en or /settings language ru — the language I speak here"
)
STALE = N_("That button is no longer valid. Send /settings again.")
LANGUAGE_WORDS = ("language", "lang")


@dataclass(frozen=True, slots=True)
class Change:
    """What one command or button asks to change (None: leave as it is)."""

    timezone: str | None = None
    daily_time: time | None = None
    daily_enabled: bool | None = None
    pushes: str | None = None
    language: str | None = None

    def describe(self, language: str = "en") -> str:
        """A short confirmation, plain text (fits a callback answer), in `language`
        (the chat's, which after a change of language is the new one)."""
        _ = translator(language).gettext
        if self.language is not None:
            return _("Language: {name}").format(name=NAMES[self.language])
        if self.pushes is not None:
            if self.pushes == "digest":
                return _("New statements: one digest a day")
            return _("New statements: each as it comes")
        if self.daily_enabled is not None:
            return _("Daily message on") if self.daily_enabled else _("Daily message off")
        if self.daily_time is not None:
            return _("Daily time set to {time}").format(time=f"{self.daily_time:%H:%M}")
        return _("Time zone set to {zone}").format(zone=self.timezone)


# ------------------------------------------------------------------- parsing


# Besides the codes ("ru", "ru-RU"), the names people type for our languages.
_BY_NAME = {"english": "en", "английский": "en", "russian": "ru", "русский": "ru"}


def parse_language(value: str) -> str | None:
    """One of our languages, by its code or its name in English or Russian; None
    otherwise."""
    return supported(value) or _BY_NAME.get(value.casefold())


def parse_settings_args(args: list[str], language: str = "en") -> Change | str:
    """The change the arguments ask for, or a reply (HTML, in `language`) saying what
    is wrong."""
    _ = translator(language).gettext
    usage = _(USAGE)
    if len(args) != 2:
        return usage
    what, value = args[0].lower(), args[1]
    if what == "time":
        at = parse_time(value)
        if at is None:
            return _("«{value}» is not a time. {usage}").format(value=esc(value[:20]), usage=usage)
        return Change(daily_time=at)
    if what in ("zone", "timezone", "tz"):
        zone = canonical_zone(value)
        if zone is None:
            return _(
                "«{value}» is not a time zone I know. Use an IANA name "
                "(Area/City), such as {examples}.\n"
                "For example: <code>/settings zone Europe/Berlin</code>"
            ).format(value=esc(value[:40]), examples=ZONE_EXAMPLES)
        return Change(timezone=zone)
    if what == "daily":
        if value.lower() in ("on", "off"):
            return Change(daily_enabled=value.lower() == "on")
        text = _("«{value}» is neither on nor off. {usage}")
        return text.format(value=esc(value[:20]), usage=usage)
    if what == "pushes":
        if value.lower() in ("instant", "digest"):
            return Change(pushes=value.lower())
        text = _("«{value}» is neither instant nor digest. {usage}")
        return text.format(value=esc(value[:20]), usage=usage)
    if what in LANGUAGE_WORDS:
        chosen = parse_language(value)
        if chosen is not None:
            return Change(language=chosen)
        text = _("«{value}» is not a language I speak: choose {languages}.")
        return text.format(value=esc(value[:20]), languages=_language_list())
    return usage


def _language_list() -> str:
    """The languages as `/settings language` takes them: "en (English), ru (Русский)"."""
    return ", ".join(f"<code>{code}</code> ({NAMES[code]})" for code in LANGUAGES)


def parse_button(data: str) -> Change | None:
    """`st:d:1|0`, `st:p:instant|digest`, `st:t:HHMM`, `st:z:Area/City` or
    `st:l:LANGUAGE` → the change; None if not ours or bad."""
    if not data.startswith(PREFIX):
        return None
    kind, _, value = data[len(PREFIX) :].partition(":")
    if kind == "d" and value in ("0", "1"):
        return Change(daily_enabled=value == "1")
    if kind == "l" and value in LANGUAGES:
        return Change(language=value)
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
    """When the next daily message comes, by the scheduler's rules (plain text, in
    the chat's language)."""
    _ = translator(chat.language).gettext
    tz = ZoneInfo(chat.timezone)
    today = now.astimezone(tz).date()
    if sent_today:
        text = _("tomorrow at {time} (today's has been sent)")
        return text.format(time=f"{chat.daily_time:%H:%M}")
    due = due_instant(today, chat.daily_time, tz)
    if now < due:
        return _("today at {time}").format(time=f"{due.astimezone(tz):%H:%M}")
    return _("within a minute (today's time has passed and it has not been sent yet)")


def render_settings(
    chat: StoredChat,
    now: datetime,
    *,
    sent_today: bool,
    subscribed: bool,
    can_change: bool = True,
    note: str | None = None,
) -> str:
    """The /settings message as Telegram HTML, in the chat's language."""
    language = chat.language
    _ = translator(language).gettext
    tz = ZoneInfo(chat.timezone)
    local = now.astimezone(tz)
    lines = [f"<b>{esc(note)}</b>", ""] if note else []
    lines += [
        _("<b>Daily counter message</b>"),
        _("Daily message: on") if chat.daily_enabled else _("Daily message: off"),
        _("Time: {time}").format(time=f"{chat.daily_time:%H:%M}"),
        _("Time zone: {zone} (there it is {time}, {date})").format(
            zone=esc(chat.timezone),
            time=f"{local:%H:%M}",
            date=esc(format_date(now, tz, language)),
        ),
    ]
    if chat.daily_enabled and subscribed:
        when = esc(describe_next(chat, now, sent_today=sent_today))
        lines.append(_("Next: {when}").format(when=when))
    lines.append(
        _("New statements: one digest a day, at the daily time")
        if chat.pushes == "digest"
        else _("New statements: each as it comes")
    )
    lines.append(_("Language: {name}").format(name=esc(NAMES.get(language, language))))
    if chat.daily_enabled and not subscribed:
        lines += [
            "",
            _("The daily message goes to chats that follow at least one feed: /feeds lists them."),
        ]
    lines.append("")
    if can_change:
        other = next((code for code in LANGUAGES if code != language), language)
        lines.append(
            _(
                "Change them with the buttons, or: <code>/settings time 08:00</code>, "
                "<code>/settings zone Europe/Berlin</code>, <code>/settings daily off</code>, "
                "<code>/settings pushes digest</code>, <code>/settings language {language}</code>"
            ).format(language=other)
        )
    else:
        lines.append(esc(_(GROUP_ADMINS_ONLY)))
    return "\n".join(lines)


def settings_keyboard(chat: StoredChat) -> InlineKeyboardMarkup:
    """Buttons that set an absolute value, so a double press or an old message's
    button does exactly what its label says."""
    language = chat.language
    _ = translator(language).gettext
    earlier, later = _shift(chat.daily_time, -1), _shift(chat.daily_time, 1)
    toggle = (
        InlineKeyboardButton(_("Turn the daily message off"), callback_data=f"{PREFIX}d:0")
        if chat.daily_enabled
        else InlineKeyboardButton(_("Turn the daily message on"), callback_data=f"{PREFIX}d:1")
    )
    rows = [
        [toggle],
        [
            InlineKeyboardButton(
                _("−1 h ({time})").format(time=f"{earlier:%H:%M}"),
                callback_data=f"{PREFIX}t:{earlier:%H%M}",
            ),
            InlineKeyboardButton(
                _("+1 h ({time})").format(time=f"{later:%H:%M}"),
                callback_data=f"{PREFIX}t:{later:%H%M}",
            ),
        ],
    ]
    zone_buttons = [
        InlineKeyboardButton(
            ("✓ " if zone == chat.timezone else "") + clock_label(zone, language),
            callback_data=f"{PREFIX}z:{zone}",
        )
        for zone in COMMON_ZONES
    ]
    rows += [zone_buttons[i : i + 3] for i in range(0, len(zone_buttons), 3)]
    rows.append(
        [
            InlineKeyboardButton(
                _("Each statement as it comes"), callback_data=f"{PREFIX}p:instant"
            )
            if chat.pushes == "digest"
            else InlineKeyboardButton(
                _("One digest a day instead"), callback_data=f"{PREFIX}p:digest"
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


def render_language_choice(chat: StoredChat) -> str:
    """What `/settings language` says above its buttons, in the chat's language."""
    _ = translator(chat.language).gettext
    text = _("The bot speaks {name} in this chat. Tap a language to change it.")
    return text.format(name=esc(NAMES.get(chat.language, chat.language)))


def language_keyboard(chat: StoredChat) -> InlineKeyboardMarkup:
    """A button per language, each labelled in its own language (so whoever cannot
    read the current one still finds theirs); ✓ marks the chat's."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    ("✓ " if code == chat.language else "") + NAMES[code],
                    callback_data=f"{PREFIX}l:{code}",
                )
                for code in LANGUAGES
            ]
        ]
    )


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
    """`/settings [time HH:MM | zone Area/City | daily on|off | pushes instant|digest
    | language en|ru]`; `/settings language` alone offers a button per language."""
    args = args_of(context)
    may_change = await can_manage_chat(update, context)
    language = await language_of(update, context)
    if args and not may_change:
        await reply(update, translator(language).gettext(GROUP_ADMINS_ONLY))
        return
    if len(args) == 1 and args[0].lower() in LANGUAGE_WORDS:
        stored = await remember_chat(update, context, reactivate=False)
        await reply(update, render_language_choice(stored), language_keyboard(stored))
        return
    change = parse_settings_args(args, language) if args else None
    if isinstance(change, str):
        await reply(update, change)
        return
    stored = await remember_chat(update, context, reactivate=change is not None)
    note = None
    if change is not None:
        stored = await _apply(context, stored, change)
        # Said in the chat's language, the new one if that is what changed.
        note = change.describe(stored.language)
        log.info("chat %s settings: %s", stored.id, change.describe())
    text, markup = await _view(context, stored, can_change=may_change, note=note)
    await reply(update, text, markup)


async def _apply(context: Context, chat: StoredChat, change: Change) -> StoredChat:
    return await services(context).store.update_chat_settings(
        chat.id,
        timezone=change.timezone,
        daily_time=change.daily_time,
        daily_enabled=change.daily_enabled,
        pushes=change.pushes,
        language=change.language,
    )


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
        await query.answer(translator(await language_of(update, context)).gettext(STALE))
        return
    if not await can_manage_chat(update, context):
        _ = translator(await language_of(update, context)).gettext
        await query.answer(_(GROUP_ADMINS_ONLY), show_alert=True)
        return
    stored = await remember_chat(update, context, reactivate=True)
    stored = await _apply(context, stored, change)
    log.info("chat %s settings (button): %s", stored.id, change.describe())
    # A language button under `/settings language` turns its message into the
    # whole settings view, in the language chosen.
    text, markup = await _view(context, stored, can_change=True)
    # Redrawn before the answer, so the spinner stops on the new state; a failed
    # edit still gets the query answered, by the error handler.
    await edit(query, text, markup)
    await query.answer(change.describe(stored.language))

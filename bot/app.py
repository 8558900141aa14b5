"""Application wiring: handlers, jobs and the lifecycle of the store, HTTP client
and delivery task. Everything is put together here and nowhere else."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import (
    USER_AGENT,
    add_source,
    admin,
    channels,
    chat_settings,
    commands,
    full_text_button,
    inline,
    reading,
    saved_searches,
)
from bot.alerts import Alerts
from bot.config import Settings
from bot.health import HEARTBEAT_EVERY, beat, clear_heartbeat, heartbeat_path, write_beat
from bot.limits import PerUserLimit
from bot.logs import hide_secrets
from bot.reading import SEARCHES_PER_MINUTE
from bot.replies import language_of
from bot.services import SERVICES_KEY, Services, services_of
from bot.updates import PerChatUpdateProcessor
from jobs.daily import DailyScheduler
from jobs.delivery import Deliverer
from jobs.delivery_policy import DeliveryTuning
from jobs.fetch import make_client
from jobs.netguard import Resolver
from jobs.paced_replies import PacedReplies
from jobs.poll import Poller
from storage.api import open_store
from text.dates import Clock, utcnow
from text.i18n import LANGUAGES, N_, translator

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]

POLL_TICK = 10.0  # seconds between looks for due feeds
DAILY_TICK = 60.0  # the daily message is checked once a minute

# The command menus, their descriptions in English (translated when published).
USER_COMMANDS = [
    BotCommand("latest", N_("The newest statements")),
    BotCommand("search", N_("Search every statement")),
    BotCommand("feeds", N_("Feeds, with subscribe buttons")),
    BotCommand("subscribe", N_("Follow a feed, or all")),
    BotCommand("unsubscribe", N_("Stop following a feed")),
    BotCommand("alert", N_("QUERY: statements that match, from any feed")),
    BotCommand("alerts", N_("This chat's alerts")),
    BotCommand("filter", N_("FEED_ID QUERY: only what matches from a feed")),
    BotCommand("counters", N_("The daily counter message, now")),
    BotCommand("settings", N_("Daily time, time zone, daily on/off")),
    BotCommand("help", N_("Every command, with examples")),
]
ADMIN_COMMANDS = [
    BotCommand("addfeed", N_("URL [TITLE]: add a feed, or a web page's statements")),
    BotCommand("addpage", N_("URL item=CSS … [TITLE]: a web page, with selectors")),
    BotCommand("removefeed", N_("FEED_ID: remove a feed")),
    BotCommand("pausefeed", N_("FEED_ID: stop polling a feed")),
    BotCommand("resumefeed", N_("FEED_ID: poll a feed again")),
    BotCommand("feedstatus", N_("Health of every feed")),
    BotCommand("pollnow", N_("Poll every feed now")),
    BotCommand("addcounter", N_("YYYY-MM-DD [Area/City] TEMPLATE")),
    BotCommand("removecounter", N_("COUNTER_ID: remove a counter")),
    BotCommand("countertext", N_("COUNTER_ID LANG TEMPLATE: a counter's text in another language")),
    BotCommand("stats", N_("Chats, deliveries, queue, failures")),
    BotCommand("addchannel", N_("@name [FEED_ID|all]: post to a channel")),
    BotCommand("removechannel", N_("@name [FEED_ID]: stop posting to a channel")),
    BotCommand("exportopml", N_("Every feed as an OPML file (send one back to import)")),
]


def menu(commands: list[BotCommand], language: str) -> list[BotCommand]:
    """A command menu with its descriptions in `language`."""
    _ = translator(language).gettext
    return [BotCommand(command.command, _(command.description)) for command in commands]


@dataclass(frozen=True, slots=True)
class Overrides:
    """What tests and console mode swap in; production uses the defaults."""

    clock: Clock = utcnow
    request: BaseRequest | None = None
    get_updates_request: BaseRequest | None = None
    resolver: Resolver | None = None
    rng: random.Random | None = None
    start_jobs: bool = True
    chat_pacing: bool = True
    delivery: DeliveryTuning | None = None  # shorter backoff and pauses in tests
    read_timeout: float | None = None  # seconds; None: PTB's default (5 s)


def build_application(settings: Settings, overrides: Overrides | None = None) -> App:
    """The whole bot, ready for `run_polling`, `run_webhook` or manual start."""
    opts = overrides or Overrides()
    if not settings.token:
        raise ValueError("build_application needs a token (console mode passes its own)")
    # Whoever builds the bot, its token is scrubbed from every log record from now on.
    hide_secrets([settings.token, settings.webhook_secret])
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_file_url)
        .post_init(lambda app: _post_init(app, settings, opts))
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        # Chats at once, each chat's updates in order (see bot.updates).
        .concurrent_updates(PerChatUpdateProcessor())
    )
    if opts.read_timeout is not None and opts.request is None:
        builder = builder.read_timeout(opts.read_timeout)
    if opts.request is not None:
        builder = builder.request(opts.request)
    if opts.get_updates_request is not None:
        builder = builder.get_updates_request(opts.get_updates_request)
    app = builder.build()
    add_handlers(app)
    return app


def add_handlers(app: App) -> None:
    handlers: list[tuple[str, Any]] = [
        ("start", commands.start),
        ("help", commands.help_command),
        ("feeds", commands.feeds),
        ("subscribe", commands.subscribe),
        ("unsubscribe", commands.unsubscribe),
        ("latest", reading.latest),
        ("search", reading.search),
        ("counters", commands.counters),
        ("filter", saved_searches.filter_command),
        ("unfilter", saved_searches.unfilter),
        ("alert", saved_searches.alert),
        ("alerts", saved_searches.alerts),
        ("unalert", saved_searches.unalert),
        ("settings", chat_settings.settings),
        ("addfeed", add_source.addfeed),
        ("addpage", add_source.addpage),
        ("removefeed", admin.removefeed),
        ("pausefeed", admin.pausefeed),
        ("resumefeed", admin.resumefeed),
        ("feedstatus", admin.feedstatus),
        ("pollnow", admin.pollnow),
        ("addcounter", admin.addcounter),
        ("countertext", admin.countertext),
        ("removecounter", admin.removecounter),
        ("stats", admin.stats),
        ("addchannel", channels.addchannel),
        ("removechannel", channels.removechannel),
        ("exportopml", admin.exportopml),
    ]
    for name, callback in handlers:
        # New messages only: editing an old command (a typo fixed in /addfeed) does
        # not run it a second time.
        app.add_handler(CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE))
    # `/settings @channel …` is the admins' path to a channel's settings; it runs
    # ahead of the chat's own /settings and stops the update there.
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.Regex(r"^/settings(@\w+)?\s+(@|-100)"),
            channels.channel_settings,
        ),
        group=-1,
    )
    # An OPML file sent to the bot in a private chat is an import (admins only).
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.ChatType.PRIVATE
            & (
                filters.Document.FileExtension("opml")
                | filters.Document.FileExtension("xml")
                | filters.Document.MimeType("text/x-opml")
            ),
            admin.importopml_document,
        )
    )
    # Last in its group: what no handler above took, in a private chat, gets a hint.
    private_message = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(private_message & filters.COMMAND, commands.unknown_command))
    app.add_handler(
        MessageHandler(private_message & filters.TEXT & ~filters.COMMAND, commands.plain_text)
    )
    app.add_handler(CallbackQueryHandler(commands.feed_button, pattern=r"^f:"))
    app.add_handler(CallbackQueryHandler(reading.latest_button, pattern=r"^l:"))
    app.add_handler(CallbackQueryHandler(reading.search_button, pattern=r"^s:"))
    app.add_handler(CallbackQueryHandler(full_text_button.full_text, pattern=r"^ft:"))
    app.add_handler(CallbackQueryHandler(admin.removefeed_button, pattern=r"^rf:"))
    app.add_handler(CallbackQueryHandler(add_source.source_button, pattern=r"^src:"))
    app.add_handler(CallbackQueryHandler(admin.feedstatus_button, pattern=r"^fs:"))
    app.add_handler(CallbackQueryHandler(chat_settings.settings_button, pattern=r"^st:"))
    app.add_handler(CallbackQueryHandler(saved_searches.alerts_button, pattern=r"^al:"))
    app.add_handler(InlineQueryHandler(inline.inline_query))
    # Anything else (an old or forged button) still gets an answer. It must stay the
    # last button handler of group 0: in a later group it would also see every query
    # a handler above already answered, and answer it a second time.
    app.add_handler(CallbackQueryHandler(commands.stale_button))
    app.add_handler(
        ChatMemberHandler(commands.bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    app.add_error_handler(on_error)


async def _post_init(app: App, settings: Settings, opts: Overrides) -> None:
    store = await open_store(
        path=settings.database_path,
        url=settings.database_url.url if settings.database_url else None,
        clock=opts.clock,
        default_timezone=settings.timezone,
        default_daily_time=settings.daily_time,
        default_language=settings.default_language,
    )
    http = make_client(
        user_agent=USER_AGENT, allow_private=settings.allow_private_feeds, resolver=opts.resolver
    )
    alerts = Alerts(store, settings, clock=opts.clock)
    poller = Poller(
        store,
        http,
        poll_interval=settings.poll_interval,
        allow_private=settings.allow_private_feeds,
        clock=opts.clock,
        resolver=opts.resolver,
        alert=alerts.feed_alert,
        rng=opts.rng,
        # A web page's dates without a zone ("03.12.2021") are read in the bot's own.
        source_zone=settings.timezone,
    )
    deliverer = Deliverer(
        store,
        app.bot,
        rate=settings.broadcast_rate,
        chat_pacing=opts.chat_pacing,
        # One send in flight by default: a crash can then leave at most one
        # message whose fate is unknown (counted as a possible duplicate).
        workers=settings.delivery_concurrency,
        on_failure=alerts.delivery_failed,
        tuning=opts.delivery,
    )
    daily = DailyScheduler(store, clocks=settings.clocks, clock=opts.clock)
    svc = Services(
        settings=settings,
        store=store,
        http=http,
        poller=poller,
        deliverer=deliverer,
        clock=opts.clock,
        alerts=alerts,
        daily=daily,
        searches=PerUserLimit(SEARCHES_PER_MINUTE),
        replies=PacedReplies(
            app.bot,
            deliverer.pacer,
            deliverer.chat_pacer,
            tuning=opts.delivery,
        ),
        full_texts=PerUserLimit(full_text_button.FULL_TEXTS_PER_MINUTE),
    )
    app.bot_data[SERVICES_KEY] = svc
    if settings.database_url is not None:
        from storage.postgres.leader import Leadership

        # DATABASE_PATH's folder holds this instance's heartbeat file (no database).
        settings.database_path.parent.mkdir(parents=True, exist_ok=True)
        svc.leadership = Leadership(settings.database_url.url)
        if settings.webhook_url:
            # Both instances take updates behind the load balancer; the jobs and
            # delivery wait for the lead.
            _background(svc, _lead_when_possible(app, svc), "communique-leadership")
        else:
            # Only the leader may call getUpdates (Telegram allows one caller): a
            # standby waits here, before run_polling starts polling.
            await _standby_until_leader(svc)
            _lead(app, svc)
    else:
        deliverer.start()
    await _publish_commands(app, settings)
    if opts.start_jobs and app.job_queue is not None:
        # Due feeds are looked for every POLL_TICK seconds, or more often when the
        # interval itself is shorter (a test rig, an intranet feed).
        tick = min(POLL_TICK, settings.poll_interval)
        app.job_queue.run_repeating(poll_job, interval=tick, first=1.0, name="poll")
        # The first daily tick runs at once: a bot that was down at a chat's time
        # sends that day's message when it starts.
        app.job_queue.run_repeating(daily_job, interval=DAILY_TICK, first=0.5, name="daily")
        app.job_queue.run_repeating(
            heartbeat_job, interval=HEARTBEAT_EVERY, first=1.0, name="heartbeat"
        )
        app.job_queue.run_repeating(
            _watch_polling,
            interval=WATCH_EVERY,
            first=0.0,
            name="watch-polling",
            # Never skipped for starting late (the default grace is 1 s, and the
            # first run waits for polling's own start-up).
            job_kwargs={"misfire_grace_time": None},
        )
    log.info(
        "Communique started: %d feed(s), database %s%s",
        len(await store.list_feeds()),
        settings.database_name,
        f", as the {svc.role}" if svc.role else "",
    )


async def _standby_until_leader(svc: Services) -> None:
    """Wait for the lead, beating the heartbeat as a standby meanwhile."""
    assert svc.leadership is not None
    path = heartbeat_path(svc.settings.database_path)

    async def beats() -> None:
        while True:
            try:
                await beat(svc.store, path, "standby")
            except Exception as exc:  # a database hiccup: the next beat may work
                log.warning("could not write the heartbeat: %s", exc)
            await asyncio.sleep(HEARTBEAT_EVERY)

    beating = asyncio.create_task(beats(), name="communique-standby-heartbeat")
    # Cancelled at shutdown too: a stop signal while standing by ends this wait.
    svc.tasks.add(beating)
    try:
        await svc.leadership.acquire()
    finally:
        beating.cancel()
    write_beat(path, "leader")


def _lead(app: App, svc: Services) -> None:
    """This instance leads: claims go through the lock's session, delivery starts,
    and the session is watched; its loss stops this instance at once."""
    from storage.postgres.store import PgStore

    assert svc.leadership is not None and isinstance(svc.store, PgStore)
    leadership = svc.leadership
    svc.store.use_claims_session(leadership.session, leadership.lock)
    svc.deliverer.start()
    _background(svc, leadership.watch(), "communique-leadership-watch")
    _background(svc, _stop_when_lost(app, svc), "communique-leadership-lost")


def _background(svc: Services, work: Coroutine[Any, Any, None], name: str) -> None:
    """A task of the leadership's, outside PTB's (whose stop would wait for it),
    cancelled at shutdown."""
    task = asyncio.create_task(work, name=name)
    svc.tasks.add(task)
    task.add_done_callback(svc.tasks.discard)


async def _lead_when_possible(app: App, svc: Services) -> None:
    assert svc.leadership is not None
    if await svc.leadership.acquire():
        _lead(app, svc)


async def _stop_when_lost(app: App, svc: Services) -> None:
    """A leader that lost its lock stops sending now, then stops; the service
    manager starts it again, as a standby (exit status 1)."""
    assert svc.leadership is not None
    await svc.leadership.lost.wait()
    log.error(
        "this instance lost the leadership (its database session ended): delivery"
        " stopped; stopping, to start again as a standby"
    )
    app.bot_data[EXIT_STATUS_KEY] = 1
    try:
        # Its claims already fail (they need the lost session); this ends the loop.
        await svc.deliverer.stop()
    except Exception as exc:  # the confirmations of the last sends cannot be written
        log.warning("delivery stopped with sends unconfirmed (%s): counted at takeover", exc)
    app.stop_running()


# The name python-telegram-bot gives the task that long-polls getUpdates.
POLLING_TASK = "Updater:start_polling:polling_task"
WATCH_EVERY = 5.0
_WATCH_MISSES = "polling_watch_misses"  # bot_data: looks in a row that found no task


async def _watch_polling(context: ContextTypes.DEFAULT_TYPE) -> None:
    """If Telegram rejects the token while polling (revoked with @BotFather), PTB
    ends its polling task, and the bot would sit there answering nobody while
    looking alive. Stop it instead, with exit status 2 (1 if the token was not
    the reason).

    Each run looks for the polling task; once found, its end is hooked and this job
    is done. An updater that says it polls but has no task twice in a row (five
    seconds apart, so not the moment between its start and the task's) had its
    polling end before it could be watched (getMe says whether the token was the
    reason)."""
    app = context.application
    svc = app.bot_data.get(SERVICES_KEY)
    if app.updater is None or not app.updater.running:
        return
    if isinstance(svc, Services) and svc.settings.webhook_url:
        return  # webhook mode: Telegram calls us, there is no polling task
    task = next((t for t in asyncio.all_tasks() if t.get_name() == POLLING_TASK), None)
    if task is not None:
        task.add_done_callback(functools.partial(_polling_ended, app))
        if context.job is not None:
            context.job.schedule_removal()
        return
    # No task: polling ended before this look, or is only now starting. Telegram
    # tells which if it was the token.
    try:
        await app.bot.get_me()
    except InvalidToken:
        _stop_for_polling(app, TOKEN_REJECTED, status=2)
        return
    except TelegramError:
        pass
    app.bot_data[_WATCH_MISSES] = misses = app.bot_data.get(_WATCH_MISSES, 0) + 1
    if misses >= 2:
        _stop_for_polling(app, "polling for updates has stopped", status=1)


def _polling_ended(app: App, task: asyncio.Task[object]) -> None:
    if task.cancelled() or not app.updater or not app.updater.running:
        return  # stopped on purpose
    error = task.exception()
    if isinstance(error, InvalidToken):
        _stop_for_polling(app, TOKEN_REJECTED, status=2)
    else:
        _stop_for_polling(app, f"polling for updates has stopped ({error})", status=1)


def _stop_for_polling(app: App, reason: str, *, status: int) -> None:
    """Stop the bot, which then exits with `status`: 2 for a rejected token, a bad
    setting like any other (restarting will not fix it, and would only knock at
    Telegram's door with it again), else 1."""
    log.error("%s; stopping", reason)
    app.bot_data[EXIT_STATUS_KEY] = status
    app.create_task(_stop_after_polling_ended(app))


async def _stop_after_polling_ended(app: App) -> None:
    if app.updater is not None and app.updater.running:
        # Stopping the updater re-raises the polling task's error; done here, the
        # rest of the shutdown (delivery, database) runs as after a signal.
        with contextlib.suppress(Exception):
            await app.updater.stop()
    app.stop_running()


async def _post_stop(app: App) -> None:
    # Before shutdown closes the bot's HTTP client: the message in flight is finished
    # on a working connection, and whatever is pending stays pending.
    svc = app.bot_data.get(SERVICES_KEY)
    if isinstance(svc, Services):
        # At once: each lets its message in flight finish within the same grace.
        await asyncio.gather(svc.replies.close(), svc.deliverer.stop())


async def _post_shutdown(app: App) -> None:
    svc = app.bot_data.pop(SERVICES_KEY, None)
    if not isinstance(svc, Services):
        return
    await asyncio.gather(svc.replies.close(), svc.deliverer.stop())
    for task in list(svc.tasks):
        task.cancel()
    svc.poller.close()
    await svc.http.aclose()
    if svc.leadership is not None:
        await svc.leadership.release()
    await svc.store.close()
    clear_heartbeat(heartbeat_path(svc.settings.database_path))
    log.info("Communique stopped; pending messages stay queued")


async def _publish_commands(app: App, settings: Settings) -> None:
    """The command menu: user commands for everyone, admin ones in admins' chats,
    each in every language. Telegram shows a user the menu of their app's language
    when there is one, else the one without a language: that one is in
    DEFAULT_LANGUAGE, as the chats of users whose language is not ours are."""
    default = settings.default_language
    menus: list[tuple[BotCommandScopeDefault | BotCommandScopeChat, list[BotCommand]]] = [
        (BotCommandScopeDefault(), USER_COMMANDS)
    ]
    menus += [
        (BotCommandScopeChat(admin_id), USER_COMMANDS + ADMIN_COMMANDS)
        for admin_id in sorted(settings.admin_ids)
    ]
    for scope, listed in menus:
        for code in (None, *(other for other in LANGUAGES if other != default)):
            try:
                await app.bot.set_my_commands(
                    menu(listed, code or default), scope=scope, language_code=code
                )
            except TelegramError as exc:
                # An admin who never opened a chat with the bot makes this fail; not
                # fatal, and the other menus are still published.
                log.warning("could not publish the command menu (%s): %s", scope.type, exc)
                break


async def poll_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services_of(context.application)
    if svc.is_leader:  # a standby (webhook mode) leaves feeds to the leader
        await svc.poller.poll_due()


async def daily_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services_of(context.application)
    if not svc.is_leader:
        return
    await svc.daily.tick()
    await svc.alerts.flush()


async def heartbeat_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services_of(context.application)
    try:
        await beat(svc.store, heartbeat_path(svc.settings.database_path), svc.role)
    except OSError as exc:
        log.warning("could not write the heartbeat file: %s", exc)


TOKEN_REJECTED = (
    "Telegram rejected TELEGRAM_BOT_TOKEN: check it with @BotFather"
    " (and TELEGRAM_API_BASE_URL, if it is set)"
)
# bot_data key: the exit status `communique run` returns once the bot has stopped.
EXIT_STATUS_KEY = "exit_status"


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One place for unexpected errors: logged with the traceback, admins told.

    A network error while fetching updates is no bug: PTB retries by itself, so it
    is one warning line, and the admins are not woken for Telegram's own hiccups.
    """
    error = context.error
    if (
        update is None
        and context.job is None
        and isinstance(error, NetworkError)
        and not isinstance(error, BadRequest)
    ):
        log.warning("fetching updates failed (%s); retrying", error)
        return
    log.error("unhandled error while handling an update", exc_info=context.error)
    svc = context.application.bot_data.get(SERVICES_KEY)
    if isinstance(svc, Services):
        await svc.alerts.error(context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        _ = translator(await _language_after_error(update, context)).gettext
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(_("Sorry, something went wrong."))
            else:
                await update.effective_chat.send_message(
                    _("Sorry, something went wrong on our side. The admins have been told.")
                )
        except TelegramError:
            pass


async def _language_after_error(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The chat's language for the apology, or DEFAULT_LANGUAGE when even that cannot
    be read (the error may be the database's own)."""
    svc = context.application.bot_data.get(SERVICES_KEY)
    fallback = svc.settings.default_language if isinstance(svc, Services) else "en"
    try:
        return await language_of(update, context)
    except Exception:
        log.debug("no language for the apology; using %s", fallback, exc_info=True)
        return fallback


async def start_application(app: App) -> None:
    """Start without run_polling (tests, console): what run_polling does first."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()


async def stop_application(app: App) -> None:
    """Stop what start_application started, in run_polling's order."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)

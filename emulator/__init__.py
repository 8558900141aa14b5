"""An in-memory stand-in for the Telegram Bot API, for tests and console mode.

Its own package, beside the bot and importing nothing of it: it plays Telegram,
checking the bot's messages with Telegram's own HTML rules (``telegram_html``),
so it must not share the bot's code for what it checks.

:class:`BotApiEmulator` answers Bot API methods the way Telegram does (the
same JSON, the same status codes and error descriptions) while keeping every
chat, user, message and pending update in memory. It has no HTTP inside:

* ``tests/support/fake_bot_api.py`` serves it over real HTTP on 127.0.0.1, so the
  real ``Application`` talks to it through ``TELEGRAM_API_BASE_URL``;
* :class:`EmulatorRequest` plugs it straight into python-telegram-bot as its
  request backend, which is what console mode uses (no network at all).

Tests play users with :meth:`BotApiEmulator.send_text`,
:meth:`~BotApiEmulator.press_button` and :meth:`~BotApiEmulator.send_document`,
break things with :meth:`~BotApiEmulator.inject`,
:meth:`~BotApiEmulator.set_fault_rate` and
:meth:`~BotApiEmulator.enable_rate_limits`, and wait for the bot with
:meth:`~BotApiEmulator.wait_for` / :meth:`~BotApiEmulator.wait_for_messages`.

The parts, each a module here: ``models`` (the data it keeps), ``faults``
(what tests inject), ``params`` (reading a call's parameters), ``state``
(holding, reading and waiting), ``objects`` (the Bot API objects it answers
with), ``players`` (playing users and chats), ``updates`` and ``messages``
(the method handlers), ``api`` (:class:`BotApiEmulator`, assembled from those,
dispatching calls) and ``request`` (:class:`EmulatorRequest`).
"""

from emulator.api import BotApiEmulator
from emulator.faults import (
    Blocked,
    ChatNotFound,
    ConnectionReset,
    Delay,
    Fault,
    Injection,
    Kicked,
    Migrate,
    RateLimits,
    RetryAfter,
    ServerError,
)
from emulator.models import JSON as JSON
from emulator.models import MAX_CALLBACK_DATA_BYTES as MAX_CALLBACK_DATA_BYTES
from emulator.models import MAX_UPLOAD_BYTES as MAX_UPLOAD_BYTES
from emulator.models import NOT_MODIFIED as NOT_MODIFIED
from emulator.models import SEND_METHODS as SEND_METHODS
from emulator.models import (
    ApiCall,
    ApiError,
    Chat,
    EmulatedConnectionReset,
    SentMessage,
    StoredFile,
    UploadedFile,
    User,
)
from emulator.models import ChatType as ChatType
from emulator.models import MemberStatus as MemberStatus
from emulator.request import EmulatorRequest

__all__ = [
    "ApiCall",
    "ApiError",
    "Blocked",
    "BotApiEmulator",
    "Chat",
    "ChatNotFound",
    "ConnectionReset",
    "Delay",
    "EmulatedConnectionReset",
    "EmulatorRequest",
    "Fault",
    "Injection",
    "Kicked",
    "Migrate",
    "RateLimits",
    "RetryAfter",
    "SentMessage",
    "ServerError",
    "StoredFile",
    "UploadedFile",
    "User",
]

"""Logging set-up, with secrets kept out of every log line.

httpx logs request URLs, and Telegram's URLs contain the token. Rather than trust
each handler's formatter, every record is scrubbed as it is created, so captured,
file and console logs alike never hold a secret (see text.redact).
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterable

from text.redact import add_secrets, has_secrets, redact

_installed = False
_base_factory = logging.getLogRecordFactory()


def _factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    if not has_secrets():
        return record
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: leave it to logging's own reporting
        return record
    clean = redact(message)
    if clean != message or record.args:
        record.msg = clean
        record.args = None
    if record.exc_info and record.exc_info[0] is not None:
        if record.exc_info[0].__name__ == "InvalidToken":
            # A rejected token is an operator's error, not a bug: one line, and no
            # traceback whose message would only repeat the token.
            record.exc_info = None
            record.exc_text = None
        else:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def hide_secrets(secrets: Iterable[str | None]) -> None:
    """Scrub these strings from every log record (and every redacted text) from now on."""
    global _installed
    add_secrets(secrets)
    if not _installed:
        logging.setLogRecordFactory(_factory)
        _installed = True


def setup_logging(level: str, secrets: Iterable[str | None] = ()) -> None:
    hide_secrets(secrets)
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger().setLevel(level)
    if level != "DEBUG":
        # Every Bot API request at INFO is noise for an operator.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)

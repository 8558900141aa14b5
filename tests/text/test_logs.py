"""The token is scrubbed from every log record, including tracebacks."""

from __future__ import annotations

import logging

import pytest

from bot.logs import hide_secrets
from text.redact import REDACTED

SECRET = "987654321:AAsecretSecretSecretSecretSecret12"


def test_token_is_scrubbed_from_messages_args_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hide_secrets([SECRET])
    log = logging.getLogger("httpx")
    with caplog.at_level(logging.DEBUG):
        log.info("HTTP Request: POST %s", f"https://api.telegram.example/bot{SECRET}/getMe")
        log.debug("tail only: %s", SECRET.split(":", 1)[1])
        try:
            raise RuntimeError(f"failed at https://api.telegram.example/bot{SECRET}/sendMessage")
        except RuntimeError:
            log.exception("request failed")
    assert len(caplog.records) == 3
    assert SECRET not in caplog.text
    assert SECRET.split(":", 1)[1] not in caplog.text
    assert REDACTED in caplog.records[0].getMessage()
    formatted = logging.Formatter().format(caplog.records[2])
    assert "RuntimeError" in formatted
    assert SECRET.split(":", 1)[1] not in formatted

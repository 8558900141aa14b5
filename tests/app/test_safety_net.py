"""The test suite's own guard: connections beyond loopback fail before they start."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.child.loopback_guard import OutsideConnectionError


def test_a_plain_socket_cannot_leave_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(OutsideConnectionError):
            sock.connect(("10.0.0.1", 9))


async def test_asyncio_and_httpx_cannot_leave_loopback() -> None:
    with pytest.raises(OutsideConnectionError):
        await asyncio.open_connection("192.168.1.1", 9)
    async with httpx.AsyncClient() as client:
        with pytest.raises(BaseException) as caught:
            await client.get("http://172.16.0.1:9/")
    assert _caused_by_guard(caught.value)


def _caused_by_guard(exc: BaseException | None) -> bool:
    """anyio wraps connection errors in groups and httpx in its own types."""
    seen = 0
    while exc is not None and seen < 20:
        seen += 1
        if isinstance(exc, OutsideConnectionError):
            return True
        if isinstance(exc, BaseExceptionGroup):
            return any(_caused_by_guard(inner) for inner in exc.exceptions)
        exc = exc.__cause__ or exc.__context__
    return False


async def test_loopback_still_works(feed_server: object) -> None:
    reader_writer = await asyncio.open_connection("127.0.0.1", feed_server.port)  # type: ignore[attr-defined]
    reader_writer[1].close()
    await reader_writer[1].wait_closed()


def test_a_dns_lookup_of_an_outside_name_fails_before_a_query_is_sent() -> None:
    with pytest.raises(OutsideConnectionError):
        socket.getaddrinfo("example.org", 80)
    assert socket.getaddrinfo("127.0.0.1", 80)


def test_a_process_the_tests_start_is_guarded_and_its_attempt_recorded(tmp_path: Path) -> None:
    """The bot, the fake Bot API and the feed server run as child processes in some
    tests: they carry the guard too, and what they tried is written down for the
    session to fail on."""
    log = tmp_path / "refused.log"
    script = (
        "import socket\n"
        "attempts = (lambda: socket.socket().connect(('10.0.0.1', 9)),\n"
        "            lambda: socket.getaddrinfo('embassy.example', 443))\n"
        "for attempt in attempts:\n"
        "    try:\n"
        "        attempt()\n"
        "    except AssertionError as exc:\n"
        "        print('refused:', exc)\n"
    )
    env = {**os.environ, "COMMUNIQUE_TEST_GUARD_LOG": str(log)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "refused: a test tried to connect to 10.0.0.1: only loopback allowed",
        "refused: a test tried to resolve 'embassy.example'",
    ]
    assert len(log.read_text().splitlines()) == 2

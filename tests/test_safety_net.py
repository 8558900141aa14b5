"""The test suite's own guard: connections beyond loopback fail before they start."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from tests.conftest import OutsideConnectionError


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

"""Loopback only: a TCP connection to anything but this machine, or a DNS lookup of
any name but its own, is refused before a packet leaves.

The test process uses it per test (conftest); every process the tests start (the bot,
the fake Bot API, the feed server) installs it at start-up through sitecustomize.py
beside this file, and writes each refusal to the file the test session reads at its
end, so a child that tried to reach out fails the run even if it swallowed the error.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

REAL_CONNECT = socket.socket.connect
REAL_CONNECT_EX = socket.socket.connect_ex
REAL_GETADDRINFO = socket.getaddrinfo


class OutsideConnectionError(AssertionError):
    """Something tried to open a connection to, or look up, a non-loopback address."""


def check_connect(sock: socket.socket, address: Any) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    host = address[0] if isinstance(address, tuple) else address
    try:
        ip = ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        raise OutsideConnectionError(f"connection to unresolved host {host!r}") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_loopback:
        raise OutsideConnectionError(f"a test tried to connect to {host}: only loopback allowed")


def check_lookup(host: Any) -> None:
    """A DNS lookup is traffic too: only this machine's names may be resolved."""
    name = host.decode() if isinstance(host, bytes) else host
    if not name:
        return
    try:
        ip = ipaddress.ip_address(str(name).strip("[]").split("%", 1)[0])
    except ValueError:
        lowered = str(name).lower().rstrip(".")
        if lowered != "localhost" and not lowered.endswith(".localhost"):
            raise OutsideConnectionError(f"a test tried to resolve {name!r}") from None
    else:
        if not (ip.is_loopback or ip.is_unspecified):
            raise OutsideConnectionError(f"a test tried to resolve {name!r}")


def guarded_connect(self: socket.socket, address: Any) -> None:
    check_connect(self, address)
    REAL_CONNECT(self, address)


def guarded_connect_ex(self: socket.socket, address: Any) -> int:
    check_connect(self, address)
    return REAL_CONNECT_EX(self, address)


def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    check_lookup(host)
    return REAL_GETADDRINFO(host, *args, **kwargs)


def install(record: Callable[[str], None]) -> None:
    """For a whole process: refuse as above, and `record` every refusal."""

    def connect(self: socket.socket, address: Any) -> None:
        _recorded(record, check_connect, self, address)
        REAL_CONNECT(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _recorded(record, check_connect, self, address)
        return REAL_CONNECT_EX(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        _recorded(record, check_lookup, host)
        return REAL_GETADDRINFO(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo


def _recorded(record: Callable[[str], None], check: Callable[..., None], *args: Any) -> None:
    try:
        check(*args)
    except OutsideConnectionError as exc:
        record(str(exc))
        raise

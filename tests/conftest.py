"""Shared fixtures: each rig module registers its own as a pytest plugin.

A safety net for every test: a TCP connection to anything but loopback, or a DNS
lookup of any name but this machine's, fails the test before a packet leaves, so no
test can reach the internet or a private network by mistake (subprocesses are the
tests' own responsibility).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

pytest_plugins = [
    "tests.fake_bot_api",
    "tests.feed_server",
    "tests.harness",
]

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


class OutsideConnectionError(AssertionError):
    """A test tried to open a connection to a non-loopback address."""


def _check(sock: socket.socket, address: Any) -> None:
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


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak",
        action="store_true",
        default=False,
        help="run the reliability suite at full size (make soak)",
    )


@pytest.fixture
def soak(request: pytest.FixtureRequest) -> bool:
    """True under `make soak`: reliability tests use their full sizes."""
    return bool(request.config.getoption("--soak"))


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    """A DNS lookup is traffic too: only this machine's names may be resolved."""
    name = host.decode() if isinstance(host, bytes) else host
    if name:
        try:
            ip = ipaddress.ip_address(str(name).strip("[]").split("%", 1)[0])
        except ValueError:
            lowered = str(name).lower().rstrip(".")
            if lowered != "localhost" and not lowered.endswith(".localhost"):
                raise OutsideConnectionError(f"a test tried to resolve {name!r}") from None
        else:
            if not (ip.is_loopback or ip.is_unspecified):
                raise OutsideConnectionError(f"a test tried to resolve {name!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
    yield

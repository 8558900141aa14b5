"""Shared fixtures: each module of tests/support that has some registers them as a
pytest plugin.

A safety net for every test: a TCP connection to anything but loopback, or a DNS
lookup of any name but this machine's, fails the test before a packet leaves, so no
test can reach the internet or a private network by mistake. Processes the tests
start carry the same guard (tests/support/child), and what they refused fails the run.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.child.loopback_guard import (
    guarded_connect,
    guarded_connect_ex,
    guarded_getaddrinfo,
)

pytest_plugins = [
    "tests.support.fake_bot_api",
    "tests.support.feed_server",
    "tests.support.rig",
    "tests.support.postgres",
    "tests.support.stores",
]

CHILD_DIR = Path(__file__).parent / "support" / "child"
GUARD_LOG = "COMMUNIQUE_TEST_GUARD_LOG"


def pytest_configure(config: pytest.Config) -> None:
    """Every process the tests start gets the guard too (sitecustomize in support/child),
    and writes what it refused to a file checked when the session ends."""
    if os.environ.get(GUARD_LOG):
        return  # a session inside a test's child: the outer one checks
    log = Path(tempfile.mkdtemp(prefix="communique-guard-")) / "refused.log"
    log.touch()
    os.environ[GUARD_LOG] = str(log)
    paths = [str(CHILD_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    log = Path(os.environ.get(GUARD_LOG, ""))
    if not log.is_file():
        return
    refused = log.read_text(encoding="utf-8")
    if refused:
        print(f"\nA process started by the tests tried to leave loopback:\n{refused}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield


@pytest.fixture(autouse=True)
def _logger_levels_restored() -> Iterator[None]:
    """A test that runs the CLI in-process (`bot.cli.main`) sets up logging as the
    bot does, httpx quietened to WARNING among it; later tests must not inherit that,
    whatever order they run in."""
    loggers = [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]
    levels = [(logger, logger.level) for logger in loggers]
    yield
    for logger, level in levels:
        logger.setLevel(level)

"""Loaded by every Python process the tests start (the test session puts this folder
on PYTHONPATH): the loopback guard for the whole process, refusals written to
COMMUNIQUE_TEST_GUARD_LOG for the session to check."""

from __future__ import annotations

import os
import sys

_log = os.environ.get("COMMUNIQUE_TEST_GUARD_LOG")
if _log:
    import loopback_guard

    def _record(line: str, path: str = _log) -> None:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{' '.join(sys.argv)[:200]} (pid {os.getpid()}): {line}\n")

    loopback_guard.install(_record)

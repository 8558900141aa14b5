"""The PostgreSQL server the `--backend postgres` benchmarks run against.

COMMUNIQUE_BENCH_DATABASE_URL names a server's empty database to use; without it a
server is started here on 127.0.0.1 from the test rig's binaries (pgserver's, or the
machine's), with PostgreSQL's default durability (fsync on, synchronous_commit on:
every commit waits for its WAL to reach the disk; SQLite here runs WAL with
synchronous=NORMAL, which syncs at checkpoints only), and stopped at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

from tests.support.postgres import start_server

URL_ENV = "COMMUNIQUE_BENCH_DATABASE_URL"


@contextlib.contextmanager
def bench_database() -> Iterator[str]:
    """The URL of an empty database for one benchmark run."""
    given = os.environ.get(URL_ENV)
    if given:
        yield given
        return
    server = start_server(durable=True)
    try:
        yield server.new_database("bench")
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)

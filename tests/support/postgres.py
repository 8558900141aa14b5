"""A real PostgreSQL server for the tests, started once per session on 127.0.0.1.

The binaries are pgserver's (the `test` extra: PostgreSQL bundled in a wheel), or
the folder named by COMMUNIQUE_TEST_POSTGRES_BIN, or the machine's own when pgserver
is missing. The server listens on 127.0.0.1 only (its unix socket sits in its own
temporary folder), asks for a password over TCP (scram-sha-256, as a real server
would), and trades durability for speed (fsync off: it is thrown away at the end).
Each test gets a database of its own (`pg_url`), so no test sees another's rows.

Nothing here is skipped quietly: without binaries, or when the server cannot start,
every PostgreSQL test fails with the reason. COMMUNIQUE_TEST_POSTGRES=off skips them
on purpose (the skip and its reason then show in pytest's summary).
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BIN_ENV = "COMMUNIQUE_TEST_POSTGRES_BIN"
SWITCH_ENV = "COMMUNIQUE_TEST_POSTGRES"
# initdb and postgres refuse to run as root: as root, the server runs as this user.
UNPRIVILEGED = "nobody"


class PostgresUnavailable(RuntimeError):
    """The tests cannot have a PostgreSQL server; the message says why."""


def find_binaries() -> Path:
    """The folder with initdb, pg_ctl and postgres."""
    named = os.environ.get(BIN_ENV)
    candidates: list[Path] = [Path(named)] if named else []
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.submodule_search_locations:
        # Only its files: importing pgserver would start its own machinery.
        candidates += [Path(p) / "pginstall" / "bin" for p in spec.submodule_search_locations]
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(found).resolve().parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresUnavailable(
        "no PostgreSQL binaries: install the test extra (pip install -e '.[test]' brings"
        f" pgserver), or set {BIN_ENV} to a folder with initdb, pg_ctl and postgres"
    )


def _reachable_by_others(folder: Path) -> bool:
    """Whether a user other than the owner can reach `folder` (every parent o+x)."""
    for part in [folder, *folder.parents]:
        if not part.stat().st_mode & 0o001:
            return False
    return True


def _usable_binaries(root: Path) -> Path:
    """The binaries, where the unprivileged user can run them: as root, a clone kept
    under /root (mode 0700) is out of its reach, so pgserver's tree is copied into
    the server's own folder."""
    found = find_binaries()
    if os.geteuid() != 0 or _reachable_by_others(found):
        return found
    install = found.parent
    if not (install / "share").is_dir():
        raise PostgresUnavailable(
            f"{found} cannot be run by the user {UNPRIVILEGED!r} (a parent folder is closed"
            f" to others); set {BIN_ENV} to binaries elsewhere"
        )
    # The wheel's binaries find their libraries at $ORIGIN/../../../pgserver.libs:
    # the copy keeps that layout.
    copy = root / "pgserver" / "pginstall"
    shutil.copytree(install, copy, symlinks=True, ignore=shutil.ignore_patterns("include"))
    libs = install.parent.parent / "pgserver.libs"
    if libs.is_dir():
        shutil.copytree(libs, root / "pgserver.libs", symlinks=True)
    return copy / "bin"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """One running server; `new_database` makes an empty database and returns its URL."""

    bin: Path
    root: Path
    port: int
    password: str
    user: str = "postgres"
    # Durability as PostgreSQL ships it (benchmarks); the tests trade it for speed.
    durable: bool = False
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        as_user = UNPRIVILEGED if os.geteuid() == 0 else None
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            check=False,
            capture_output=True,
            text=True,
            user=as_user,
            cwd=self.root,
            timeout=120,
        )

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        if os.geteuid() == 0:
            who = pwd.getpwnam(UNPRIVILEGED)
            os.chown(self.root, who.pw_uid, who.pw_gid)
            os.chown(pwfile, who.pw_uid, who.pw_gid)
        init = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--pwfile",
            str(pwfile),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            # The plainest locale: search must not depend on the server's.
            "--locale=C",
            "--no-sync",
        )
        pwfile.unlink()
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip() or init.stdout}")
        fast = ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-p {self.port}",
                f"-k {self.root}",  # the unix socket stays in our own folder
                *([] if self.durable else fast),
                "-c max_connections=300",
                "-c shared_buffers=128MB",
            ]
        )
        started = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start"
        )
        if started.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise PostgresUnavailable(f"PostgreSQL did not start: {started.stderr}\n{log[-2000:]}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def new_database(self, prefix: str = "t") -> str:
        """An empty database of its own; returns its URL."""
        name = f"{prefix}_{next(self._counter)}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    @contextlib.contextmanager
    def admin(self, dbname: str = "postgres") -> Iterator[object]:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            yield conn


def start_server(*, durable: bool = False) -> PostgresServer:
    root = Path(tempfile.mkdtemp(prefix="communique-pg-"))
    last: Exception | None = None
    for _ in range(3):
        server = PostgresServer(
            bin=_usable_binaries(root),
            root=root,
            port=_free_port(),
            password=secrets.token_hex(12),
            durable=durable,
        )
        try:
            server.start()
        except PostgresUnavailable as exc:
            # Another process may have taken the port meanwhile: a new data folder, again.
            last = exc
            shutil.rmtree(root, ignore_errors=True)
            root = Path(tempfile.mkdtemp(prefix="communique-pg-"))
            continue
        return server
    raise PostgresUnavailable(str(last))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (started on first use, stopped at the end)."""
    if os.environ.get(SWITCH_ENV, "").lower() == "off":
        pytest.skip(f"PostgreSQL tests switched off ({SWITCH_ENV}=off)")
    server = start_server()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty database for this test alone."""
    return postgres_server.new_database()

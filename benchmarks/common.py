"""Shared pieces of the benchmarks: helper processes, realistic text, results.

Every benchmark script ends by printing one ``RESULT {json}`` line per figure it
measures; ``benchmarks.run`` collects those lines. A benchmark that cannot trust
its own run raises :class:`BenchError`: the script exits non-zero and prints no
number.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx

ROOT = Path(__file__).resolve().parent.parent
SEED_PAGE = Path("/work/shared/seed/000_e008f88601b054ee.txt")
# The fake Bot API's own default: it passes the bot's token check.
TOKEN = "123456789:AAFakeTokenForCommuniqueTests_x7Yq"


class BenchError(RuntimeError):
    """The run cannot be trusted; no number is reported."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchError(message)


# --------------------------------------------------------------------- arguments


def parse_args(doc: str | None, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (make bench QUICK=1)")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the store's backend (postgres: benchmarks/postgres.py says which server)",
    )
    return parser.parse_args(argv)


def main_guard(run: Any, doc: str | None) -> int:
    """Run a benchmark's ``run(quick)``; a BenchError becomes exit status 1, no number."""
    args = parse_args(doc)
    try:
        if args.backend != "sqlite":
            # Only the benchmarks whose run() takes a backend measure PostgreSQL.
            check("backend" in run.__code__.co_varnames, "this benchmark runs on SQLite only")
            run(args.quick, backend=args.backend)
        else:
            run(args.quick)
    except BenchError as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


# --------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str
    met: bool
    baseline: float | None = None
    ratio: float | None = None
    details: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "value": self.value,
            "unit": self.unit,
            "target": self.target,
            "met": self.met,
        }
        if self.baseline is not None:
            data["baseline"] = self.baseline
        if self.ratio is not None:
            data["ratio"] = self.ratio
        if self.details:
            data["details"] = self.details
        return data


def emit(figure: Figure) -> None:
    """Print the figure for ``benchmarks.run`` (and a person reading along)."""
    print("RESULT " + json.dumps({figure.name: figure.as_json()}), flush=True)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def peak_rss_mb(pid: int | str = "self") -> float:
    """VmHWM (peak resident set) of a process, in MiB."""
    return _status_kb(pid, "VmHWM") / 1024


def rss_mb(pid: int | str = "self") -> float:
    return _status_kb(pid, "VmRSS") / 1024


def _status_kb(pid: int | str, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no {key}")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    check(bool(ordered), "no samples")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# ------------------------------------------------------------------ helper processes


class Helper:
    """A helper server in its own process; its first stdout line is its port."""

    def __init__(self, module: str, *args: str, timeout: float = 20.0) -> None:
        self.name = module
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().strip() if ready else ""
        if not line.isdigit():
            self.stop()
            raise BenchError(f"{module} did not print its port (got {line!r})")
        self.port = int(line)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakeBotApi(Helper):
    """``python -m tests.support.fake_bot_api`` in its own process, with its control API."""

    def __init__(self, *, rate_limits: bool = False) -> None:
        args = ["--port", "0", "--token", TOKEN]
        if rate_limits:
            args.append("--rate-limits")
        super().__init__("tests.support.fake_bot_api", *args)
        self._http = httpx.Client(base_url=self.root, timeout=60.0)

    @property
    def base_url(self) -> str:
        return f"{self.root}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.root}/file/bot"

    def add_users(self, ids: Sequence[int], batch: int = 5000) -> None:
        for start in range(0, len(ids), batch):
            body = [{"id": i, "first_name": f"U{i}"} for i in ids[start : start + batch]]
            self._http.post("/_control/users", json=body).raise_for_status()

    def counts(self) -> dict[str, Any]:
        response = self._http.get("/_control/counts")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def sent(self) -> int:
        """sendMessage calls the fake answered (any status)."""
        return int(self.counts()["calls"].get("sendMessage", 0))

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._http.close()
        super().stop()


class FeedServerProcess(Helper):
    """``python -m tests.support.feed_server`` in its own process: N feeds answering 304."""

    def __init__(self, feeds: int) -> None:
        super().__init__("tests.support.feed_server", "--port", "0", "--feeds", str(feeds))

    def url(self, index: int) -> str:
        return f"{self.root}/feeds/{index}.xml"


# --------------------------------------------------------------------- realistic text

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_SYLLABLES = (
    "ka va ro mi sel tor gan bre lu dov nik ost ar en ya shi pol mar tek zin "
    "bor gel fra mun vist kor dal rem sov ul"
).split()


class TextMaker:
    """Statement-like text: runs of consecutive words from the seed page (so real
    phrases occur), plus a rare proper noun now and then (so rare words exist)."""

    def __init__(self, seed: int = 1, rare_words: int = 20_000) -> None:
        check(SEED_PAGE.is_file(), f"the seed page {SEED_PAGE} is missing")
        self.words = _WORD.findall(SEED_PAGE.read_text(encoding="utf-8"))
        check(len(self.words) > 1000, "the seed page has too few words")
        self.rng = random.Random(seed)
        rare: set[str] = set()
        while len(rare) < rare_words:
            n = self.rng.randint(2, 4)
            rare.add("".join(self.rng.choice(_SYLLABLES) for _ in range(n)).capitalize())
        self.rare = sorted(rare)

    def run(self, n: int) -> str:
        start = self.rng.randrange(0, len(self.words) - n)
        return " ".join(self.words[start : start + n])

    def title(self) -> str:
        text = self.run(self.rng.randint(6, 12))
        return text[0].upper() + text[1:]

    def lead(self) -> str:
        return self.run(self.rng.randint(25, 45)) + "."

    def body(self, lead: str) -> str:
        parts = [lead, self.run(self.rng.randint(30, 60)) + "."]
        parts.insert(self.rng.randint(1, 2), f"{self.rng.choice(self.rare)} said.")
        return " ".join(parts)


def bulk_sql(db_path: Path, statements: Sequence[tuple[str, Any]]) -> None:
    """Fixture data written straight into the database in one transaction (fast;
    the product's own writes are what is measured, not the preparation)."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN")
        for sql, rows in statements:
            if isinstance(rows, list):
                conn.executemany(sql, rows)
            else:
                conn.execute(sql, rows)
        conn.execute("COMMIT")
    finally:
        conn.close()


@contextlib.contextmanager
def timer() -> Iterator[list[float]]:
    """``with timer() as t: ...`` then ``t[0]`` is the elapsed seconds."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)

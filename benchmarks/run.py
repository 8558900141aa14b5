"""Run every benchmark, print a table and write benchmarks/results.json.

``python -m benchmarks.run [--quick]`` (``make bench``, ``make bench QUICK=1``).
Each benchmark runs alone in its own process (``python -m benchmarks.bench_*``),
one after the other so they do not disturb each other; each prints its figures as
``RESULT {json}`` lines. results.json is an object whose keys are exactly the
figures; a benchmark that failed (non-zero exit, no number) is recorded with
"value": null, "met": false and its error, and makes this exit with status 1.
A target that is missed is shown in the table but is not an error.
``--markdown`` prints the README table from an existing results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"

# figure -> (script, unit, target, what it is, seconds allowed full / quick)
FIGURES: dict[str, tuple[str, str, str, str, int, int]] = {
    "broadcast_pacing": (
        "bench_broadcast_pacing",
        "fraction of 30 msg/s",
        ">= 0.97 and 0 429s",
        "one statement to 3,000 chats at 30 msg/s, fake enforcing Telegram's limits",
        240,
        60,
    ),
    "send_overhead": (
        "bench_send_overhead",
        "msg/s",
        ">= 300 msg/s and >= 0.8 x bare PTB loop",
        "delivery path, pacing off, vs a bare PTB send loop (one send at a time each)",
        180,
        60,
    ),
    "send_overhead_postgres": (
        "bench_send_overhead",
        "msg/s",
        ">= 300 msg/s and >= 0.8 x bare PTB loop",
        "send_overhead with the store on PostgreSQL (a server started on 127.0.0.1)",
        240,
        90,
    ),
    "poll_unchanged": (
        "bench_poll_unchanged",
        "s per cycle of 1,000 feeds",
        "<= 5 s",
        "one poll cycle of 1,000 feeds answering 304 (one host, 2 at a time)",
        180,
        60,
    ),
    "ingest_changed": (
        "bench_ingest_changed",
        "x feedparser's parse time",
        "<= 1.25",
        "1,000 changed feeds of 50 items: bot ingest / feedparser.parse",
        300,
        60,
    ),
    "search_p95": (
        "bench_search",
        "ms (p95)",
        "p95 <= 20 ms",
        "/search over 200,000 statements, query to rendered reply, vs LIKE scan",
        300,
        60,
    ),
    "search_p95_postgres": (
        "bench_search",
        "ms (p95)",
        "p95 <= 20 ms",
        "search_p95 with the store on PostgreSQL (tsvector, GIN), vs its LIKE scan",
        480,
        120,
    ),
    "alert_match": (
        "bench_alert_match",
        "ms (p95, 10,000 queries)",
        "p95 <= 20 ms at 10,000",
        "one new statement against 1,000 / 10,000 / 100,000 saved alerts and filters,"
        " vs evaluating each",
        180,
        60,
    ),
    "search_languages": (
        "bench_search_languages",
        "recall (stemmed, en + ru)",
        "recall above exact-form recall, precision not below, in each language",
        "own en + ru relevance set: stemmed search vs words as written (baseline: its recall)",
        60,
        60,
    ),
    "memory": (
        "bench_memory",
        "MB (VmHWM)",
        "<= 150 MB",
        "bot process, 100,000 chats, 1,000 feeds, after a poll, during a broadcast",
        420,
        90,
    ),
    "page_extract": (
        "bench_page_extract",
        "ms (p95)",
        "p95 <= 50 ms",
        "list detection and extraction on a 300 KB seed-like page, vs lxml's bare parse",
        60,
        30,
    ),
    "inline_p95": (
        "bench_inline",
        "ms (p95)",
        "p95 <= 30 ms",
        "inline query at 200,000 statements, update to answerInlineQuery",
        300,
        90,
    ),
    "store_new_items": (
        "bench_store_new_items",
        "s per poll cycle",
        "report only",
        "10,000 new statements, outbox rows for 1,000 subscribers, one poll",
        300,
        30,
    ),
    "summary_quality": (
        "bench_summary_quality",
        "ROUGE-1 F1",
        "R-1, R-L >= 1.1 x lead; R-2 >= lead; p95 <= 100 ms",
        "QMSum Committee validation, 400-character summaries vs lead-400; 20,000 words timed",
        120,
        60,
    ),
}


# Figures measured by a benchmark with arguments of their own: the same script on
# another backend.
ARGUMENTS: dict[str, list[str]] = {
    "send_overhead_postgres": ["--backend", "postgres"],
    "search_p95_postgres": ["--backend", "postgres"],
}


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run_one(name: str, quick: bool) -> tuple[dict[str, Any], float]:
    script, unit, target, _, allowed_full, allowed_quick = FIGURES[name]
    command = [sys.executable, "-m", f"benchmarks.{script}", *ARGUMENTS.get(name, [])]
    command += ["--quick"] if quick else []
    start = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=HERE.parent,
            stdout=subprocess.PIPE,
            stderr=None,  # progress lines go straight to the terminal
            text=True,
            timeout=(allowed_quick if quick else allowed_full) * 2,
        )
        output, status = done.stdout, done.returncode
    except subprocess.TimeoutExpired as exc:
        output, status = str(exc.stdout or ""), -1
    elapsed = time.monotonic() - start
    found: dict[str, Any] = {}
    for line in output.splitlines():
        if line.startswith("RESULT "):
            found.update(json.loads(line[len("RESULT ") :]))
    if status == 0 and name in found:
        return found[name], elapsed
    error = "timed out" if status == -1 else f"exit status {status}"
    return {
        "value": None,
        "unit": unit,
        "target": target,
        "met": False,
        "error": f"{script} failed ({error}); no number reported",
    }, elapsed


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def table(results: dict[str, Any], info: dict[str, Any]) -> str:
    lines = [
        f"Machine: {info['nproc']} cores ({info['cpu']}), Python {info['python']},"
        f" load average at start {info['load_average_at_start'][0]}",
        "",
        "| figure | what | value | target | baseline | ratio | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, entry in results.items():
        what = FIGURES[name][3]
        value = f"{_fmt(entry.get('value'))} {entry.get('unit', '')}"
        details = entry.get("details") or {}
        if name == "broadcast_pacing" and "count_429" in details:
            value += f", {details['count_429']} × 429"
        if name in ("search_p95", "search_p95_postgres", "page_extract") and "p50_ms" in details:
            value += f" (p50 {_fmt(details['p50_ms'])} ms)"
        if name == "alert_match" and "by_queries" in details:
            value += f" (100,000: {_fmt(details['by_queries']['100000']['p95_ms'])} ms)"
        if name == "search_languages" and "all" in details:
            scores = details["all"]
            value += (
                f", precision {_fmt(scores['stemmed_precision'])}"
                f" (as written: {_fmt(scores['exact_precision'])})"
            )
        if name == "summary_quality" and "ours" in details:
            ours, ratios = details["ours"], details["ratios"]
            value += (
                f", R-2 {_fmt(ours['rouge2'])} ({_fmt(ratios['rouge2'])}×),"
                f" R-L {_fmt(ours['rougeL'])} ({_fmt(ratios['rougeL'])}×),"
                f" p95 {_fmt(details['p95_ms_20000_words'])} ms"
            )
        met = "yes" if entry.get("met") else ("FAILED RUN" if entry.get("value") is None else "no")
        lines.append(
            f"| `{name}` | {what} | {value} | {entry.get('target', '')} |"
            f" {_fmt(entry.get('baseline'))} | {_fmt(entry.get('ratio'))} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, about 2 minutes")
    parser.add_argument("--only", nargs="*", choices=list(FIGURES), help="run just these")
    parser.add_argument(
        "--markdown", action="store_true", help="print the table of results.json and stop"
    )
    args = parser.parse_args(argv)
    if args.markdown:
        saved = json.loads(RESULTS.read_text())
        print(table(saved["results"] if "results" in saved else saved, machine()))
        return 0
    info = machine()
    results: dict[str, Any] = {}
    started = time.monotonic()
    for name in args.only or FIGURES:
        print(f"== {name}", file=sys.stderr, flush=True)
        results[name], elapsed = run_one(name, args.quick)
        print(f"   {name}: {_fmt(results[name].get('value'))} ({elapsed:.0f} s)", file=sys.stderr)
    total = time.monotonic() - started
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if not args.only:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        (HERE / "machine.json").write_text(
            json.dumps({**info, "quick": args.quick, "seconds": round(total)}, indent=2) + "\n"
        )
    print()
    print(table(results, info))
    print(
        f"\n{'QUICK ' if args.quick else ''}run took {total:.0f} s;"
        f" load average at end {info['load_average_at_end'][0]}"
    )
    return 1 if any(r.get("value") is None for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

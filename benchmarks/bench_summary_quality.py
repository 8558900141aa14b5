"""summary_quality: 400-character summaries of QMSum's Committee meetings, our extract
against the lead-400 baseline, by ROUGE; and the time to summarise 20,000 words.

Corpus: the Committee part of QMSum (parliamentary committee transcripts with
human-written general summaries), converted to stored-statement text by
benchmarks/data/qmsum/convert.py (one "Speaker: what was said" paragraph per
turn). The summariser was tuned on the train split only; the figures are on the
validation split (6 meetings; the train split's figures are in the details for
comparison, not as the result). For every meeting: `text.summary.summarise(text,
400)` and the baseline `text.summary.lead(text, 400)` (the first paragraph cut to
400 characters, as Communique summarised every statement before issue 18), each
scored against the reference summary by ROUGE-1, ROUGE-2 and ROUGE-L F1
(rouge-score, Porter stemming), averaged over meetings.

Time: one transcript of exactly 20,000 words (the longest validation meeting, cut
at a paragraph), summarised 40 times (QUICK: 10) after a warm-up; p50 and p95.

Targets: ROUGE-1 and ROUGE-L >= 1.1 x lead, ROUGE-2 not below lead, p95 <= 100 ms.
Fails (no number) unless every summary fits 400 characters and a second run gives
the same summaries.
"""

from __future__ import annotations

import gzip
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import BenchError, Figure, check, emit, load_average, log, main_guard
from benchmarks.common import percentile as nearest_rank
from text.summary import lead, summarise

DATA = Path(__file__).resolve().parent / "data" / "qmsum"
LIMIT = 400
WORDS = 20_000
MEASURES = ("rouge1", "rouge2", "rougeL")


def _meetings(split: str) -> list[dict[str, str]]:
    with gzip.open(DATA / f"committee-{split}.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _scorer() -> Any:
    try:
        from rouge_score import rouge_scorer
    except ImportError as exc:
        raise BenchError("rouge-score is missing: pip install -e '.[bench]'") from exc
    return rouge_scorer.RougeScorer(list(MEASURES), use_stemmer=True)


def _scores(meetings: list[dict[str, str]], scorer: Any) -> dict[str, dict[str, float]]:
    """Mean F1 per measure, for ours and for the lead."""
    sums = {"ours": dict.fromkeys(MEASURES, 0.0), "lead": dict.fromkeys(MEASURES, 0.0)}
    for meeting in meetings:
        ours = summarise(meeting["text"], LIMIT)
        check(len(ours) <= LIMIT, f"{meeting['id']}: summary of {len(ours)} characters")
        check(summarise(meeting["text"], LIMIT) == ours, f"{meeting['id']}: not deterministic")
        for name, summary in (("ours", ours), ("lead", lead(meeting["text"], LIMIT))):
            scores = scorer.score(meeting["summary"], summary)
            for measure in MEASURES:
                sums[name][measure] += scores[measure].fmeasure
    return {
        name: {m: round(total / len(meetings), 4) for m, total in by_measure.items()}
        for name, by_measure in sums.items()
    }


def _transcript_of(words: int, meetings: list[dict[str, str]]) -> str:
    longest = max(meetings, key=lambda m: len(m["text"].split()))
    kept: list[str] = []
    count = 0
    for paragraph in longest["text"].split("\n\n"):
        take = paragraph.split()[: words - count]
        kept.append(" ".join(take))
        count += len(take)
        if count >= words:
            break
    check(count == words, f"the longest meeting has only {count} words")
    return "\n\n".join(kept)


def _timings(text: str, runs: int) -> list[float]:
    summarise(text, LIMIT)  # warm-up: compiled patterns, caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        summarise(text, LIMIT)
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(quick: bool) -> Figure:
    scorer = _scorer()
    validation = _meetings("val")
    check(len(validation) == 6, f"expected 6 validation meetings, found {len(validation)}")
    log(f"scoring {len(validation)} validation meetings")
    report = _scores(validation, scorer)
    train = _scores(_meetings("train"), scorer) if not quick else None
    text = _transcript_of(WORDS, validation)
    log(f"timing summarise() on {WORDS:,} words ({len(text):,} characters)")
    times = _timings(text, 10 if quick else 40)
    p95 = nearest_rank(times, 95)
    ours, baseline = report["ours"], report["lead"]
    ratios = {m: round(ours[m] / baseline[m], 3) if baseline[m] else 0.0 for m in MEASURES}
    met = (
        ratios["rouge1"] >= 1.1 and ratios["rougeL"] >= 1.1 and ratios["rouge2"] >= 1.0
    ) and p95 <= 100
    details: dict[str, Any] = {
        "split": "validation (6 meetings)",
        "ours": ours,
        "lead": baseline,
        "ratios": ratios,
        "p95_ms_20000_words": round(p95, 1),
        "p50_ms_20000_words": round(statistics.median(times), 1),
        "runs_timed": len(times),
        "limit_chars": LIMIT,
        "load_average_1m": load_average()[0],
    }
    if train is not None:
        details["train_split_for_comparison"] = train
    return Figure(
        "summary_quality",
        ours["rouge1"],
        "ROUGE-1 F1",
        "R-1, R-L >= 1.1 x lead; R-2 >= lead; p95 <= 100 ms",
        met,
        baseline=baseline["rouge1"],
        ratio=ratios["rouge1"],
        details=details,
    )


def run(quick: bool) -> None:
    emit(measure(quick))


if __name__ == "__main__":
    sys.exit(main_guard(run, __doc__))

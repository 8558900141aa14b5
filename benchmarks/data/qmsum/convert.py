"""Convert QMSum's Committee meetings into the small copy the summary_quality benchmark reads.

Usage: ``python benchmarks/data/qmsum/convert.py SOURCE`` where SOURCE is either a
checkout of https://github.com/Yale-LILY/QMSum or its bare git directory (what a
mirror or ``git clone --bare`` gives). It writes ``committee-train.jsonl.gz`` and
``committee-val.jsonl.gz`` beside this script. The test split is not converted:
nothing here is tuned or reported on it.

Each output line is one meeting: ``{"id", "summary", "text"}``. ``summary`` is the
answer to the meeting's general query ("Summarize the whole meeting."). ``text`` is
the transcript as an official site publishes one and as Communique stores it:
one paragraph per turn, ``Speaker: what was said``, paragraphs separated by a blank
line, whitespace inside a paragraph collapsed. Everything else in QMSum (topics,
specific queries, spans) is left out, since the benchmark does not use it.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPLITS = ("train", "val")
GENERAL_QUERY = "summarize the whole meeting."


def _git(source: Path, *args: str) -> str:
    done = subprocess.run(["git", f"--git-dir={source}", *args], check=True, capture_output=True)
    return done.stdout.decode("utf-8")


def _read_split(source: Path, split: str) -> dict[str, str]:
    """Meeting name (e.g. "covid_2") -> its JSON text, for one split."""
    folder = f"data/Committee/{split}"
    if (source / folder).is_dir():
        return {f.stem: f.read_text(encoding="utf-8") for f in (source / folder).glob("*.json")}
    # A bare repository: read the files of its newest commit.
    names = _git(source, "ls-tree", "--name-only", f"HEAD:{folder}").split()
    return {
        Path(name).stem: _git(source, "show", f"HEAD:{folder}/{name}")
        for name in names
        if name.endswith(".json")
    }


def _meeting_text(turns: list[dict[str, str]]) -> str:
    paragraphs = []
    for turn in turns:
        speaker = " ".join(turn["speaker"].split())
        content = " ".join(turn["content"].split())
        if content:
            paragraphs.append(f"{speaker}: {content}" if speaker else content)
    return "\n\n".join(paragraphs)


def _general_summary(meeting: dict[str, list[dict[str, str]]]) -> str:
    for query in meeting["general_query_list"]:
        if query["query"].strip().lower() == GENERAL_QUERY:
            return " ".join(query["answer"].split())
    raise ValueError("a meeting without its general summary")


def _natural_order(name: str) -> tuple[str, int]:
    kind, _, number = name.rpartition("_")
    return kind, int(number) if number.isdigit() else -1


def convert(source: Path) -> None:
    for split in SPLITS:
        meetings = _read_split(source, split)
        out = HERE / f"committee-{split}.jsonl.gz"
        # mtime=0: the same input always gives the same bytes.
        with (
            open(out, "wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as packed,
        ):
            for name in sorted(meetings, key=_natural_order):
                meeting = json.loads(meetings[name])
                record = {
                    "id": name,
                    "summary": _general_summary(meeting),
                    "text": _meeting_text(meeting["meeting_transcripts"]),
                }
                packed.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        print(f"{out.name}: {len(meetings)} meetings, {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    convert(Path(sys.argv[1]))

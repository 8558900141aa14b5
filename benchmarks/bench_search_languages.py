"""search_languages: recall and precision of search by word forms (stems) against
search by the forms as written (what /search did before), over a small relevance
set in English and Russian (benchmarks/data/relevance/, see its README).

Each set's statements are stored through Store.record_poll (so they are stemmed
as the bot stems them) in a temporary database; each query is run both ways over
every statement, with no ranking window: stemmed, as Store.search finds them
(storage.search.plan_match); exact, the query's words looked up as written in
items_fts (storage.search.build_match_query). Recall and precision are pooled
over all queries of a language (micro-averaged). Target, in each language and
in all: stemmed recall above exact recall, stemmed precision not below exact.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import Figure, check, emit, log, main_guard
from storage.models import NewItem
from storage.query import parse_query
from storage.search import build_match_query, plan_match
from storage.store import Store

DATA = Path(__file__).resolve().parent / "data" / "relevance"
LANGUAGES = ("en", "ru")
NOW = datetime(2021, 12, 3, 4, 30, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Scores:
    relevant: int  # judged relevant, over all queries
    retrieved: int  # found, over all queries
    hits: int  # found and relevant

    @property
    def recall(self) -> float:
        return self.hits / self.relevant if self.relevant else 0.0

    @property
    def precision(self) -> float:
        return self.hits / self.retrieved if self.retrieved else 1.0

    def __add__(self, other: Scores) -> Scores:
        return Scores(
            self.relevant + other.relevant,
            self.retrieved + other.retrieved,
            self.hits + other.hits,
        )


def load(language: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((DATA / f"{language}.json").read_text("utf-8"))
    return data


async def evaluate(store: Store, language: str) -> tuple[Scores, Scores]:
    """(stemmed, exact) scores of one language's queries; its statements must be
    stored in `store` with their ids as identities."""
    data = load(language)
    statements = data["statements"]
    queries = data["queries"]
    assert isinstance(statements, list) and isinstance(queries, list)
    rows = await store._fetchall("SELECT id, identity FROM items")  # ids back to the set's
    names = {int(r[0]): str(r[1]) for r in rows}
    stemmed = exact = Scores(0, 0, 0)
    for entry in queries:
        relevant = set(entry["relevant"])
        sql, params = plan_match(parse_query(entry["query"])).select_ids()
        found = {names[int(r[0])] for r in await store._fetchall(sql, params)}
        as_written = {
            names[int(r[0])]
            for r in await store._fetchall(
                "SELECT rowid FROM items_fts WHERE items_fts MATCH ?",
                [build_match_query(entry["query"])],
            )
        }
        stemmed += Scores(len(relevant), len(found), len(found & relevant))
        exact += Scores(len(relevant), len(as_written), len(as_written & relevant))
    return stemmed, exact


async def store_set(store: Store, language: str) -> None:
    statements = load(language)["statements"]
    assert isinstance(statements, list)
    feed = await store.add_feed(f"https://relevance.example/{language}.xml")
    await store.record_poll(
        feed.id,
        [
            NewItem(s["id"], None, None, s["title"], s["summary"], s["content"], NOW)
            for s in statements
        ],
        feed_title=language,
        etag=None,
        last_modified=None,
        content_hash=None,
        next_poll_at=NOW,
        push=False,
    )


async def measure() -> Figure:
    details: dict[str, object] = {}
    total_stemmed = total_exact = Scores(0, 0, 0)
    met = True
    with tempfile.TemporaryDirectory() as tmp:
        for language in LANGUAGES:
            store = await Store.open(Path(tmp) / f"{language}.sqlite3", clock=lambda: NOW)
            try:
                await store_set(store, language)
                data = load(language)
                check(len(data["statements"]) >= 30, f"{language}: fewer than 30 statements")  # type: ignore[arg-type]
                check(len(data["queries"]) >= 20, f"{language}: fewer than 20 queries")  # type: ignore[arg-type]
                stemmed, exact = await evaluate(store, language)
            finally:
                await store.close()
            log(
                f"{language}: stemmed recall {stemmed.recall:.3f} precision"
                f" {stemmed.precision:.3f}; exact recall {exact.recall:.3f} precision"
                f" {exact.precision:.3f}"
            )
            met = met and stemmed.recall > exact.recall and stemmed.precision >= exact.precision
            details[language] = _scores(stemmed, exact)
            total_stemmed += stemmed
            total_exact += exact
    details["all"] = _scores(total_stemmed, total_exact)
    return Figure(
        "search_languages",
        round(total_stemmed.recall, 3),
        "recall (stemmed, en + ru)",
        "recall above exact-form recall, precision not below, in each language",
        met,
        baseline=round(total_exact.recall, 3),
        ratio=round(total_stemmed.recall / total_exact.recall, 3),
        details=details,
    )


def _scores(stemmed: Scores, exact: Scores) -> dict[str, float | int]:
    return {
        "stemmed_recall": round(stemmed.recall, 3),
        "stemmed_precision": round(stemmed.precision, 3),
        "exact_recall": round(exact.recall, 3),
        "exact_precision": round(exact.precision, 3),
        "relevant": stemmed.relevant,
        "stemmed_retrieved": stemmed.retrieved,
        "exact_retrieved": exact.retrieved,
    }


def run(quick: bool) -> None:
    # The set is small: a quick run is the full run.
    emit(asyncio.run(measure()))


if __name__ == "__main__":
    sys.exit(main_guard(run, __doc__))

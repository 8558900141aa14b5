"""Every stored summary recomputed with the current summariser, after an upgrade
(`communique resummarise`).

A statement keeps the summary it was stored with until then, so the summaries a
chat was pushed and the ones /latest shows agree. This goes through the stored
statements in id order, a batch at a time: each batch is summarised in a thread
(a long transcript takes tens of milliseconds; the event loop, and a bot sharing
the process, keep running) and its changed summaries are committed before the
next batch is read. Stopped anywhere, it can go on after the last statement
committed (`after_id`); run again, it changes nothing. A bot running on the same
database meanwhile is safe: SQLite's WAL lets both read, each write is a short
transaction, and a summary a poll rewrote meanwhile is left as the poll wrote it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from storage.api import StoreAPI
from storage.store import StoredSummary, SummaryChange
from text.summary import summarise_stored

BATCH = 200  # statements read, summarised and committed at once


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a run has come."""

    done: int  # statements looked at in this run
    total: int  # statements this run had to look at when it started
    changed: int  # summaries written in this run
    last_id: int  # the last statement committed: a run that stops goes on after it


async def resummarise(
    store: StoreAPI,
    *,
    after_id: int = 0,
    batch: int = BATCH,
    progress: Callable[[Progress], None] | None = None,
) -> Progress:
    """Recompute the summaries of the statements with an id above `after_id`;
    `progress` is told after each batch is committed."""
    total = await store.count_items_after(after_id)
    state = Progress(done=0, total=total, changed=0, last_id=after_id)
    while True:
        rows = await store.summaries_after(state.last_id, batch)
        if not rows:
            return state
        changes = await asyncio.to_thread(_changes, rows)
        written = await store.replace_summaries(changes)
        state = Progress(
            done=state.done + len(rows),
            # Statements stored since the run started are done too.
            total=max(state.total, state.done + len(rows)),
            changed=state.changed + written,
            last_id=rows[-1].id,
        )
        if progress is not None:
            progress(state)


def _changes(rows: list[StoredSummary]) -> list[SummaryChange]:
    """The summaries that the current summariser writes differently."""
    changes = []
    for row in rows:
        new = summarise_stored(row.content, row.summary)
        if new != row.summary:
            changes.append(SummaryChange(row.id, row.summary, new))
    return changes

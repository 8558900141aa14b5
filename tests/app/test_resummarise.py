"""`communique resummarise`: statements stored before the summariser (their lead as
summary) get today's summary, in committed batches, with progress on stderr and the
count on stdout, while the bot runs on the same database; both search indexes of
the summary follow; a second run changes nothing; an interrupted run goes on where
it stopped."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import __version__
from bot.cli import resume_path
from bot.config import SPECS
from jobs.resummarise import Progress, resummarise
from storage.words import stem_text
from tests.support.commands import text
from tests.support.feeds import Entry
from tests.support.rig import USER, Rig, add_feed
from text.summary import lead, summarise

GREETING = "Thank you for inviting me. It is a great pleasure to be among friends again."
SPEECH = "".join(
    [f"<p>{GREETING}</p>"]
    + [
        f"<p>In round {n} the grain corridor and the Black Sea ports were discussed at "
        "length, and the ministry set out its position on the corridor in detail.</p>"
        for n in range(14)
    ]
)


def entries() -> list[Entry]:
    # The oldest first: it is statement 1.
    speech = Entry("speech", "Remarks at the forum", SPEECH, datetime(2021, 11, 1, tzinfo=UTC))
    shorts = [
        Entry(f"s{n}", f"Comment {n}", f"<p>Comment number {n}.</p>", datetime(2021, 11, n))
        for n in range(2, 7)
    ]
    return [speech, *shorts]


def communique(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SPECS}
    env["DATABASE_PATH"] = str(database)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=database.parent,
        env=env,
        timeout=60,
    )


def as_before_the_summariser(database: Path) -> tuple[int, str]:
    """Give the speech the summary the bot stored before the summariser: its lead
    (with the stems that version wrote too). Returns its id and that summary."""
    with sqlite3.connect(database) as db:
        item_id, content = db.execute(
            "SELECT id, content FROM items WHERE guid = 'speech'"
        ).fetchone()
        old = lead(content)
        db.execute(
            "UPDATE items SET summary = ?, summary_stems = ? WHERE id = ?",
            (old, stem_text(old), item_id),
        )
    return int(item_id), old


def summary_matches(database: Path, words: str) -> set[int]:
    """Statements whose summary matches, in the index of the words as written and in
    the index of stems; the two must agree."""
    with sqlite3.connect(database) as db:
        exact = {
            int(r[0])
            for r in db.execute(
                "SELECT rowid FROM items_fts WHERE items_fts MATCH ?", (f"summary : {words}",)
            )
        }
        stems = {
            int(r[0])
            for r in db.execute(
                "SELECT rowid FROM items_fts_stems WHERE items_fts_stems MATCH ?",
                (f"summary_stems : {stem_text(words)}",),
            )
        }
    assert exact == stems, (words, exact, stems)
    return exact


@pytest.mark.sqlite_only
async def test_resummarise_while_the_bot_runs(rig: Rig) -> None:
    await add_feed(rig, *entries())
    database = rig.settings.database_path
    item_id, old = as_before_the_summariser(database)
    assert old.startswith("Thank you for inviting me")
    assert summary_matches(database, "inviting") == {item_id}

    done = communique(database, "resummarise")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "resummarised 6 statements: 1 summary changed\n"
    assert "resummarising: 6/6 statements, 1 changed" in done.stderr
    item = await rig.services.store.get_item(item_id)
    assert item is not None
    assert item.summary == summarise(item.content) != old
    assert "Thank you" not in item.summary and "grain corridor" in item.summary
    # Both indexes of the summary follow: the greeting's words are gone from it, the
    # new summary's words are found in it.
    assert summary_matches(database, "inviting") == set()
    assert summary_matches(database, "corridor") == {item_id}
    # The running bot shows and finds it so.
    latest = await rig.reply_to(USER, USER, "/latest 6")
    assert "Remarks at the forum" in text(latest)
    assert "Thank you for inviting" not in text(latest)
    found = await rig.reply_to(USER, USER, "/search corridors")
    assert "Remarks at the forum" in text(found)
    assert not resume_path(database).exists()

    again = communique(database, "resummarise")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "resummarised 6 statements: 0 summaries changed\n"


@pytest.mark.sqlite_only
async def test_it_goes_in_committed_batches_and_goes_on_where_it_stopped(rig: Rig) -> None:
    await add_feed(rig, *entries())
    database = rig.settings.database_path
    item_id, _ = as_before_the_summariser(database)
    store = rig.services.store

    seen: list[Progress] = []
    result = await resummarise(store, batch=2, progress=seen.append)
    assert [p.done for p in seen] == [2, 4, 6]
    assert {p.total for p in seen} == {6}
    assert result.changed == 1 and result.last_id == max(p.last_id for p in seen)
    item = await store.get_item(item_id)
    assert item is not None and item.summary == summarise(item.content)

    # A run stopped after the speech: the next one goes on after it, and counts
    # what the first did.
    as_before_the_summariser(database)
    resume_path(database).write_text(
        f'{{"version": "{__version__}", "after": {item_id}, "done": 1, "changed": 0}}'
    )
    resumed = communique(database, "resummarise")
    assert resumed.returncode == 0, resumed.stderr
    assert f"going on after statement {item_id}" in resumed.stderr
    assert resumed.stdout == "resummarised 6 statements: 0 summaries changed\n"
    assert not resume_path(database).exists()
    # --restart starts over.
    resume_path(database).write_text(
        f'{{"version": "{__version__}", "after": {item_id}, "done": 1, "changed": 0}}'
    )
    restarted = communique(database, "resummarise", "--restart")
    assert restarted.stdout == "resummarised 6 statements: 1 summary changed\n"


def test_without_a_database_it_says_so(tmp_path: Path) -> None:
    done = communique(tmp_path / "none.sqlite3", "resummarise")
    assert done.returncode == 1
    assert "there is no database at" in done.stderr
    assert not (tmp_path / "none.sqlite3").exists()

"""Inline search: `@bot QUERY` in any chat offers matching statements to share, paged
with next_offset; an empty query offers the latest; a query /search would refuse
gets the reason instead of results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.support.feeds import Entry
from tests.support.rig import OTHER, Rig, add_feed


async def ask(rig: Rig, query: str, offset: str = "") -> dict[str, Any]:
    query_id = rig.api.send_inline_query(OTHER, query, offset=offset)["inline_query"]["id"]
    await rig.api.wait_for(lambda: query_id in rig.api.inline_answers, timeout=5)
    return rig.api.inline_answers[query_id]


def statements(count: int) -> list[Entry]:
    return [
        Entry(
            f"i{n}",
            f"Statement {n} on {'sanctions' if n % 2 else 'visas'}",
            f"Lead of statement {n}.",
            datetime(2021, 11, 1 + n % 28, n % 24, tzinfo=UTC),
        )
        for n in range(1, count + 1)
    ]


async def test_matching_statements_are_offered_to_share(rig: Rig) -> None:
    await add_feed(rig, *statements(5))
    answer = await ask(rig, "sanction")
    titles = [r["title"] for r in answer["results"]]
    assert sorted(titles) == [
        "Statement 1 on sanctions",
        "Statement 3 on sanctions",
        "Statement 5 on sanctions",
    ]
    first = answer["results"][0]
    assert first["type"] == "article"
    assert first["description"].startswith(
        ("1 November", "2 November", "3 November", "4 November", "5 November", "6 November")
    )
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML" and content["message_text"].startswith("<b>Statement")
    assert answer["next_offset"] == "" and answer["cache_time"] == 30


async def test_an_empty_query_offers_the_latest_a_page_at_a_time(rig: Rig) -> None:
    await add_feed(rig, *statements(45))
    first = await ask(rig, "")
    assert len(first["results"]) == 20 and first["next_offset"] == "20"
    second = await ask(rig, "", offset="20")
    third = await ask(rig, "", offset="40")
    ids = [r["id"] for page in (first, second, third) for r in page["results"]]
    assert len(ids) == len(set(ids)) == 45
    assert third["next_offset"] == ""


async def test_a_refused_query_says_why(rig: Rig) -> None:
    await add_feed(rig, *statements(3))
    answer = await ask(rig, "s*")
    assert answer["results"] == []
    assert rig.api.calls_to("answerInlineQuery")[-1].params["button"]

"""Hostile feeds: the tests/data corpus and hypothesis-made input (random bytes, random
XML trees, deep nesting, huge attributes, entity tricks, wrong encodings, hostile
text inside a well-formed feed) go the whole way — fetched from the local feed
server, parsed, normalised and stored by the real Poller, then rendered as a push,
a digest and a /latest reply. Never an unhandled exception; never the event loop
blocked for more than 100 ms (a ticker task measures it during every poll, and a
poll over the limit is measured once more, so that a busy machine's hiccup is told
from a real block); every
rendered message is HTML Telegram accepts and within its 4096 limit."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.telegram_html import telegram_length, validate_telegram_html
from tests.reliability.conftest import Report
from tests.support.feed_server import FeedServer
from tests.support.feeds import PARSE_CORPUS
from tests.support.polling import PollEnv, poll_env
from text.statements import render_digest, render_item, render_latest

MAX_LAG = 0.100
ZONES = [ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata")]


@dataclass
class Tally:
    """What went through, for the summary line."""

    inputs: int = 0
    stored: int = 0
    rendered: int = 0
    max_lag: float = 0.0
    lags: list[tuple[float, str]] = field(default_factory=list)


@asynccontextmanager
async def ticking() -> AsyncIterator[list[float]]:
    """A callback that reschedules itself on every turn of the event loop; yields the
    gaps between its runs. The longest gap is the longest the loop was blocked, with
    no timer of our own in the way."""
    gaps: list[float] = []
    loop = asyncio.get_running_loop()
    last = time.perf_counter()
    handle: asyncio.Handle | None = None

    def tick() -> None:
        nonlocal last, handle
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
        handle = loop.call_soon(tick)

    handle = loop.call_soon(tick)
    try:
        yield gaps
    finally:
        assert handle is not None
        handle.cancel()


_paths: Iterator[int] = itertools.count(1)


async def through_the_pipeline(
    env: PollEnv, tally: Tally, body: bytes, *, content_type: str = "application/rss+xml"
) -> None:
    """Serve, poll, store, render and check one feed body."""
    path = f"/hostile/{next(_paths)}.xml"
    env.server.set(path, body, content_type=content_type)
    feed = await env.add_feed(path)
    async with ticking() as gaps:
        report = await env.poller.poll_due()
    lag = max(gaps, default=0.0)
    if lag >= MAX_LAG:
        # Measured once more as another feed: code that blocks the loop blocks it
        # every time, while a busy machine (the OS or another process taking the
        # CPU) stalls one run and not the next.
        again = f"/hostile/{next(_paths)}.xml"
        env.server.set(again, body, content_type=content_type)
        await env.add_feed(again)
        async with ticking() as gaps:
            await env.poller.poll_due()
        lag = min(lag, max(gaps, default=0.0))
    tally.inputs += 1
    tally.max_lag = max(tally.max_lag, lag)
    tally.lags.append((lag, path))
    assert report is not None
    status = await env.feed(feed)
    assert status.last_success_at is not None or status.last_error, "no outcome recorded"
    items = await env.store.latest_items(50, feed_id=feed.id)
    tally.stored += len(items)
    messages: list[str] = []
    for tz in ZONES:
        messages += [render_item(item, tz) for item in items[:10]]
        if items:
            messages += render_digest(items, items[0].feed_title, tz)
        messages.append(render_latest(items[:10], tz))
    for text in messages:
        validate_telegram_html(text)
        assert telegram_length(text) <= 4096, telegram_length(text)
    tally.rendered += len(messages)
    assert lag < MAX_LAG, f"the event loop was blocked for {lag * 1000:.0f} ms polling {path}"


@pytest.fixture
async def env(tmp_path: Path, feed_server: FeedServer) -> AsyncIterator[PollEnv]:
    async with poll_env(tmp_path, feed_server) as running:
        yield running


# ------------------------------------------------------------------ the corpus and set pieces


def entity_tricks() -> list[str]:
    laughs = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{n} "{("&l" + str(n - 1) + ";") * 10}">' for n in range(1, 10)
    )
    return [
        f'<?xml version="1.0"?><!DOCTYPE rss [{laughs}]><rss version="2.0"><channel>'
        "<title>&l9;</title><item><title>&l9;</title><guid>x</guid></item></channel></rss>",
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title>'
        "<guid>x</guid></item></channel></rss>",
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % p SYSTEM "http://10.0.0.1/x.dtd"> %p;]>'
        '<rss version="2.0"><channel><item><title>t</title></item></channel></rss>',
        '<rss version="2.0"><channel><item><title>&undefined; &amp;amp; &#0; &#xD800; '
        "&#x110000; &#65;&#x1F600;</title><guid>e</guid></item></channel></rss>",
        '<rss version="2.0"><channel><item><title>&lt;b&gt;bold&lt;/b&gt; &lt;a href="'
        'javascript:alert(1)"&gt;x&lt;/a&gt;</title><description><![CDATA[<script>alert(1)'
        "</script><b><i>unclosed <a href='\"'>q</description><guid>c</guid></item>"
        "</channel></rss>",
    ]


def set_pieces() -> list[tuple[str, bytes, str]]:
    rss = "application/rss+xml"
    item = "<item><title>T {n}</title><guid>g{n}</guid><description>{d}</description></item>"
    pieces: list[tuple[str, bytes, str]] = [
        (
            "deep nesting",
            b"<rss><channel>" + b"<a>" * 50_000 + b"</a>" * 50_000 + b"</channel></rss>",
            rss,
        ),
        (
            "deep item",
            b'<rss version="2.0"><channel><item><title>x</title><description>'
            + b"<div>" * 20_000
            + b"</description></item></channel></rss>",
            rss,
        ),
        (
            "huge attribute",
            b'<rss version="2.0" x="' + b"A" * 2_000_000 + b'"><channel>'
            b"<item><title>t</title><guid>h</guid></item></channel></rss>",
            rss,
        ),
        (
            "many attributes",
            b'<rss version="2.0"><channel><item '
            + b" ".join(b"a%d='v'" % n for n in range(20_000))
            + b"><title>t</title><guid>m</guid></item></channel></rss>",
            rss,
        ),
        (
            "huge title",
            (
                '<rss version="2.0"><channel><item><title>'
                + "Заявление " * 50_000
                + "</title><guid>t</guid></item></channel></rss>"
            ).encode(),
            rss,
        ),
        (
            "5000 items",
            (
                '<rss version="2.0"><channel><title>Big</title>'
                + "".join(item.format(n=n, d="&lt;p&gt;text&lt;/p&gt;" * 5) for n in range(5000))
                + "</channel></rss>"
            ).encode(),
            rss,
        ),
        (
            "utf-16 declared, utf-8 sent",
            '<?xml version="1.0" encoding="utf-16"?><rss version="2.0">'
            "<channel><item><title>Привет</title><guid>u</guid></item></channel></rss>".encode(),
            rss,
        ),
        (
            "latin-1 sent as utf-8",
            (
                '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                "<item><title>Déclaration ½</title><guid>l</guid></item></channel></rss>"
            ).encode("latin-1"),
            rss,
        ),
        (
            "utf-16 with charset utf-8",
            '<?xml version="1.0" encoding="utf-16"?><rss version="2.0">'
            "<channel><item><title>Заявление</title><guid>w</guid></item></channel></rss>".encode(
                "utf-16"
            ),
            "application/rss+xml; charset=utf-8",
        ),
        (
            "unknown charset",
            b'<?xml version="1.0" encoding="x-klingon"?><rss version="2.0">'
            b"<channel><item><title>t\xff\xfe</title><guid>k</guid></item></channel></rss>",
            "text/xml; charset=x-klingon",
        ),
        (
            "nul bytes",
            b'<rss version="2.0"><channel><item><title>a\x00b\x01c</title>'
            b"<guid>n</guid></item></channel></rss>",
            rss,
        ),
        ("empty", b"", rss),
        ("an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 4000, "image/png"),
    ]
    pieces += [(f"entities {n}", body.encode(), rss) for n, body in enumerate(entity_tricks())]
    for path in sorted(PARSE_CORPUS.iterdir()):
        if path.suffix in (".xml", ".html"):
            kind = "text/html" if path.suffix == ".html" else rss
            pieces.append((path.name, path.read_bytes(), kind))
    return pieces


async def test_the_corpus_and_set_pieces_go_through_cleanly(
    env: PollEnv, reliability_report: Report
) -> None:
    tally = Tally()
    for name, body, content_type in set_pieces():
        try:
            await through_the_pipeline(env, tally, body, content_type=content_type)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc
    worst = max(tally.lags)
    reliability_report(
        inputs=tally.inputs,
        stored=tally.stored,
        rendered=tally.rendered,
        max_lag_ms=round(worst[0] * 1000),
    )
    # The big feed and the good corpus files were stored, not refused wholesale.
    assert await env.store.count_items() > 5000


async def test_a_feed_with_a_title_of_several_megabytes_does_not_block_the_loop(
    env: PollEnv,
) -> None:
    body = (
        '<rss version="2.0"><channel><item><title>'
        + "Заявление " * 400_000
        + "</title><guid>t</guid></item></channel></rss>"
    ).encode()
    await through_the_pipeline(env, Tally(), body)


# ------------------------------------------------------------------ generated input

TAGS = [
    "rss",
    "channel",
    "item",
    "title",
    "link",
    "description",
    "guid",
    "pubDate",
    "feed",
    "entry",
    "content",
    "summary",
    "id",
    "updated",
    "author",
    "x:y",
    "a",
    "b",
]
# Text with everything Telegram's HTML and XML care about, and what people abuse.
PIECES = [
    *"<>&\"';/=:-_ abcXYZ019",
    *["\u202e", "\u200b", "\ufeff", "\x00", "\x1b", "é", "🙂", "\ud7ff", "\u2028"],
    *["&amp;", "&lt;b&gt;", "<![CDATA[", "]]>", "<b>", "</a>", "&#0;", "&nbsp;"],
]
HOSTILE_TEXT = st.lists(st.sampled_from(PIECES), max_size=120).map("".join)


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def xml_tree(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(st.sampled_from(TAGS))
    attrs = "".join(
        f' {name}="{xml_escape(value).replace(chr(34), "&quot;")}"'
        for name, value in draw(
            st.dictionaries(
                st.sampled_from(["href", "rel", "type", "version", "xml:base", "src"]),
                HOSTILE_TEXT,
                max_size=3,
            )
        ).items()
    )
    if depth > 4 or draw(st.booleans()):
        body = draw(HOSTILE_TEXT)
        body = body if draw(st.booleans()) else xml_escape(body)
    else:
        body = "".join(draw(st.lists(xml_tree(depth + 1), max_size=4)))
    return f"<{tag}{attrs}>{body}</{tag}>"


@st.composite
def hostile_feed(draw: st.DrawFn) -> bytes:
    """A well-formed RSS or Atom feed whose every string is hostile."""
    items = draw(
        st.lists(
            st.tuples(HOSTILE_TEXT, HOSTILE_TEXT, HOSTILE_TEXT, HOSTILE_TEXT),
            min_size=1,
            max_size=8,
        )
    )
    if draw(st.booleans()):
        entries = "".join(
            f"<item><title>{xml_escape(t)}</title><link>{xml_escape(link)}</link>"
            f"<guid>{xml_escape(g)}</guid><description>{xml_escape(d)}</description></item>"
            for t, link, g, d in items
        )
        title = xml_escape(items[0][0])
        doc = f'<rss version="2.0"><channel><title>{title}</title>{entries}</channel></rss>'
    else:
        entries = "".join(
            f"<entry><title type='html'>{xml_escape(t)}</title><link href='{xml_escape(link)}'/>"
            f"<id>{xml_escape(g)}</id><content type='html'>{xml_escape(d)}</content></entry>"
            for t, link, g, d in items
        )
        doc = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>{entries}</feed>'
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "cp1251", "latin-1"]))
    declared = draw(st.sampled_from(["utf-8", "utf-16", "windows-1251", "iso-8859-1", "bogus"]))
    return f'<?xml version="1.0" encoding="{declared}"?>{doc}'.encode(encoding, "replace")


SIZES = {"ci": 40, "soak": 400}


def examples(request: pytest.FixtureRequest) -> int:
    return SIZES["soak" if request.config.getoption("--soak") else "ci"]


def _settings(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


@pytest.fixture
def generated_tally(reliability_report: Report) -> Iterator[Tally]:
    tally = Tally()
    yield tally
    reliability_report(
        inputs=tally.inputs,
        stored=tally.stored,
        rendered=tally.rendered,
        max_lag_ms=round(tally.max_lag * 1000),
    )


INPUTS = st.one_of(
    st.binary(max_size=4000),
    xml_tree().map(lambda tree: tree.encode("utf-8", "surrogatepass")),
    hostile_feed(),
)


async def test_generated_feeds_go_through_cleanly(
    env: PollEnv, generated_tally: Tally, request: pytest.FixtureRequest
) -> None:
    loop = asyncio.get_running_loop()

    # Hypothesis drives examples synchronously: it runs in a worker thread and hands
    # each example to this event loop, which stays free to serve, poll and tick.
    @_settings(examples(request))
    @given(body=INPUTS)
    def check(body: bytes) -> None:
        asyncio.run_coroutine_threadsafe(
            through_the_pipeline(env, generated_tally, body), loop
        ).result(timeout=60)

    await asyncio.to_thread(check)

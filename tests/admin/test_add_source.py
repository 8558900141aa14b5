"""/addfeed given a web page, and /addpage, end to end through the fake Bot API and
the local feed server (issue 16): the feed a page names is added and named; several
are offered as buttons; a page without a feed is previewed (count, first five, why)
and added as a page source that stores its backlog silently (three pages of it) and
pushes the next new statement with its own page's text; selectors, refusals and
stale previews get clear answers and change nothing."""

from __future__ import annotations

from emulator import SentMessage
from tests.support.commands import button, check_output, current, press, text
from tests.support.feeds import (
    Entry,
    atom,
    html_list,
    rss,
    statement,
    statements_of_the_seed,
)
from tests.support.page_site import HTML, body_of, list_path, serve_list, serve_statement
from tests.support.rig import ADMIN, USER, Rig, subscribe

ALTERNATE = '<link rel="alternate" type="{type}" title="{title}" href="{href}">'
WELL_KNOWN = ["/feed", "/rss", "/rss.xml", "/atom.xml", "/index.xml", "/feed.json"]


async def preview_of(rig: Rig, command: str) -> SentMessage:
    reply = await rig.reply_to(ADMIN, ADMIN, command)
    assert reply.buttons, text(reply)
    return reply


# ------------------------------------------------------------------ a page's feeds


async def test_a_page_that_names_its_feed_adds_that_feed_and_says_so(rig: Rig) -> None:
    head = ALTERNATE.format(type="application/rss+xml", title="Statements", href="/feed.xml")
    rig.feeds.set("/news", html_list(statements_of_the_seed(4), head=head), content_type=HTML)
    rig.feeds.set("/feed.xml", rss([statement(1), statement(2)], title="Embassy feed"))
    feed_url = rig.feeds.url("/feed.xml")

    reply = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/news')}")

    assert text(reply).splitlines() == [
        "Added feed 1: Embassy feed",
        f"The page names this feed: {feed_url}",
        "Stored 2 statement(s) already in it; none were pushed. New statements will be"
        " pushed to subscribers.",
    ]
    (feed,) = await rig.services.store.list_feeds()
    assert (feed.url, feed.kind) == (feed_url, "feed")
    # The named feed is the answer: the site's usual feed addresses are not tried.
    assert [r.path for r in rig.feeds.requests] == ["/news", "/feed.xml"]
    await check_output(rig)


async def test_a_page_whose_feed_is_followed_already_says_so(rig: Rig) -> None:
    head = ALTERNATE.format(type="application/rss+xml", title="Statements", href="/feed.xml")
    rig.feeds.set("/news", html_list(statements_of_the_seed(4), head=head), content_type=HTML)
    rig.feeds.set("/feed.xml", rss([statement(1)], title="Embassy feed"))
    await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/feed.xml')}")

    reply = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/news')}")

    assert text(reply) == (
        f"The feed this page names, {rig.feeds.url('/feed.xml')}, is already there:"
        " feed 1. Nothing changed."
    )
    assert len(await rig.services.store.list_feeds()) == 1


async def test_a_feed_only_at_a_well_known_path_is_found_and_named(rig: Rig) -> None:
    rig.feeds.set("/news", html_list(statements_of_the_seed(4)), content_type=HTML)
    rig.feeds.set("/rss.xml", rss([statement(1)], title="Hidden feed"))

    reply = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {rig.feeds.url('/news')} Embassy")

    assert text(reply).splitlines()[:2] == [
        "Added feed 1: Embassy",
        f"The page names no feed; this one was found at {rig.feeds.url('/rss.xml')}",
    ]
    # In order, up to the first real feed.
    assert [r.path for r in rig.feeds.requests] == ["/news", "/feed", "/rss", "/rss.xml"]
    assert (await rig.services.store.get_feed(1)).title == "Embassy"


async def test_a_page_naming_several_feeds_offers_them_as_buttons(rig: Rig) -> None:
    head = "".join(
        ALTERNATE.format(type=kind, title=title, href=href)
        for kind, title, href in [
            ("application/rss+xml", "RSS", "/rss.xml"),
            ("application/atom+xml", "Atom", "/atom.xml"),
            ("application/rss+xml", "Gone", "/gone.xml"),  # 404: no feed, not offered
        ]
    )
    rig.feeds.set("/news", html_list(statements_of_the_seed(4), head=head), content_type=HTML)
    rig.feeds.set("/rss.xml", rss([statement(1)], title="Statements (RSS)"))
    rig.feeds.set("/atom.xml", atom([statement(1), statement(2)], title="Statements (Atom)"))

    choice = await preview_of(rig, f"/addfeed {rig.feeds.url('/news')}")

    assert text(choice).splitlines() == [
        f"{rig.feeds.url('/news')} names 2 feeds. Which one should be added?",
        "1. Statements (RSS)",
        f"   {rig.feeds.url('/rss.xml')}",
        "2. Statements (Atom)",
        f"   {rig.feeds.url('/atom.xml')}",
    ]
    assert [b["text"] for b in choice.buttons] == [
        "1. Statements (RSS)",
        "2. Statements (Atom)",
        "Cancel",
    ]
    # The buttons carry a short id; the choice waits in the bot.
    assert all(len(str(b["callback_data"]).encode()) <= 64 for b in choice.buttons)
    assert await rig.services.store.list_feeds() == []

    atom_button = button(choice, "2. Statements (Atom)")
    await press(rig, choice, ADMIN, atom_button)

    assert text(current(rig, choice)).startswith("Added feed 1: Statements (Atom)\n")
    (feed,) = await rig.services.store.list_feeds()
    assert feed.url == rig.feeds.url("/atom.xml")
    assert await rig.services.store.feed_item_count(feed.id) == 2
    # Answered once: the buttons are gone, and a replayed press adds nothing.
    assert current(rig, choice).buttons == []
    replayed = await press(rig, choice, ADMIN, atom_button, forge=True)
    assert replayed == "That button is no longer valid."
    assert len(await rig.services.store.list_feeds()) == 1
    await check_output(rig)


# ------------------------------------------------------------- a page without a feed


async def test_a_page_without_a_feed_is_previewed_added_and_followed(rig: Rig) -> None:
    entries = statements_of_the_seed(20)  # four pages of five; three are read
    serve_list(rig.feeds, entries)
    url = rig.feeds.url("/news")

    preview = await preview_of(rig, f"/addfeed {url}")

    lines = text(preview).splitlines()
    assert lines[0] == f"5 statement(s) found on {url} (Embassy statements), detected."
    assert lines[1:3] == [
        "It names no feed (6 feed addresses tried): read as a page.",
        "Its list goes on over more pages: up to 2 more are read when it is added.",
    ]
    days = ["3 December", "2 December", "1 December", "30 November", "29 November"]
    assert [line for line in lines if line.startswith("• ")] == [
        f"• {day} 2021 — {entry.title}" for day, entry in zip(days, entries, strict=False)
    ]
    assert f"   {rig.feeds.url('/statements/1')}" in lines
    assert "How they were found:" in lines
    assert "5 statements in div.news-list > div.news-item, inside body > div#content >" in (
        text(preview)
    )
    assert [b["text"] for b in preview.buttons] == ["Add as a page source", "Cancel"]
    assert await rig.services.store.list_feeds() == []

    await press(rig, preview, ADMIN, button(preview, "Add as a page source"))

    added = text(current(rig, preview))
    assert added.splitlines()[0] == "Added page source 1: Embassy statements"
    assert "Stored 15 statement(s) from 3 page(s) of its list; none were pushed." in added
    page = await rig.services.store.get_feed(1)
    assert (page.kind, page.url, page.detected_items) == ("page", url, 5)
    assert page.detected_signature == "div.news-list > div.news-item"
    assert page.language == "en"
    assert not rig.feeds.requests_to(list_path(4)), "the backlog is three pages at most"

    # A subscriber gets the next new statement, with its own page's text.
    await subscribe(rig, page.id, [USER])
    lead = "The list's own lead says no more than that the talks ended on Friday evening."
    new = Entry("21", "Embassy statement on the outcome of the talks in Geneva", lead)
    new = Entry(new.guid, new.title, new.lead, entries[0].date)
    serve_statement(rig.feeds, new)
    serve_list(rig.feeds, [new, *entries])
    before = len(rig.api.messages(USER))
    rig.clock.advance(seconds=600)
    await rig.run_job("poll")
    await rig.wait_delivered()
    (push,) = rig.api.messages(USER)[before:]
    assert text(push).startswith("Embassy statement on the outcome of the talks in Geneva\n")
    assert body_of(new)[0] in text(push)
    assert lead not in text(push)
    # Later polls read the first page only; the statement's page was fetched once.
    assert len(rig.feeds.requests_to(list_path(2))) == 1
    assert len(rig.feeds.requests_to("/statements/21")) == 1
    item = (await rig.services.store.latest_items(1))[0]
    assert item.content.startswith(body_of(new)[0])

    # A statement whose own page cannot be read keeps the list's lead.
    lead = "Appointments of next week move to the week after, the list's lead says."
    unreadable = Entry("22", "Embassy notice on consular appointments next week", lead)
    unreadable = Entry(unreadable.guid, unreadable.title, unreadable.lead, entries[0].date)
    rig.feeds.set("/statements/22", b"<html><body><p>Moved.</p></body></html>", content_type=HTML)
    serve_list(rig.feeds, [unreadable, new, *entries])
    rig.clock.advance(seconds=600)
    await rig.run_job("poll")
    await rig.wait_delivered()
    (push,) = rig.api.messages(USER)[before + 1 :]
    assert text(push).startswith("Embassy notice on consular appointments next week\n")
    assert lead in text(push)
    await check_output(rig)


async def test_cancel_and_an_expired_preview_change_nothing(rig: Rig) -> None:
    serve_list(rig.feeds, statements_of_the_seed(5))
    url = rig.feeds.url("/news")

    cancelled = await preview_of(rig, f"/addfeed {url}")
    answer = await press(rig, cancelled, ADMIN, button(cancelled, "Cancel"))
    assert answer == "Cancelled"
    assert text(current(rig, cancelled)) == f"Not added: {url}. Nothing changed."

    stale = await preview_of(rig, f"/addfeed {url}")
    rig.clock.advance(minutes=31)
    answer = await press(rig, stale, ADMIN, button(stale, "Add as a page source"))
    assert answer == "That preview has expired. Send the command again."
    assert text(current(rig, stale)) == "That preview has expired. Send the command again."
    assert await rig.services.store.list_feeds() == []
    await check_output(rig)


async def test_only_admins_add_and_only_admins_press(rig: Rig) -> None:
    serve_list(rig.feeds, statements_of_the_seed(5))
    url = rig.feeds.url("/news")
    refused = await rig.reply_to(USER, USER, f"/addpage {url} item=.news-item")
    assert text(refused) == "Sorry, only the bot's admins can do that."

    preview = await preview_of(rig, f"/addfeed {url}")
    answer = await press(rig, preview, USER, button(preview, "Add as a page source"))
    assert answer == "Sorry, only the bot's admins can do that."
    assert await rig.services.store.list_feeds() == []
    # The admin's own press still works: the refused one did not use it up.
    await press(rig, preview, ADMIN, button(preview, "Add as a page source"))
    assert len(await rig.services.store.list_feeds()) == 1


async def test_a_page_with_no_list_is_refused_with_the_reason(rig: Rig) -> None:
    login = (
        b"<!doctype html><html><head><title>Press area</title></head><body>"
        b'<form action="/login" method="post"><input name="user">'
        b'<input type="password" name="password"><button>Sign in</button></form>'
        b"</body></html>"
    )
    rig.feeds.set("/press", login, content_type=HTML)
    url = rig.feeds.url("/press")

    reply = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {url}")

    assert text(reply) == (
        f"Not added: {url} is a web page, but the page names no feed (6 addresses tried),"
        " and no list of statements found: the page is a login form (it asks for a"
        " password); no 3 or more repeated blocks link to pages of this site outside its"
        " navigation, header, footer and sidebars. Nothing changed."
    )
    assert await rig.services.store.list_feeds() == []


async def test_a_page_that_is_already_a_source(rig: Rig) -> None:
    serve_list(rig.feeds, statements_of_the_seed(5))
    url = rig.feeds.url("/news")
    await rig.services.poller.add_page(url)
    again = await rig.reply_to(ADMIN, ADMIN, f"/addfeed {url}")
    assert text(again) == "That feed is already there: feed 1. Nothing changed."


# ------------------------------------------------------------------------ /addpage


async def test_addpage_with_selectors_previews_and_adds(rig: Rig) -> None:
    serve_list(rig.feeds, statements_of_the_seed(10))
    url = rig.feeds.url("/news")

    preview = await preview_of(
        rig, f'/addpage {url} item="div.news-list .news-item" title=a.title Embassy news'
    )

    lines = text(preview).splitlines()
    assert lines[0] == (
        f"5 statement(s) found on {url} (Embassy statements), with"
        " 'item=div.news-list .news-item' title=a.title."
    )
    assert "- item=div.news-list .news-item matches 5 blocks" in lines
    # With selectors, no feed is looked for.
    assert [r.path for r in rig.feeds.requests] == ["/news"]

    await press(rig, preview, ADMIN, button(preview, "Add as a page source"))

    assert text(current(rig, preview)).startswith("Added page source 1: Embassy news\n")
    page = await rig.services.store.get_feed(1)
    assert (page.kind, page.title) == ("page", "Embassy news")
    assert page.selectors == "'item=div.news-list .news-item' title=a.title"
    assert page.detected_signature == "item=div.news-list .news-item"
    assert await rig.services.store.feed_item_count(1) == 10
    await check_output(rig)


async def test_addpage_refusals_change_nothing(rig: Rig) -> None:
    serve_list(rig.feeds, statements_of_the_seed(5))
    url = rig.feeds.url("/news")
    usage = "Usage: /addpage URL item=CSS [title=CSS] [link=CSS] [date=CSS] [summary=CSS] [TITLE]"
    answers = {
        "/addpage": usage,
        f"/addpage {url}": "item=CSS is required",
        f"/addpage {url} item=li::text": "item=li::text is not a valid CSS selector",
        f"/addpage {url} item=li colour=red": "unknown selector colour=",
        f'/addpage {url} item="li': "cannot read the selectors",
        "/addpage ftp://example.org/news item=li": "the URL must start with http:// or https://",
    }
    for command, expected in answers.items():
        reply = await rig.reply_to(ADMIN, ADMIN, command)
        assert text(reply).startswith(usage), (command, text(reply))
        assert expected in text(reply), (command, text(reply))
    assert rig.feeds.requests == [], "a refused command fetches nothing"

    nothing = await rig.reply_to(ADMIN, ADMIN, f"/addpage {url} item=ul.missing")
    assert text(nothing) == (
        f"Not added: {url} is a web page, but no list of statements found:"
        " item=ul.missing matches nothing on the page. Nothing changed."
    )
    assert await rig.services.store.list_feeds() == []
    await check_output(rig)


async def test_a_page_source_is_run_like_a_feed(rig: Rig) -> None:
    serve_list(rig.feeds, statements_of_the_seed(5))
    url = rig.feeds.url("/news")
    await rig.services.poller.add_page(url, "Embassy news")

    status = await rig.reply_to(ADMIN, ADMIN, "/feedstatus")
    assert text(status).splitlines()[:3] == [
        "1. Embassy news — ok",
        url,
        "web page; last read: 5 statements in div.news-list > div.news-item",
    ]
    paused = await rig.reply_to(ADMIN, ADMIN, "/pausefeed 1")
    assert text(paused).startswith("Feed 1, Embassy news, is paused")
    asked = await rig.reply_to(ADMIN, ADMIN, "/removefeed 1")
    await press(rig, asked, ADMIN, button(asked, "Remove it"))
    assert await rig.services.store.list_feeds() == []
    # Its statements stay searchable.
    assert await rig.services.store.search_count("Geneva") == 5
    await check_output(rig)

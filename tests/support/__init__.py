"""What the tests share, one module per concern.

Helpers are named by what they do: builders are nouns (``rss``, ``statement``),
actions are verbs (``add_feed``, ``subscribe``, ``publish``, ``press``), waits
start with ``wait_`` (``wait_delivered``, ``wait_polling``) and reads of state are
nouns (``outbox``, ``texts``).

* feeds: every feed document the tests serve or parse: ``rss`` and ``atom`` from
  a typed ``Entry``; ``statement``, ``numbered``, ``sample_feed``, ``big_feed``;
  where the parse corpus lies (``PARSE_CORPUS``, tests/data/parse); web pages
  without a feed from the same ``Entry``: ``html_list``, ``statement_page``,
  ``statements_of_the_seed``.
* page_site: such a site on the feed server: its list over several pages
  (``serve_list``), its statements' own pages (``serve_statement``, ``body_of``).
* fake_bot_api: Telegram's Bot API over HTTP on loopback (fixture ``fake_bot_api``;
  ``python -m tests.support.fake_bot_api`` for another process).
* feed_server: a local feed server that behaves well or badly on demand (fixture
  ``feed_server``; ``python -m tests.support.feed_server`` for the benchmarks).
* rig: the real Application against both fakes, with a ``FakeClock`` the test
  moves (fixture ``rig``; the users ADMIN, USER and OTHER), and what tests do
  around it: ``add_feed``, ``subscribe``, ``publish``.
* botproc: ``communique run`` as a child process against the fake Bot API
  (``BotProcess``: start, wait_logged, wait_polling, stop with a signal, kill,
  restart).
* commands: groups, buttons, messages as the chat shows them, and the checks the
  command tests end with (``check_output``).
* delivery: a rig that sends several messages at once with short waits, what each
  chat received, and the outbox as stored.
* polling: a real Store and Poller against the feed server, without Telegram.
* counters: the seed page's counters and its daily message (``GOLDEN``), and their
  Russian texts and message (``GOLDEN_RU``).
* languages: a chat that reads the bot in a language (``speak``).
* child: the loopback guard every process the tests start loads first.
"""

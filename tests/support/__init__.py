"""What the tests share, one module per concern.

* fake_bot_api: Telegram's Bot API over HTTP on loopback (fixture ``fake_bot_api``;
  ``python -m tests.support.fake_bot_api`` for another process).
* feed_server: a local feed server that behaves well or badly on demand (fixture
  ``feed_server``; ``python -m tests.support.feed_server`` for the benchmarks).
* feeds: every feed document the tests serve or parse (rss, atom; Entry,
  statement, numbered, sample_feed) and where the parse corpus lies.
* rig: the real Application against both fakes, with a clock the test moves
  (fixture ``rig``; the users ADMIN, USER and OTHER).
* botproc: ``communique run`` as a child process against the fake Bot API
  (BotProcess: start, wait_logged, wait_polling, stop with a signal, kill, restart).
* commands: groups, buttons and the checks the command tests end with.
* delivery: chats subscribed, statements published, the outbox as stored.
* polling: a real Store and Poller against the feed server, without Telegram.
* child: the loopback guard every process the tests start loads first.
"""

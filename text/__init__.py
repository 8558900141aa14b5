"""Pure text and time: the leaf every other part of Communique stands on.

HTML to text, the summary of a statement, Telegram HTML and the rendering of every
message, dates, zones and redaction. Nothing here does I/O or knows about the
database, the network or Telegram's objects; `jobs/` and `bot/` import it, and it
imports nothing of ours (import-linter checks that in CI).
"""

"""Fake Telegram Bot API over HTTP on 127.0.0.1 (fixtures)."""

"""Communique: a Telegram bot for official statements."""

__version__ = "0.1.0"

"""Communique: a Telegram bot for official statements."""

__version__ = "0.1.0"

# Sent with every feed request, so publishers can see who polls them and why.
USER_AGENT = f"Communique/{__version__} (Telegram statement bot)"

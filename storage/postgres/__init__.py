"""The PostgreSQL backend: `PgStore` (store.py), the SQLite `Store`'s entity mixins
run through psycopg (_core.py translates their SQL), with overrides only where the
dialect differs (_items.py, _outbox.py's claims, _daily.py, _summaries.py,
_routing.py); its migrations (schema.py), search over our own tokens (search.py),
the leader's advisory lock (leader.py). Needs psycopg (`communique[postgres]`)."""

from __future__ import annotations

from storage.errors import StorageError


def require_driver() -> None:
    """Fail with the install command when DATABASE_URL is set without psycopg."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StorageError(
            "DATABASE_URL names a PostgreSQL database, but its driver is not installed:"
            " pip install 'communique[postgres]'"
        ) from None

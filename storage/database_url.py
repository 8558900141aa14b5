"""`DATABASE_URL`: which PostgreSQL database to use, read and checked without
connecting, and shown without its password.

A URL is `postgresql://user:password@host:port/dbname` (`postgres://` too), with
libpq's query parameters after `?` (`sslmode=require`, `host=/run/postgresql` for a
socket). It is handed to the driver as it is; this module only checks its shape,
so that a mistyped setting stops start-up with a line naming it, and says what to
keep out of every text we write: the password, in every spelling it may take.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

__all__ = ["DatabaseUrl", "parse_database_url"]

SCHEMES = ("postgresql", "postgres")
# A password shorter than this is not hidden by replacing its every occurrence in a
# log line (a password "a" would blank every "a"); it is still never written by us,
# since every URL we show is `masked`.
MIN_REDACTED_PASSWORD = 4


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A checked PostgreSQL URL."""

    url: str  # as the operator wrote it: what the driver gets
    host: str  # "" for libpq's default (a local socket)
    port: int | None
    dbname: str
    user: str
    password: str | None

    @property
    def masked(self) -> str:
        """The URL with the password replaced by ***: the only form we ever show."""
        return mask(self.url)

    @property
    def secrets(self) -> list[str]:
        """What the log scrubber must hide: the password as written in the URL and
        decoded, and the whole URL."""
        out = [self.url]
        if self.password and len(self.password) >= MIN_REDACTED_PASSWORD:
            raw = urlsplit(self.url).password or ""
            out += [self.password, raw]
        return [s for s in dict.fromkeys(out) if s]


def mask(url: str) -> str:
    """`url` with any password replaced by ***, whatever else is wrong with it."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            query = _masked_query(parts.query)
            return urlunsplit(parts._replace(query=query))
        userinfo, _, hostport = parts.netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:***@{hostport}"
        return urlunsplit(parts._replace(netloc=netloc, query=_masked_query(parts.query)))
    except ValueError:
        return "(a URL that cannot be read)"


def _masked_query(query: str) -> str:
    # libpq also takes the password as a parameter: ?password=…
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(k == "password" for k, _ in pairs):
        return query
    return "&".join(f"{k}={'***' if k == 'password' else v}" for k, v in pairs)


def parse_database_url(value: str) -> DatabaseUrl:
    """Check the shape of a PostgreSQL URL. Raises ValueError saying what is wrong,
    without the password."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(
            f"a postgresql://user:password@host:port/dbname URL, got {mask(text)!r}"
            " (its port is not a number)"
        ) from None
    if parts.scheme not in SCHEMES:
        raise ValueError(f"a postgresql://user:password@host:port/dbname URL, got {mask(text)!r}")
    dbname = unquote(parts.path.lstrip("/"))
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    dbname = dbname or query.get("dbname", "")
    if not dbname or "/" in dbname:
        raise ValueError(
            f"a postgresql://user:password@host:port/dbname URL that names its database,"
            f" got {mask(text)!r}"
        )
    password = parts.password
    if password is not None:
        password = unquote(password)
    elif "password" in query:
        password = query["password"]
    return DatabaseUrl(
        url=text,
        host=parts.hostname or query.get("host", ""),
        port=port,
        dbname=dbname,
        user=unquote(parts.username or query.get("user", "")),
        password=password,
    )

"""What the server said about caching and retrying, read for the scheduler, and the
validators sent back with the next request.

Validators go back byte for byte as they came: headers are read and written as
latin-1, which round-trips every byte (httpx would guess an encoding instead).
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[bytes, bytes]:
    """If-None-Match / If-Modified-Since for a conditional GET, exactly as stored."""
    headers: dict[bytes, bytes] = {}
    if etag is not None:
        headers[b"If-None-Match"] = etag.encode("latin-1")
    if last_modified is not None:
        headers[b"If-Modified-Since"] = last_modified.encode("latin-1")
    return headers


def headers_dict(response: httpx.Response) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in response.headers.raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def header_text(response: httpx.Response, name: str) -> str | None:
    # httpx guesses a header encoding; latin-1 keeps the exact bytes instead.
    wanted = name.encode("ascii")
    for raw_name, raw_value in response.headers.raw:
        if raw_name.lower() == wanted:
            return raw_value.decode("latin-1")
    return None


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    when = parse_http_date(text)
    if when is None:
        return None
    return max(0.0, (when - now).total_seconds())


_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)


def parse_cache_seconds(headers: Mapping[str, str], *, now: datetime) -> float | None:
    """Freshness lifetime: ``Cache-Control: max-age`` wins over ``Expires``.

    ``now`` should be the response's ``Date`` when present, so that a server
    whose clock is off still gets the lifetime it meant.
    """
    cache_control = headers.get("cache-control")
    if cache_control:
        match = _MAX_AGE.search(cache_control)
        if match:
            return float(match.group(1))
    expires = headers.get("expires")
    if expires:
        when = parse_http_date(expires)
        if when is not None:
            return max(0.0, (when - now).total_seconds())
    return None


def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # HTTP dates are GMT; a missing zone means the sender forgot to say so.
        when = when.replace(tzinfo=UTC)
    return when

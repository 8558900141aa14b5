"""One spelling for one feed URL, so the same feed is not added twice.

httpx's URL parser does the normalising it shares with us (scheme and host in
lower case, default ports and `.`/`..` segments gone); what it lets through and a
feed must not have (ports out of range, other schemes, no host) is refused here.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import httpx

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_feed_url(url: str) -> str:
    """The stored spelling of a feed URL: scheme and host in lower case, no default
    port, no `.` or `..` segments, no fragment (the server never sees it), an empty
    path as `/`. Raises ValueError, with the reason, for what is not an http(s) URL
    with a host."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError as exc:  # a port out of range, a broken IPv6 literal
        raise ValueError(f"it is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        raise ValueError("the URL must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("the URL has no host name")
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, UnicodeError):
        # A host spelling httpx will not read (octal 0177.0.0.1) is left as typed:
        # the address guard reads it as browsers do and says what it is.
        return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, ""))
    # Setting the raw path again writes the "/" httpx keeps implicit for a bare host.
    return str(parsed.copy_with(raw_path=parsed.raw_path or b"/", fragment=None))

"""Fetch one feed politely and safely; return its bytes and headers, parse nothing.

Polite: conditional requests carry the stored validators byte for byte, the
server's caching headers and ``Retry-After`` are read for the scheduler, the
User-Agent names the bot. Safe: every hop is checked against private
addresses (:mod:`jobs.netguard`), redirects are followed here one at a time,
the body is streamed and decoded by us with a hard limit on *decoded* bytes,
and the whole request has one deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import re
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from bot import __version__
from jobs.netguard import (
    AddressNotAllowedError,
    FetchError,
    GuardedTransport,
    Resolver,
    check_url_allowed,
)

__all__ = [
    "USER_AGENT",
    "AddressNotAllowedError",
    "FeedGoneError",
    "FetchError",
    "FetchResult",
    "HostLimiter",
    "TooLargeError",
    "fetch_feed",
    "make_client",
    "parse_cache_seconds",
    "parse_retry_after",
]

USER_AGENT = f"Communique/{__version__} (Telegram statement bot)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
# Only what _Inflater can decode with a bounded output; no brotli or zstd.
ACCEPT_ENCODING = "gzip, deflate"

CONNECT_TIMEOUT = 10.0
TOTAL_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# The poll loop caps concurrency itself; the pool only has to hold enough
# keep-alive connections that ~1000 feeds on a few hosts reuse them.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=50, keepalive_expiry=60.0)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})
# Output is pulled from zlib in pieces of this size, so a gzip bomb never
# inflates more than one piece beyond the limit.
_PIECE = 64 * 1024


class FeedGoneError(FetchError):
    """HTTP 410: the publisher removed the feed; pause it and tell the admins."""


class TooLargeError(FetchError):
    """The decoded body grew beyond the limit; reading stopped there."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a successful fetch returns; parsing is somebody else's job."""

    url: str
    """The URL finally fetched (after redirects)."""
    permanent_url: str | None
    """The new URL (normalised) when every redirect in the chain was permanent
    (301/308)."""
    status: int
    """The final status: 2xx (normally 200) or 304."""
    content: bytes | None
    """The decoded body; None on 304."""
    headers: dict[str, str]
    """Response headers, names lowercased, values as sent (latin-1 decoded)."""
    etag: str | None
    """ETag byte for byte as sent; on a 304 without one, the ETag we sent."""
    last_modified: str | None
    """Last-Modified byte for byte as sent; on a 304 without one, the one we sent."""
    content_hash: str | None
    """SHA-256 hex of the body; on 304, the previous hash."""
    not_modified: bool
    """304, or the body hashes to ``previous_hash``: callers skip parsing."""
    cache_seconds: float | None
    """Freshness from Cache-Control max-age or Expires, if the server gave one."""


def make_client(*, allow_private: bool, resolver: Resolver | None = None) -> httpx.AsyncClient:
    """The one shared client: timeouts, User-Agent, no automatic redirects.

    Unless ``allow_private``, every new connection is checked and pinned to a
    public address by :class:`jobs.netguard.GuardedTransport`.
    """
    transport: httpx.AsyncBaseTransport
    if allow_private:
        transport = httpx.AsyncHTTPTransport(limits=LIMITS, trust_env=False)
    else:
        transport = GuardedTransport(limits=LIMITS, resolver=resolver)
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(TOTAL_TIMEOUT, connect=CONNECT_TIMEOUT),
        headers={
            "User-Agent": USER_AGENT,
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        # We follow redirects ourselves so that each hop is checked and the
        # chain's permanence is known.
        follow_redirects=False,
        # No proxies or certificates from the environment: a proxy would
        # bypass the address guard.
        trust_env=False,
    )


async def fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    previous_hash: str | None,
    allow_private: bool,
    resolver: Resolver | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = 5,
    total_timeout: float = TOTAL_TIMEOUT,
    now: datetime | None = None,
) -> FetchResult:
    """GET ``url`` conditionally, following up to ``max_redirects`` redirects.

    ``now`` (aware) is the time used for ``Expires`` and ``Retry-After`` dates
    when the response carries no ``Date``; it defaults to the current time.
    Raises :class:`FetchError` (or a subclass) with a message for the admins.
    """
    clock = now or datetime.now(UTC)
    try:
        async with asyncio.timeout(total_timeout):
            return await _follow(
                client,
                url,
                etag=etag,
                last_modified=last_modified,
                previous_hash=previous_hash,
                allow_private=allow_private,
                resolver=resolver,
                max_bytes=max_bytes,
                max_redirects=max_redirects,
                now=clock,
            )
    except TimeoutError:
        raise FetchError(f"timed out after {total_timeout:g} s") from None


async def _follow(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    previous_hash: str | None,
    allow_private: bool,
    resolver: Resolver | None,
    max_bytes: int,
    max_redirects: int,
    now: datetime,
) -> FetchResult:
    conditional: dict[bytes, bytes] = {}
    # latin-1 round-trips every byte, so the validators go back exactly as
    # they came (see _header_text).
    if etag is not None:
        conditional[b"If-None-Match"] = etag.encode("latin-1")
    if last_modified is not None:
        conditional[b"If-Modified-Since"] = last_modified.encode("latin-1")

    current = url
    seen = {url}
    all_permanent = True
    for _hop in range(max_redirects + 1):
        if allow_private:
            _check_scheme(current)
        else:
            await check_url_allowed(current, resolver=resolver)
        try:
            request = client.build_request("GET", current, headers=conditional)
        except (httpx.InvalidURL, UnicodeError) as exc:
            raise FetchError(f"invalid URL {current!r}: {exc}") from exc
        host = request.url.host
        try:
            response = await client.send(request, stream=True)
            try:
                status = response.status_code
                if status in _REDIRECTS:
                    location = _header_text(response, "location")
                    if not location:
                        raise FetchError(f"HTTP {status} redirect without a Location header")
                    try:
                        target = str(request.url.join(location.strip()))
                    except (httpx.InvalidURL, UnicodeError) as exc:
                        raise FetchError(f"redirect to an invalid URL {location!r}") from exc
                    if target in seen:
                        raise FetchError(f"redirect loop at {target}")
                    seen.add(target)
                    all_permanent = all_permanent and status in _PERMANENT_REDIRECTS
                    current = target
                    continue
                moved = all_permanent and current != url
                return await _finish(
                    response,
                    url=current,
                    # In the one spelling feeds are stored under.
                    permanent_url=normalise_feed_url(current) if moved else None,
                    sent_etag=etag,
                    sent_last_modified=last_modified,
                    previous_hash=previous_hash,
                    max_bytes=max_bytes,
                    now=now,
                )
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise _network_error(exc, host) from exc
    raise FetchError(f"too many redirects (more than {max_redirects})")


_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_feed_url(url: str) -> str:
    """One spelling for one feed URL, so the same feed is not added twice: scheme and
    host in lower case, no default port, no `.` or `..` segments, no fragment (the
    server never sees it), an empty path as `/`. Raises ValueError, with the reason,
    for what is not an http(s) URL with a host."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:  # a port out of range, a broken IPv6 literal
        raise ValueError(f"it is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("the URL must start with http:// or https://")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("the URL has no host name")
    if ":" in host:  # an IPv6 literal goes back in brackets
        host = f"[{host}]"
    userinfo, _, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}@{host}" if userinfo else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _remove_dot_segments(parts.path) or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, for an absolute path."""
    segments = path.split("/")
    kept: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment in (".", ".."):
            if segment == ".." and len(kept) > 1:
                kept.pop()
            if last:
                kept.append("")
            continue
        kept.append(segment)
    return "/".join(kept)


def _check_scheme(url: str) -> None:
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        raise FetchError(f"refused: only http and https URLs are allowed, not {scheme!r}")


def _network_error(exc: httpx.HTTPError, host: str) -> FetchError:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchError(f"timed out connecting to {host}")
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(f"timed out waiting for {host}")
    if isinstance(exc, httpx.ConnectError):
        return FetchError(f"cannot connect to {host}: {detail}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return FetchError(f"{host} sent a broken HTTP response: {detail}")
    if isinstance(exc, httpx.NetworkError):
        return FetchError(f"connection to {host} failed: {detail}")
    return FetchError(f"request to {host} failed: {detail}")


async def _finish(
    response: httpx.Response,
    *,
    url: str,
    permanent_url: str | None,
    sent_etag: str | None,
    sent_last_modified: str | None,
    previous_hash: str | None,
    max_bytes: int,
    now: datetime,
) -> FetchResult:
    status = response.status_code
    headers = _headers_dict(response)
    server_now = _parse_http_date(headers.get("date")) or now
    if status == 304:
        # A 304 has no body by definition, so this reads nothing; but unless the
        # (empty) body is read, the connection is closed instead of going back
        # to the pool, and every unchanged feed costs a new TCP connection.
        await response.aread()
        # A 304 may omit validators; the stored ones still describe the
        # cached body, so hand them back rather than erase them.
        return FetchResult(
            url=url,
            permanent_url=permanent_url,
            status=304,
            content=None,
            headers=headers,
            etag=headers.get("etag", sent_etag),
            last_modified=headers.get("last-modified", sent_last_modified),
            content_hash=previous_hash,
            not_modified=True,
            cache_seconds=parse_cache_seconds(headers, now=server_now),
        )
    if status in (429, 503):
        raise FetchError(
            f"HTTP {status} {httpx.codes.get_reason_phrase(status)}",
            status=status,
            retry_after=parse_retry_after(headers.get("retry-after"), now=server_now),
        )
    if status == 410:
        raise FeedGoneError("HTTP 410 Gone: the publisher removed this feed", status=410)
    if not 200 <= status < 300:
        reason = httpx.codes.get_reason_phrase(status)
        raise FetchError(f"HTTP {status} {reason}".rstrip(), status=status)

    content = await _read_body(response, headers, max_bytes=max_bytes)
    digest = hashlib.sha256(content).hexdigest()
    return FetchResult(
        url=url,
        permanent_url=permanent_url,
        status=status,
        content=content,
        headers=headers,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        content_hash=digest,
        not_modified=previous_hash is not None and digest == previous_hash,
        cache_seconds=parse_cache_seconds(headers, now=server_now),
    )


def _headers_dict(response: httpx.Response) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in response.headers.raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _header_text(response: httpx.Response, name: str) -> str | None:
    # httpx guesses a header encoding; latin-1 keeps the exact bytes instead.
    wanted = name.encode("ascii")
    for raw_name, raw_value in response.headers.raw:
        if raw_name.lower() == wanted:
            return raw_value.decode("latin-1")
    return None


async def _read_body(
    response: httpx.Response, headers: Mapping[str, str], *, max_bytes: int
) -> bytes:
    codings = [
        c.strip().lower()
        for c in headers.get("content-encoding", "").split(",")
        if c.strip() and c.strip().lower() != "identity"
    ]
    declared = headers.get("content-length", "")
    if not codings and declared.isdigit() and int(declared) > max_bytes:
        raise TooLargeError(f"response is {declared} bytes, more than the limit of {max_bytes}")
    # Codings are listed in the order they were applied; undo them backwards.
    inflaters = [_Inflater(c) for c in reversed(codings)]
    body = bytearray()
    try:
        async for raw in response.aiter_raw():
            for piece in _decode(inflaters, raw):
                body += piece
                if len(body) > max_bytes:
                    raise TooLargeError(f"response is larger than the limit of {max_bytes} bytes")
        for piece in _flush(inflaters):
            body += piece
            if len(body) > max_bytes:
                raise TooLargeError(f"response is larger than the limit of {max_bytes} bytes")
    except zlib.error as exc:
        raise FetchError(f"the compressed body is corrupt: {exc}") from exc
    return bytes(body)


def _decode(inflaters: list[_Inflater], data: bytes) -> Iterator[bytes]:
    if not inflaters:
        if data:
            yield data
        return
    first, rest = inflaters[0], inflaters[1:]
    for piece in first.feed(data):
        yield from _decode(rest, piece)


def _flush(inflaters: list[_Inflater]) -> Iterator[bytes]:
    for i, inflater in enumerate(inflaters):
        for piece in inflater.finish():
            yield from _decode(inflaters[i + 1 :], piece)


class _Inflater:
    """Incremental gzip/deflate decoder whose output comes in bounded pieces.

    httpx's own decoders inflate a whole network chunk at once; a 64 KiB chunk
    of a gzip bomb becomes ~64 MiB before anyone can count it. Asking zlib for
    at most ``_PIECE`` bytes at a time keeps memory flat however hostile the
    body is.
    """

    def __init__(self, coding: str) -> None:
        if coding in ("gzip", "x-gzip"):
            self._wbits = zlib.MAX_WBITS | 16
        elif coding == "deflate":
            self._wbits = zlib.MAX_WBITS
        else:
            raise FetchError(f"unsupported Content-Encoding {coding!r}")
        self._coding = coding
        self._zlib = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._started and data and self._coding == "deflate":
            self._started = True
            # "deflate" should be zlib-wrapped, but some servers send raw
            # deflate; tell them apart by the zlib header check.
            if len(data) < 2 or (data[0] & 0x0F) != 8 or int.from_bytes(data[:2], "big") % 31:
                self._wbits = -zlib.MAX_WBITS
                self._zlib = zlib.decompressobj(self._wbits)
        self._started = True
        while True:
            out = self._zlib.decompress(data, _PIECE)
            data = self._zlib.unconsumed_tail
            if out:
                yield out
            if self._zlib.eof:
                extra = self._zlib.unused_data
                if extra and self._wbits == (zlib.MAX_WBITS | 16) and extra.lstrip(b"\0"):
                    # Concatenated gzip members form one body.
                    self._zlib = zlib.decompressobj(self._wbits)
                    data = extra
                    continue
                return
            if not data and len(out) < _PIECE:
                return

    def finish(self) -> Iterator[bytes]:
        yield from self.feed(b"")
        tail = self._zlib.flush()
        if tail:
            yield tail


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    when = _parse_http_date(text)
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
        when = _parse_http_date(expires)
        if when is not None:
            return max(0.0, (when - now).total_seconds())
    return None


def _parse_http_date(value: str | None) -> datetime | None:
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


class HostLimiter:
    """At most ``max_per_host`` fetches to one host at a time.

    The poll loop combines it with a global ``asyncio.Semaphore``::

        async with global_semaphore, limiter.limit(url):
            await fetch_feed(...)

    Entries disappear when no fetch uses them, so the table stays as small as
    the number of hosts currently being polled.
    """

    def __init__(self, max_per_host: int = 2) -> None:
        if max_per_host < 1:
            raise ValueError("max_per_host must be at least 1")
        self.max_per_host = max_per_host
        self._slots: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    @staticmethod
    def host_of(url: str) -> str:
        """The key for ``url``: its lowercased host (the URL itself if unparsable)."""
        try:
            return httpx.URL(url).host.lower() or url
        except (httpx.InvalidURL, UnicodeError):
            return url

    def in_use(self, url: str) -> int:
        """How many fetches currently hold or wait for ``url``'s host."""
        entry = self._slots.get(self.host_of(url))
        return entry[1][0] if entry else 0

    @contextlib.asynccontextmanager
    async def limit(self, url: str) -> AsyncIterator[None]:
        """Hold one of the host's slots for the duration of the block."""
        host = self.host_of(url)
        entry = self._slots.get(host)
        if entry is None:
            entry = (asyncio.Semaphore(self.max_per_host), [0])
            self._slots[host] = entry
        semaphore, users = entry
        users[0] += 1
        try:
            async with semaphore:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._slots[host]

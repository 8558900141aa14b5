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
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from jobs.cache_policy import (
    conditional_headers,
    header_text,
    headers_dict,
    parse_cache_seconds,
    parse_http_date,
    parse_retry_after,
)
from jobs.decoding import ACCEPT_ENCODING, read_body
from jobs.fetch_errors import FeedGoneError, FetchError
from jobs.netguard import GuardedTransport, Resolver, check_url_allowed
from jobs.urls import normalise_feed_url

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)

CONNECT_TIMEOUT = 10.0
TOTAL_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# The poll loop caps concurrency itself; the pool only has to hold enough
# keep-alive connections that ~1000 feeds on a few hosts reuse them.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=50, keepalive_expiry=60.0)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})


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


def make_client(
    *, user_agent: str, allow_private: bool, resolver: Resolver | None = None
) -> httpx.AsyncClient:
    """The one shared client: timeouts, the User-Agent that names the bot, no
    automatic redirects.

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
            "User-Agent": user_agent,
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
    conditional = conditional_headers(etag, last_modified)

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
                    location = header_text(response, "location")
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
    headers = headers_dict(response)
    server_now = parse_http_date(headers.get("date")) or now
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

    content = await read_body(response, headers, max_bytes=max_bytes)
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

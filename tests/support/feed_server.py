"""A local feed server on 127.0.0.1 that behaves well or badly on demand.

Used three ways:

* the ``feed_server`` pytest fixture (this module is a pytest plugin): a test
  sets what each path answers, then reads ``feed_server.requests``;
* :class:`FeedServer` directly, from other rigs;
* ``python -m tests.support.feed_server --port 0 --feeds N`` for the benchmarks: N
  generated feeds (``feeds.sample_feed``) at ``/feeds/<i>.xml`` that answer 304 to conditional
  requests. The port is printed on the first line of stdout.

Every misbehaviour (a stalled body, a slow one) waits on the server's closing
event rather than sleeping blindly, so tearing the server down ends it at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest_asyncio
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from tests.support.feeds import sample_feed

__all__ = ["FeedServer", "RecordedRequest", "feed_server", "main"]

RSS = "application/rss+xml"
GIB = 1024 * 1024 * 1024
_ZEROS = bytes(1024 * 1024)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    headers: CIMultiDictProxy[str]


@dataclass(slots=True)
class _Resource:
    kind: str
    body: bytes = b""
    content_type: str = RSS
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    target: str = ""
    decoded_size: int = 0
    chunk_size: int = 0
    delay: float = 0.0


class FeedServer:
    """An aiohttp server whose answers tests change at will."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.port = 0
        self._resources: dict[str, _Resource] = {}
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # A short shutdown timeout: handlers end on the closing event anyway.
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def url(self, path: str) -> str:
        """The full URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The requests received for ``path``."""
        wanted = "/" + path.lstrip("/")
        return [r for r in self.requests if r.path == wanted]

    # -- what each path answers -------------------------------------------

    def set(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = RSS,
        etag: str | None = None,
        last_modified: str | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Serve ``body``; 304 when the request's validators match."""
        self._resources[_key(path)] = _Resource(
            "static",
            body=body,
            content_type=content_type,
            etag=etag,
            last_modified=last_modified,
            status=status,
            headers=dict(headers or {}),
        )

    def set_status(
        self,
        path: str,
        status: int,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        """Answer every request with ``status`` (429, 410, 500, …)."""
        self._resources[_key(path)] = _Resource(
            "status", status=status, headers=dict(headers or {}), body=body
        )

    def set_redirect(self, path: str, target: str, status: int = 301) -> None:
        """Redirect to ``target`` (a URL or a path on this server)."""
        self._resources[_key(path)] = _Resource("redirect", status=status, target=target)

    def set_gzip_bomb(self, path: str, decoded_size: int = GIB) -> None:
        """A gzip body of ``decoded_size`` zero bytes, compressed as it is sent.

        On the wire it is about a thousandth of its decoded size; the server
        stops compressing as soon as the client hangs up.
        """
        self._resources[_key(path)] = _Resource("bomb", decoded_size=decoded_size)

    def set_never_finishes(self, path: str, first_bytes: bytes | None = None) -> None:
        """Send headers and the start of a feed, then stall until teardown."""
        start = first_bytes if first_bytes is not None else sample_feed(0, items=1)[:40]
        self._resources[_key(path)] = _Resource("never", body=start)

    def set_slow(
        self, path: str, body: bytes, *, chunk_size: int = 16, delay: float = 0.05
    ) -> None:
        """Send ``body`` ``chunk_size`` bytes at a time, ``delay`` seconds apart."""
        self._resources[_key(path)] = _Resource(
            "slow", body=body, chunk_size=max(1, chunk_size), delay=delay
        )

    # -- serving -------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(
                request.method, request.path, CIMultiDictProxy(CIMultiDict(request.headers))
            )
        )
        resource = self._resources.get(request.path)
        if resource is None:
            return web.Response(status=404, text="not found")
        if resource.kind == "static":
            return _static(request, resource)
        if resource.kind == "status":
            return web.Response(
                status=resource.status, body=resource.body, headers=resource.headers
            )
        if resource.kind == "redirect":
            return web.Response(status=resource.status, headers={"Location": resource.target})
        if resource.kind == "bomb":
            return await self._bomb(request, resource)
        if resource.kind == "never":
            return await self._never(request, resource)
        return await self._slow(request, resource)

    async def _bomb(self, request: web.Request, resource: _Resource) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": RSS, "Content-Encoding": "gzip"})
        await response.prepare(request)
        compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        remaining = resource.decoded_size
        with contextlib.suppress(ConnectionError):
            while remaining > 0 and not self._closing.is_set():
                block = _ZEROS[: min(remaining, len(_ZEROS))]
                remaining -= len(block)
                # A sync flush per block puts bytes on the wire at once (zlib
                # would otherwise sit on ~1 GiB of input before emitting), and
                # the check below stops compressing once the client hung up.
                await response.write(
                    compressor.compress(block) + compressor.flush(zlib.Z_SYNC_FLUSH)
                )
                if request.transport is None or request.transport.is_closing():
                    return response
                await asyncio.sleep(0)  # let the client read between blocks
            await response.write(compressor.flush())
            await response.write_eof()
        return response

    async def _never(self, request: web.Request, resource: _Resource) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": RSS})
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            await response.write(resource.body)
            await self._closing.wait()
        return response

    async def _slow(self, request: web.Request, resource: _Resource) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": RSS})
        response.content_length = len(resource.body)
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            for start in range(0, len(resource.body), resource.chunk_size):
                await response.write(resource.body[start : start + resource.chunk_size])
                # Pacing the body is the behaviour under test; waiting on the
                # closing event lets teardown interrupt it.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), resource.delay)
                if self._closing.is_set():
                    return response
            await response.write_eof()
        return response


def _key(path: str) -> str:
    return "/" + path.lstrip("/")


def _static(request: web.Request, resource: _Resource) -> web.Response:
    headers = dict(resource.headers)
    if resource.etag is not None:
        headers["ETag"] = resource.etag
    if resource.last_modified is not None:
        headers["Last-Modified"] = resource.last_modified
    if resource.status == 200 and _not_modified(request, resource):
        return web.Response(status=304, headers=headers)
    headers.setdefault("Content-Type", resource.content_type)
    return web.Response(status=resource.status, body=resource.body, headers=headers)


def _not_modified(request: web.Request, resource: _Resource) -> bool:
    # Validators are compared as exact strings: a client that "normalises"
    # them on the way back gets a full response, and the test notices.
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        if resource.etag is None:
            return False
        offered = [tag.strip() for tag in if_none_match.split(",")]
        return if_none_match == resource.etag or resource.etag in offered or "*" in offered
    if_modified_since = request.headers.get("If-Modified-Since")
    return if_modified_since is not None and if_modified_since == resource.last_modified


@pytest_asyncio.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """A running :class:`FeedServer` on a random port, closed after the test."""
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def _serve(port: int, feeds: int) -> None:
    server = FeedServer()
    modified = format_datetime(datetime(2021, 12, 3, 7, 30, tzinfo=UTC), usegmt=True)
    for i in range(feeds):
        server.set(f"/feeds/{i}.xml", sample_feed(i), etag=f'"feed-{i}-v1"', last_modified=modified)
    await server.start(port=port)
    print(server.port, flush=True)
    print(f"serving {feeds} feeds at {server.url('/feeds/<i>.xml')}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.close()


def main(argv: list[str] | None = None) -> int:
    """Serve generated feeds until interrupted; print the port first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--feeds", type=int, default=1000, help="number of generated feeds")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.port, args.feeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reading a response body with a hard limit on its *decoded* size.

Kept ours, not httpx's: httpx inflates a whole network chunk at once, so 64 KiB of
a gzip bomb becomes ~64 MiB before anyone can count it. Here zlib is asked for at
most `_PIECE` bytes at a time, so memory stays flat however hostile the body is.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping

import httpx

from jobs.fetch_errors import FetchError, TooLargeError

# Only what _Inflater can decode with a bounded output; no brotli or zstd.
ACCEPT_ENCODING = "gzip, deflate"
# Output is pulled from zlib in pieces of this size, so a gzip bomb never
# inflates more than one piece beyond the limit.
_PIECE = 64 * 1024


async def read_body(
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

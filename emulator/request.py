"""`EmulatorRequest`: the emulator as python-telegram-bot's request backend, so
an Application talks to it with no network at all (console mode)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from emulator.api import BotApiEmulator
from emulator.models import JSON, EmulatedConnectionReset, UploadedFile

_API_URL = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?(?:\?.*)?$")
_FILE_URL = re.compile(r"/file/bot(?P<token>[^/]+)/(?P<path>.+)$")


class EmulatorRequest(BaseRequest):
    """A python-telegram-bot request backend that calls the emulator directly.

    Build the Application with ``.request(EmulatorRequest(em))`` and
    ``.get_updates_request(EmulatorRequest(em))``: every Bot API call then
    goes to ``em.handle`` without any network. Timeouts behave like HTTP
    ones: an answer slower than the read timeout raises ``TimedOut``.
    """

    def __init__(self, emulator: BotApiEmulator, *, read_timeout: float | None = 5.0) -> None:
        self._emulator = emulator
        self._read_timeout = read_timeout
        self._initialized = False

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        self._initialized = True

    async def shutdown(self) -> None:
        self._initialized = False

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | Any | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | Any | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | Any | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | Any | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Route one PTB request to the emulator; see :meth:`BaseRequest.do_request`."""
        file_match = _FILE_URL.search(url)
        if file_match is not None:
            found = None
            if file_match["token"] == self._emulator.token:
                found = self._emulator.file_content(file_match["path"])
            return (200, found) if found is not None else (404, b'{"ok":false}')
        api_match = _API_URL.search(url)
        if api_match is None:
            raise NetworkError(f"EmulatorRequest cannot route {url.split('/bot')[0]}")
        params: JSON = dict(request_data.json_parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            for name, (filename, content, mime) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                params[name] = UploadedFile(filename, data, mime)
        timeout = (
            self._read_timeout
            if isinstance(read_timeout, type(BaseRequest.DEFAULT_NONE))
            else read_timeout
        )
        call = self._emulator.handle(api_match["method"], params, token=api_match["token"])
        try:
            status, body = await asyncio.wait_for(call, timeout)
        except TimeoutError:
            raise TimedOut() from None
        except EmulatedConnectionReset:
            raise NetworkError("httpx.RemoteProtocolError: Server disconnected") from None
        return status, json.dumps(body).encode()

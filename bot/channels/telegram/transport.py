"""python-telegram-bot's HTTP requests made with aiohttp instead of httpx.

Profiling the bot under load (py-spy, --gil, bench/throughput.py) showed nearly half of
the time it held the GIL spent inside httpx and httpcore: httpcore's pool re-checks every
connection for every request. The bot is bound by that one core, so this is its
throughput. aiohttp's client does the same requests for a fraction of the CPU; PTB
supports a custom transport (BaseRequest), so only the transport changes: every Bot API
method, its errors and retries stay python-telegram-bot's.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    def __init__(self, *, connections: int = 16, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 media_write_timeout: float | None = 20.0):
        self._connections = connections
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        # A timeout not passed is BaseRequest.DEFAULT_NONE (its documented check: `is`).
        unset = BaseRequest.DEFAULT_NONE
        read = self._read_timeout if read_timeout is unset else read_timeout
        write = (self._media_write_timeout if files else self._write_timeout) \
            if write_timeout is unset else write_timeout
        connect = self._connect_timeout if connect_timeout is unset else connect_timeout
        pool = None if pool_timeout is unset else pool_timeout
        # aiohttp has no separate write timeout: the read one runs from the request's start
        # (sock_read), so allow for the upload too.
        sock_read = None if read is None else read + (write or 0)
        timeout = aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect,
                                        sock_read=sock_read)
        try:
            async with self._session.request(method, url, data=_body(request_data),
                                             timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


def _body(request_data: RequestData | None) -> aiohttp.FormData | None:
    if request_data is None:
        return None
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    if request_data.contains_files:
        for name, (filename, content, mimetype) in request_data.multipart_data.items():
            form.add_field(name, content, filename=filename, content_type=mimetype)
    return form

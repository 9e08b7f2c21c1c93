"""The frontend's HTTP server (Doris's ``http_port``): one request per connection, on the event loop.

Every read is bounded in size and time, so a client that sends slowly or sends too much costs a
socket for seconds, never a thread or memory: the request head must arrive whole within
``head_timeout`` and ``max_head`` bytes (else 408 / 431 and the connection is closed), a body is
refused above ``max_body`` (413), an answer must be ready within ``handler_timeout``, and at most
``max_connections`` are open at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    head_timeout: float = 10.0
    body_timeout: float = 10.0
    handler_timeout: float = 60.0
    max_head: int = 16 * 1024
    max_body: int = 64 * 1024
    max_connections: int = 256  # open at once; more are answered 503 and closed


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: bytes = b""

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Awaitable[Response]]


class HttpError(Exception):
    """A request refused before it reaches a handler."""

    def __init__(self, status: HTTPStatus) -> None:
        super().__init__(status.phrase)
        self.status = status


class HttpServer:
    def __init__(self, handler: Handler, limits: Limits = Limits()) -> None:
        self.handler = handler
        self.limits = limits
        self._server: asyncio.Server | None = None
        self._open = 0

    async def start(self, host: str, port: int) -> None:
        # the stream's buffer limit bounds the head: readuntil fails past it instead of buffering more
        self._server = await asyncio.start_server(self._serve, host, port, limit=self.limits.max_head)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def wait_closed(self) -> None:
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open += 1
        try:
            if self._open > self.limits.max_connections:
                await _send(writer, Response(HTTPStatus.SERVICE_UNAVAILABLE, b"too many connections"))
                return
            try:
                request = await self._read(reader)
            except HttpError as exc:
                await _send(writer, Response(exc.status, exc.status.phrase.encode()))
                await self._linger(reader, writer)
                return
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            try:
                async with asyncio.timeout(self.limits.handler_timeout):
                    response = await self.handler(request)
            except TimeoutError:
                response = Response(HTTPStatus.SERVICE_UNAVAILABLE, b"the answer took too long")
            except Exception:  # a bug of ours: the client gets a 500, the log the traceback
                log.exception("HTTP %s %s failed", request.method, request.path)
                response = Response(HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error, see the server log")
            await _send(writer, response, head_only=request.method == "HEAD")
        except ConnectionError:
            pass
        finally:
            self._open -= 1
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _linger(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """After refusing a request the client may still be sending: read and drop a bounded amount for a
        moment before closing, so that its unread bytes do not reset the connection before it reads why."""
        with contextlib.suppress(TimeoutError, ConnectionError, OSError):
            if writer.can_write_eof():
                writer.write_eof()
            dropped = 0
            async with asyncio.timeout(1.0):
                while dropped < 4 * self.limits.max_body and (chunk := await reader.read(65536)):
                    dropped += len(chunk)

    async def _read(self, reader: asyncio.StreamReader) -> Request:
        try:
            async with asyncio.timeout(self.limits.head_timeout):
                head = await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            raise HttpError(HTTPStatus.REQUEST_TIMEOUT) from None
        except asyncio.LimitOverrunError:
            raise HttpError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE) from None
        try:
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise HttpError(HTTPStatus.BAD_REQUEST) from None
        if not version.startswith("HTTP/1.") or length < 0:
            raise HttpError(HTTPStatus.BAD_REQUEST)
        if "transfer-encoding" in headers:
            raise HttpError(HTTPStatus.LENGTH_REQUIRED)
        if length > self.limits.max_body:
            raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        body = b""
        if length:
            try:
                async with asyncio.timeout(self.limits.body_timeout):
                    body = await reader.readexactly(length)
            except TimeoutError:
                raise HttpError(HTTPStatus.REQUEST_TIMEOUT) from None
        url = urlsplit(target)
        return Request(method.upper(), url.path or "/", parse_qs(url.query), headers, body)


async def _send(writer: asyncio.StreamWriter, response: Response, head_only: bool = False) -> None:
    status = HTTPStatus(response.status)
    headers = {
        "Content-Type": response.content_type,
        "Content-Length": str(len(response.body)),
        "Connection": "close",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        **response.headers,
    }
    head = f"HTTP/1.1 {status.value} {status.phrase}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(head.encode("latin-1") + b"\r\n" + (b"" if head_only else response.body))
    await writer.drain()

"""httpx's transport for HTTP/1.1: h11 on asyncio's own streams, with a small keep-alive pool.

A chunked upload sends many requests to one host, and in-order APIs (Content-Range) wait for each answer
before the next, so what a client spends per request is wall time. httpx's default transport (httpcore's
pool on anyio) spends most of it on pool bookkeeping, locks and cancel scopes around h11: on the
Content-Range bench, httpx over h11 alone was level with curl, over httpcore 1.3x its time. This
transport keeps h11 (httpcore's parser and serializer) and httpx's client above it (auth, cookies,
redirects, proxies, which httpx mounts on transports of its own), and does the rest itself:

- bodies are written ahead up to :data:`WRITE_AHEAD` bytes per connection, and a write waits only beyond
  that (anyio's streams drained fully before every piece);
- an idle connection is reused only while h11 says both sides are done, the server has not closed it
  (nothing readable) and it is younger than ``keepalive_expiry``;
- at most ``max_connections`` requests hold a connection at once, the rest wait (``PoolTimeout``);
- failures are httpx's own exceptions (``ConnectError``, ``ReadTimeout``, ``RemoteProtocolError``...),
  as httpx's transport raises them, with the request attached.

Python 3.10 lacks ``asyncio.timeout``: there :func:`http_transport` leaves httpx's default in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import h11
import httpx

WRITE_AHEAD = 1024 * 1024
"""Bytes the transport may hold unsent before a write waits (asyncio pauses above it, resumes below a quarter)."""
READ_SIZE = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]
"""(scheme, host, port): connections are reused within one origin only."""


@contextlib.contextmanager
def _mapped(request: httpx.Request, timeout: type[httpx.TimeoutException],
            failure: type[httpx.TransportError]) -> Iterator[None]:
    """Re-raise the stdlib's and h11's failures as the httpx exception httpx's own transport would raise."""
    try:
        yield
    except httpx.TransportError:
        raise
    except TimeoutError as e:
        raise timeout(str(e) or "timed out", request=request) from e
    except h11.RemoteProtocolError as e:
        raise httpx.RemoteProtocolError(str(e), request=request) from e
    except h11.LocalProtocolError as e:
        raise httpx.LocalProtocolError(str(e), request=request) from e
    except (OSError, EOFError) as e:
        raise failure(str(e) or type(e).__name__, request=request) from e


def _readable(sock: socket.socket | None) -> bool:
    """Whether the socket has data or EOF waiting: on an idle keep-alive connection, the server has closed it."""
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class Connection:
    """One HTTP/1.1 connection: asyncio's reader and writer, and h11's state of the exchange on it."""

    def __init__(self, origin: Origin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.origin = origin
        self._reader = reader
        self._writer = writer
        self._h11 = h11.Connection(h11.CLIENT)
        self.idle_since = time.monotonic()
        writer.transport.set_write_buffer_limits(high=WRITE_AHEAD)

    def reusable(self, expiry: float | None) -> bool:
        """Whether the next request may go on this idle connection."""
        if self._h11.our_state is not h11.IDLE or self._h11.their_state is not h11.IDLE:
            return False
        if expiry is not None and time.monotonic() - self.idle_since > expiry:
            return False
        return not (self._writer.transport.is_closing() or self._readable())

    def _readable(self) -> bool:
        """Data or EOF waiting: on an idle connection, the server has closed it."""
        return self._reader.at_eof() or _readable(self._writer.get_extra_info("socket"))

    def done(self) -> bool:
        """The exchange is over on both sides and neither asked to close: ready for the next (after :meth:`reset`)."""
        return self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE

    def reset(self) -> None:
        self._h11.start_next_cycle()
        self.idle_since = time.monotonic()

    def close(self) -> None:
        """Drop the connection at once (as httpx's default does over TLS: no close_notify exchange)."""
        self._writer.transport.abort()

    async def exchange(self, request: httpx.Request, timeouts: dict[str, float | None]) -> h11.Response:
        """Send ``request`` and return the head of its answer (the body stays to be read)."""
        # A server may answer (413...) and close before taking the whole body: its answer is the news.
        with contextlib.suppress(httpx.WriteError):
            await self._send(request, timeouts.get("write"))
        while True:
            event = await self.next_event(request, timeouts.get("read"))
            if isinstance(event, h11.Response):
                return event  # an InformationalResponse (1xx) is skipped

    async def _send(self, request: httpx.Request, timeout: float | None) -> None:
        with _mapped(request, httpx.WriteTimeout, httpx.WriteError):
            head = h11.Request(method=request.method, target=request.url.raw_path, headers=request.headers.raw)
            self._writer.write(self._h11.send(head))  # type: ignore[arg-type]
            async for piece in request.stream:  # type: ignore[union-attr]
                if piece:
                    # h11 frames the piece into new bytes: the caller may reuse its buffer once answered.
                    self._writer.write(self._h11.send(h11.Data(data=piece)))  # type: ignore[arg-type]
                    async with asyncio.timeout(timeout):
                        await self._writer.drain()  # returns at once below the write-ahead mark
            self._writer.write(self._h11.send(h11.EndOfMessage()))  # type: ignore[arg-type]
            async with asyncio.timeout(timeout):
                await self._writer.drain()

    async def next_event(self, request: httpx.Request, timeout: float | None) -> Any:
        """h11's next event from the server, reading as much as it needs."""
        while True:
            with _mapped(request, httpx.ReadTimeout, httpx.ReadError):
                event = self._h11.next_event()
                if event is not h11.NEED_DATA:
                    return event
                async with asyncio.timeout(timeout):
                    data = await self._reader.read(READ_SIZE)
            if not data and self._h11.their_state is h11.SEND_RESPONSE:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
            self._h11.receive_data(data)

    def get_extra_info(self, info: str) -> Any:
        """What httpcore's network streams answer, for ``response.extensions["network_stream"]``."""
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "is_readable":
            return self._readable()
        if info in ("ssl_object", "socket"):
            return self._writer.get_extra_info(info)
        return None


class _ResponseBody(httpx.AsyncByteStream):
    """The answer's body, read from the connection as httpx asks; closing it hands the connection back."""

    def __init__(self, pool: Http1Transport, connection: Connection, request: httpx.Request,
                 timeout: float | None) -> None:
        self._pool = pool
        self._connection = connection
        self._request = request
        self._timeout = timeout
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while True:
                event = await self._connection.next_event(self._request, self._timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    return
        except BaseException:
            await self.aclose()  # the exchange is not done: the pool drops the connection
            raise

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.release(self._connection)


class Http1Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over keep-alive connections, per origin; ``limits`` as httpx's (``max_connections`` bounds the
    requests holding a connection at once, ``max_keepalive_connections`` the idle ones kept)."""

    def __init__(self, *, verify: ssl.SSLContext, limits: httpx.Limits) -> None:
        self._tls = verify
        self._slots = asyncio.Semaphore(limits.max_connections or sys.maxsize)
        self._max_idle = limits.max_keepalive_connections
        self._expiry = limits.keepalive_expiry
        self._idle: dict[Origin, list[Connection]] = {}
        self._closed = False

    @property
    def tls_context(self) -> ssl.SSLContext:
        """What ``https`` connections verify the server with."""
        return self._tls

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{url.scheme}://'.",
                                            request=request)
        origin = (url.scheme, url.host, url.port or DEFAULT_PORTS[url.scheme])
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._slots.acquire()
        except TimeoutError as e:
            raise httpx.PoolTimeout("No connection came free in time.", request=request) from e
        connection = None
        try:
            connection = self._idle_connection(origin) or await self._connect(request, origin, timeouts.get("connect"))
            head = await connection.exchange(request, timeouts)
        except BaseException:
            if connection is not None:
                connection.close()
            self._slots.release()
            raise
        return httpx.Response(
            head.status_code, headers=head.headers.raw_items(),
            stream=_ResponseBody(self, connection, request, timeouts.get("read")),
            extensions={"http_version": b"HTTP/" + head.http_version, "reason_phrase": head.reason,
                        "network_stream": connection},
        )

    def _idle_connection(self, origin: Origin) -> Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.reusable(self._expiry):
                return connection
            connection.close()
        return None

    async def _connect(self, request: httpx.Request, origin: Origin, timeout: float | None) -> Connection:
        scheme, host, port = origin
        tls = self._tls if scheme == "https" else None
        with _mapped(request, httpx.ConnectTimeout, httpx.ConnectError):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=request.extensions.get("sni_hostname", host) if tls else None)
        return Connection(origin, reader, writer)

    def release(self, connection: Connection) -> None:
        """The request on ``connection`` is over: keep the connection for the next one if it can be, else close it."""
        self._slots.release()
        if self._closed or not connection.done():
            connection.close()
            return
        connection.reset()
        if self._max_idle is not None and sum(map(len, self._idle.values())) >= self._max_idle:
            connection.close()
            return
        self._idle.setdefault(connection.origin, []).append(connection)

    def idle_connections(self) -> list[Connection]:
        return [connection for idle in self._idle.values() for connection in idle]

    async def aclose(self) -> None:
        self._closed = True
        for connection in self.idle_connections():
            connection.close()
        self._idle.clear()


def http_transport(*, verify: ssl.SSLContext, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """:class:`Http1Transport` (httpx's default on Python 3.10)."""
    if sys.version_info >= (3, 11):
        return Http1Transport(verify=verify, limits=limits)
    return httpx.AsyncHTTPTransport(verify=verify, limits=limits)

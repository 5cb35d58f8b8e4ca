"""httpcore's network layer on asyncio's own streams: the chunk bodies' path to the socket, made short.

httpx's default layer (anyio's streams) yields to the event loop before every write and sets the
transport's write buffer limit to zero, so each 256 KiB piece of a chunk waits until asyncio has pushed
all of it into the socket before the next is handed over: at least one event-loop round per piece, a
fifth of chunkup's CPU on a fast link. These streams write ahead up to :data:`WRITE_AHEAD` bytes and
wait only beyond that, as asyncio's ``StreamWriter`` does: at most that much more memory per connection,
whatever the chunk size. Errors are httpcore's, as httpx expects.

Python 3.10 lacks ``asyncio.timeout`` and ``StreamWriter.start_tls``: there :func:`http_transport`
leaves httpx's default in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
import sys
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpcore import ConnectError, ConnectTimeout, ReadError, ReadTimeout, WriteError, WriteTimeout

WRITE_AHEAD = 1024 * 1024
"""Bytes the transport may hold unsent before a write waits (asyncio pauses above it, resumes below a quarter)."""

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class _Mapped:
    """Re-raise the stdlib's failures as the httpcore error httpx maps to its own (``httpx.ReadTimeout``...)."""

    def __init__(self, timeout: type[Exception], failure: type[Exception]) -> None:
        self._timeout = timeout
        self._failure = failure

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: object) -> None:
        if error is None or isinstance(error, httpcore.NetworkError | httpcore.TimeoutException):
            return
        if isinstance(error, TimeoutError):
            raise self._timeout(str(error) or "timed out") from error
        if isinstance(error, OSError | EOFError):
            raise self._failure(str(error) or type(error).__name__) from error


_READ = _Mapped(ReadTimeout, ReadError)
_WRITE = _Mapped(WriteTimeout, WriteError)
_CONNECT = _Mapped(ConnectTimeout, ConnectError)


def _readable(sock: socket.socket | None) -> bool:
    """Whether the socket has data or EOF waiting: an idle keep-alive connection the server has closed."""
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection: asyncio's reader and writer, with httpcore's timeouts and errors."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        writer.transport.set_write_buffer_limits(high=WRITE_AHEAD)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _READ:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        with _WRITE:
            # A view: where the socket takes only part, asyncio keeps the rest without slicing a copy first.
            self._writer.write(memoryview(buffer))
            async with asyncio.timeout(timeout):
                await self._writer.drain()  # returns at once below the write-ahead mark

    async def aclose(self) -> None:
        transport = self._writer.transport
        if transport.is_closing():
            return
        if transport.get_extra_info("ssl_object") is not None:
            transport.abort()  # as httpx's default: no TLS close_notify exchange on the way out
            return
        with contextlib.suppress(OSError):
            transport.write_eof()
        transport.close()
        await asyncio.sleep(0)
        transport.abort()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        try:
            with _CONNECT:
                async with asyncio.timeout(timeout):
                    await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except BaseException:
            self._writer.transport.abort()
            raise
        return AsyncioStream(self._reader, self._writer)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":
            return (self._reader.at_eof() or self._writer.transport.is_closing()
                    or _readable(self._writer.get_extra_info("socket")))
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens :class:`AsyncioStream` connections for an ``httpcore.AsyncConnectionPool``."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[SocketOption] | None = None) -> httpcore.AsyncNetworkStream:
        with _CONNECT:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, local_addr=(local_address, 0) if local_address else None)
        return _with_options(reader, writer, socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[SocketOption] | None = None) -> httpcore.AsyncNetworkStream:
        with _CONNECT:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        return _with_options(reader, writer, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _with_options(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                  socket_options: Iterable[SocketOption] | None) -> AsyncioStream:
    sock = writer.get_extra_info("socket")
    for option in socket_options or ():
        sock.setsockopt(*option)
    return AsyncioStream(reader, writer)


def http_transport(*, verify: ssl.SSLContext, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's transport with its connection pool on :class:`AsyncioBackend` (httpx's default on Python 3.10)."""
    transport = httpx.AsyncHTTPTransport(verify=verify, limits=limits)
    if sys.version_info >= (3, 11):
        # httpx builds the pool itself and offers no parameter for its backend; tests check this still takes.
        transport._pool._network_backend = AsyncioBackend()
    return transport

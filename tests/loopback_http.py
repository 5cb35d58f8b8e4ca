"""A raw HTTP/1.1 server on loopback for transport tests: each test writes the bytes it answers with.

The server is an ``asyncio`` server started and stopped by the test's ``async with``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """A loopback server running ``handler`` per connection; its base URL."""
    tasks: set[asyncio.Task[None]] = set()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connected, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader, *, pace: int = 0) -> tuple[bytes, bytes]:
    """One request's head and body; with ``pace``, the body is read that many bytes at a time, yielding between."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length"))
    body = bytearray()
    while len(body) < length:
        body += await reader.read(min(pace or length, length - len(body)))
        if pace:
            await asyncio.sleep(0)
    return head, bytes(body)


def answer(body: bytes, *, close: bool = False) -> bytes:
    connection = b"close" if close else b"keep-alive"
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: " + connection
            + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def answering(response: bytes, connections: list[int]) -> Handler:
    """A handler answering every request on its connection with ``response``; each connection adds to
    ``connections``."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while True:
            await read_request(reader)
            writer.write(response)
            await writer.drain()

    return handler

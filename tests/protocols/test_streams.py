"""chunkup's httpcore network layer on asyncio streams, against real loopback servers.

Each server here is an ``asyncio`` server started and stopped by its test; the waits are on events
(a connection seen, bytes read), never on the clock, except the timeouts under test themselves.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from self_signed import self_signed_cert

from airflow_provider_chunkup.protocols.http import ApiClient
from airflow_provider_chunkup.protocols.multipart import PIECE
from airflow_provider_chunkup.protocols.streams import WRITE_AHEAD, AsyncioBackend, http_transport

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="the asyncio backend needs Python 3.11")

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


def client(**kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=http_transport(verify=ssl.create_default_context(), limits=httpx.Limits()),
                             **kwargs)  # type: ignore[arg-type]


def test_every_api_client_uses_the_asyncio_backend() -> None:
    """httpx builds its pool itself: if an upgrade renamed what ``http_transport`` sets, this says so."""
    api = ApiClient("https://api.example.com")
    assert isinstance(api._client._transport._pool._network_backend, AsyncioBackend)


async def test_a_body_far_beyond_the_write_ahead_arrives_whole_at_a_slow_reader() -> None:
    """The write-ahead fills and drains many times over; every byte arrives, in order."""
    body = hashlib.sha256(b"seed").digest() * (3 * WRITE_AHEAD // 32 + 1234)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, received = await read_request(reader, pace=16 * 1024)
        writer.write(answer(hashlib.sha256(received).hexdigest().encode()))
        await writer.drain()

    async with serve(handler) as url, client() as http:
        pieces = [body[i:i + PIECE] for i in range(0, len(body), PIECE)]

        async def stream() -> AsyncIterator[bytes]:
            for piece in pieces:
                yield piece

        response = await http.post(url, content=stream(), headers={"Content-Length": str(len(body))})
    assert response.text == hashlib.sha256(body).hexdigest()


async def test_keep_alive_reuses_the_connection_and_a_closed_one_is_replaced() -> None:
    """Two requests on one connection; after the server closes it while idle, the next goes on a new one."""
    connections: list[int] = []
    closed = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(0)
        for _ in range(2):
            await read_request(reader)
            connections[-1] += 1
            writer.write(answer(b"ok"))
            await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed.set()

    async with serve(handler) as url, client() as http:
        for _ in range(2):
            assert (await http.post(url, content=b"x")).text == "ok"
        await closed.wait()
        # The server's FIN reaches the idle connection: the pool sees it readable and opens a new one.
        for _ in range(1000):
            if _idle_connection_sees_eof(http):
                break
            await asyncio.sleep(0.01)
        assert (await http.post(url, content=b"x")).text == "ok"
    assert connections == [2, 1]


def _idle_connection_sees_eof(http: httpx.AsyncClient) -> bool:
    pool = http._transport._pool  # type: ignore[attr-defined]
    return all(connection.has_expired() for connection in pool.connections)


async def test_a_refused_connection_is_httpx_connect_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_a_server_that_never_answers_is_a_read_timeout() -> None:
    seen = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        seen.set()
        await asyncio.Event().wait()

    async with serve(handler) as url, client(timeout=httpx.Timeout(30, read=0.2)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post(url, content=b"x")
    assert seen.is_set()


async def test_a_server_that_stops_reading_is_a_write_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()  # reads nothing: the socket buffers fill, then the write-ahead

    body = b"\0" * (64 * 1024 * 1024)
    async with serve(handler) as url, client(timeout=httpx.Timeout(30, write=0.3)) as http:
        with pytest.raises(httpx.WriteTimeout):
            await http.post(url, content=body)


async def test_a_connection_cut_mid_body_is_a_transport_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(1024 * 1024)
        writer.transport.abort()  # RST, with most of the body still to come

    async with serve(handler) as url, client() as http:
        with pytest.raises((httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError)):
            await http.post(url, content=b"\0" * (32 * 1024 * 1024))


async def test_tls_verifies_the_server_and_carries_the_body(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    body = b"chunk" * 400_000

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            _, received = await read_request(reader)
            writer.write(answer(hashlib.sha256(received).hexdigest().encode()))
            await writer.drain()

    trusting = ssl.create_default_context(cafile=str(cert))
    async with serve(handler, tls=server_tls) as url:
        transport = http_transport(verify=trusting, limits=httpx.Limits())
        async with httpx.AsyncClient(transport=transport) as http:
            for _ in range(2):  # the second on the same TLS connection
                response = await http.post(url, content=body)
                assert response.text == hashlib.sha256(body).hexdigest()
                assert response.extensions["network_stream"].get_extra_info("ssl_object") is not None
        async with client() as http:  # certifi's CAs only: the self-signed certificate is refused
            with pytest.raises(httpx.ConnectError) as refused:
                await http.get(url)
    cause: BaseException | None = refused.value
    while cause is not None and not isinstance(cause, ssl.SSLCertVerificationError):
        cause = cause.__cause__ or cause.__context__
    assert isinstance(cause, ssl.SSLCertVerificationError)

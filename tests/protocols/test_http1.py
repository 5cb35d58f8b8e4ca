"""chunkup's HTTP/1.1 transport (h11 on asyncio streams, a keep-alive pool), against real loopback servers.

Each server here is an ``asyncio`` server started and stopped by its test; the waits are on events
(a connection seen, bytes read), never on the clock, except the timeouts under test themselves.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from loopback_http import answer, answering, read_request, serve
from self_signed import self_signed_cert

from airflow_provider_chunkup.protocols.http import ApiClient
from airflow_provider_chunkup.protocols.http1 import WRITE_AHEAD, Http1Transport, http_transport
from airflow_provider_chunkup.protocols.multipart import PIECE

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="the transport needs Python 3.11's asyncio.timeout")

def client(limits: httpx.Limits | None = None, **kwargs: object) -> httpx.AsyncClient:
    transport = http_transport(verify=ssl.create_default_context(), limits=limits or httpx.Limits())
    return httpx.AsyncClient(transport=transport, **kwargs)  # type: ignore[arg-type]


def test_every_api_client_uses_the_transport() -> None:
    api = ApiClient("https://api.example.com")
    assert isinstance(api._client._transport, Http1Transport)


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
    transport: Http1Transport = http._transport  # type: ignore[assignment]
    return all(not connection.reusable(None) for connection in transport.idle_connections())


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


async def test_requests_beyond_max_connections_wait_for_one_to_come_free() -> None:
    """With one connection allowed, a second request waits for the first's answer, then goes; or times out."""
    seen: list[bytes] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            _, body = await read_request(reader)
            seen.append(body)
            if body == b"first":
                first_in.set()
                await release.wait()
            writer.write(answer(body))
            await writer.drain()

    async with serve(handler) as url, client(httpx.Limits(max_connections=1)) as http:
        first = asyncio.create_task(http.post(url, content=b"first"))
        await first_in.wait()
        with pytest.raises(httpx.PoolTimeout):
            await http.post(url, content=b"late", timeout=httpx.Timeout(30, pool=0.1))
        second = asyncio.create_task(http.post(url, content=b"second"))
        for _ in range(3):
            await asyncio.sleep(0)
        assert seen == [b"first"]  # the second waits for the only connection
        release.set()
        assert (await first).text == "first"
        assert (await second).text == "second"
    assert seen == [b"first", b"second"]


async def test_an_answer_with_connection_close_is_not_reused() -> None:
    connections: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await read_request(reader)
        writer.write(answer(b"bye", close=True))
        await writer.drain()

    async with serve(handler) as url, client() as http:
        for _ in range(2):
            assert (await http.post(url, content=b"x")).text == "bye"
        transport: Http1Transport = http._transport  # type: ignore[assignment]
        assert transport.idle_connections() == []
    assert len(connections) == 2


async def test_no_idle_connection_is_kept_beyond_max_keepalive_connections() -> None:
    connections: list[int] = []

    async with serve(answering(answer(b"ok"), connections)) as url, \
            client(httpx.Limits(max_keepalive_connections=0)) as http:
        for _ in range(3):
            assert (await http.post(url, content=b"x")).text == "ok"
    assert len(connections) == 3


async def test_a_chunked_answer_is_read_whole_and_the_connection_kept() -> None:
    connections: list[int] = []

    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n")

    async with serve(answering(chunked, connections)) as url, client() as http:
        for _ in range(2):
            response = await http.post(url, content=b"x")
            assert response.text == "hello world"
            assert response.http_version == "HTTP/1.1"
    assert len(connections) == 1


async def test_a_head_answer_has_no_body_and_keeps_the_connection() -> None:
    connections: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")  # a HEAD answer: no body follows
            await writer.drain()

    async with serve(handler) as url, client() as http:
        for _ in range(2):
            response = await http.head(url)
            assert response.status_code == 200 and response.content == b""
            assert response.headers["content-length"] == "10"
    assert len(connections) == 1


async def test_a_server_that_closes_without_answering_is_a_remote_protocol_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    async with serve(handler) as url, client() as http:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response") as raised:
            await http.post(url, content=b"x")
    assert raised.value.request.url == httpx.URL(url)


async def test_a_cancelled_request_frees_its_connection_slot() -> None:
    """Cancelled while waiting for its answer: the connection is dropped and the next request gets a new one."""
    connections: list[int] = []
    first_in = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        _, body = await read_request(reader)
        if body == b"never answered":
            first_in.set()
            await asyncio.Event().wait()
        writer.write(answer(body))
        await writer.drain()

    async with serve(handler) as url, client(httpx.Limits(max_connections=1)) as http:
        hanging = asyncio.create_task(http.post(url, content=b"never answered"))
        await first_in.wait()
        hanging.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hanging
        assert (await http.post(url, content=b"next", timeout=httpx.Timeout(30, pool=5))).text == "next"
    assert len(connections) == 2


async def test_a_response_closed_before_its_end_drops_the_connection() -> None:
    connections: list[int] = []
    body = b"z" * (4 * 1024 * 1024)

    async with serve(answering(answer(body), connections)) as url, client(httpx.Limits(max_connections=1)) as http:
        async with http.stream("POST", url, content=b"x") as response:
            async for _ in response.aiter_raw():
                break  # most of the body is still on its way
        assert (await http.post(url, content=b"x")).content == body
    assert len(connections) == 2

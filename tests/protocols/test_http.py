"""ApiClient's httpx client: cookies as a load balancer's sticky session needs them, URLs joined as httpx joins them."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from loopback_http import read_request, serve

from airflow_provider_chunkup.protocols.http import URLS_KEPT, ApiClient


async def test_a_cookie_an_answer_sets_goes_with_the_next_requests() -> None:
    """An answer that sets a cookie (a sticky session) is stored; answers that set none leave it in place."""
    cookies_seen: list[bytes | None] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, _ = await read_request(reader)
            cookie = next((line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                           if line.lower().startswith(b"cookie:")), None)
            cookies_seen.append(cookie)
            sets = b"Set-Cookie: AWSALB=node-7; Path=/\r\n" if len(cookies_seen) == 1 else b""
            writer.write(b"HTTP/1.1 200 OK\r\n" + sets + b"Content-Length: 2\r\n\r\n{}")
            await writer.drain()

    async with serve(handler) as url:
        api = ApiClient(url)
        try:
            for _ in range(3):
                await api.request("POST", "/chunk", step="chunk", content=b"x")
        finally:
            await api.aclose()
    assert cookies_seen == [None, b"AWSALB=node-7", b"AWSALB=node-7"]


@pytest.mark.parametrize(("base", "path", "expected"), [
    ("https://api.example.com", "/2/media/upload", "https://api.example.com/2/media/upload"),
    ("https://host.example/prefix/", "/api/v2/chunk/", "https://host.example/prefix/api/v2/chunk/"),
    ("https://host.example/prefix", "videos/1/source", "https://host.example/prefix/videos/1/source"),
    ("https://api.example.com", "https://upload.example.net/part?sig=abc", "https://upload.example.net/part?sig=abc"),
])
async def test_urls_resolve_as_httpx_joins_them(base: str, path: str, expected: str) -> None:
    api = ApiClient(base)
    try:
        assert str(api._resolved(path)) == expected == str(api._client.build_request("GET", path).url)
        assert api._resolved(path) is api._resolved(path)  # joined once
    finally:
        await api.aclose()


async def test_resolved_urls_kept_are_bounded() -> None:
    api = ApiClient("https://api.example.com")
    try:
        for n in range(URLS_KEPT * 3):
            api._resolved(f"/videos/{n}")
        assert len(api._urls) <= URLS_KEPT
        url = httpx.URL("https://other.example/x")
        assert api._resolved(url) is url
    finally:
        await api.aclose()

"""TikTok requests as a client sends them: init, PUT the chunks of the plan, fetch the status, inspect."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

TOKEN = "tiktok-token"
CONTROL = "/_emulator/tiktok"
MIB5 = 5 * 1024 * 1024
DIRECT = "/v2/post/publish/video/init/"
INBOX = "/v2/post/publish/inbox/video/init/"
STATUS = "/v2/post/publish/status/fetch/"
POST_INFO = {"title": "clip #chunkup", "privacy_level": "SELF_ONLY", "disable_comment": True}


def source(size: int, chunk: int, count: int | None = None) -> dict[str, Any]:
    return {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk,
            "total_chunk_count": size // chunk if count is None else count}  # fmt: skip


def init(tiktok: httpx.Client, size: int, chunk: int, inbox: bool = False, **post_info: Any) -> httpx.Response:
    body: dict[str, Any] = {"source_info": source(size, chunk)}
    if not inbox:
        body["post_info"] = {**POST_INFO, **post_info}
    return tiktok.post(INBOX if inbox else DIRECT, json=body)


def new_post(tiktok: httpx.Client, size: int, chunk: int, inbox: bool = False) -> dict[str, Any]:
    response = init(tiktok, size, chunk, inbox)
    assert response.status_code == 200, response.text
    assert response.json()["error"]["code"] == "ok"
    return response.json()["data"]


def put(url: str, data: bytes, first: int, total: int, media_type: str = "video/mp4", **headers: str) -> httpx.Response:
    sent = {"Content-Type": media_type, "Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}"}
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    return httpx.put(url, content=data, headers=sent, timeout=30)


def upload_all(url: str, data: bytes, chunk: int) -> list[httpx.Response]:
    """Every chunk of TikTok's plan (the remainder merged into the last), in order."""
    count = max(len(data) // chunk, 1)
    answers = []
    for i in range(count):
        end = len(data) if i == count - 1 else (i + 1) * chunk
        answers.append(put(url, data[i * chunk : end], i * chunk, len(data)))
    return answers


def status(tiktok: httpx.Client, publish_id: str) -> httpx.Response:
    return tiktok.post(STATUS, json={"publish_id": publish_id})


def inspect(anon: httpx.Client, publish_id: str) -> dict[str, Any]:
    response = anon.get(f"{CONTROL}/posts/{publish_id}")
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status_code: int, code: str, message: str = "") -> None:
    assert response.status_code == status_code, response.text
    error = response.json()["error"]
    assert error["code"] == code and message in error["message"] and error["log_id"]
    assert response.json()["data"] == {}


def raw_put(url: str, length: int, first: bytes, content_range: str) -> socket.socket:
    """A PUT announcing ``length`` body bytes of which only ``first`` are sent; the socket stays open."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    head = (f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            f"Content-Type: video/mp4\r\nContent-Range: {content_range}\r\nContent-Length: {length}\r\n\r\n")
    sock.sendall(head.encode() + first)
    return sock


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until ``check()`` is truthy (the server has handled what a raw socket did)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, "timed out waiting for the emulator"
            return value
        time.sleep(0.01)

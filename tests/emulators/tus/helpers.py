"""tus requests as a client sends them, plus raw-socket requests for bodies that break off or stall."""

from __future__ import annotations

import base64
import hashlib
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

OCTETS = "application/offset+octet-stream"
CONTROL = "/_emulator/tus"


def b64(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def create(tus: httpx.Client, length: int | None = None, **headers: str) -> httpx.Response:
    sent = {k.replace("_", "-"): v for k, v in headers.items()}
    if length is not None:
        sent["Upload-Length"] = str(length)
    return tus.post("/files/", headers=sent)


def new_upload(tus: httpx.Client, length: int, **headers: str) -> str:
    response = create(tus, length, **headers)
    assert response.status_code == 201, response.text
    return response.headers["location"]


def patch(tus: httpx.Client, url: str, offset: int, data: bytes, **headers: str) -> httpx.Response:
    sent = {"Upload-Offset": str(offset), "Content-Type": OCTETS}
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    return tus.patch(url, content=data, headers=sent)


def upload_id(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


def inspect(tus: httpx.Client, url: str) -> dict[str, Any]:
    response = tus.get(f"{CONTROL}/uploads/{upload_id(url)}")
    response.raise_for_status()
    return response.json()


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until ``check()`` is truthy (the server has handled what a raw socket did)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, "timed out waiting for the emulator"
            return value
        time.sleep(0.01)


def raw_patch(base_url: str, path: str, offset: int, length: int, first: bytes) -> socket.socket:
    """A PATCH announcing ``length`` body bytes of which only ``first`` are sent; the socket stays open."""
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nTus-Resumable: 1.0.0\r\n"
        f"Content-Type: {OCTETS}\r\nUpload-Offset: {offset}\r\nContent-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode() + first)
    return sock


def read_status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])

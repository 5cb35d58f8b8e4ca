"""LinkedIn requests as a client sends them: initialize, PUT the parts, finalize, get the video, inspect."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

TOKEN = "linkedin-token"
VERSION = "202511"
OWNER = "urn:li:person:chunkup"
CONTROL = "/_emulator/linkedin"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "LinkedIn-Version": VERSION, "X-Restli-Protocol-Version": "2.0.0"}


def initialize(api: httpx.Client, size: int, owner: str = OWNER, **extra: Any) -> httpx.Response:
    body = {"initializeUploadRequest": {"owner": owner, "fileSizeBytes": size, "uploadCaptions": False,
                                        "uploadThumbnail": False, **extra}}  # fmt: skip
    return api.post("/rest/videos", params={"action": "initializeUpload"}, json=body)


def new_video(api: httpx.Client, size: int, **extra: Any) -> dict[str, Any]:
    response = initialize(api, size, **extra)
    assert response.status_code == 200, response.text
    return response.json()["value"]


def put_part(url: str, data: bytes) -> httpx.Response:
    return httpx.put(url, content=data, headers={"Content-Type": "application/octet-stream"}, timeout=30)


def upload_parts(value: dict[str, Any], data: bytes, order: list[int] | None = None) -> list[str]:
    """PUT every instruction's bytes (in ``order``), returning the ETags in instruction order."""
    instructions = value["uploadInstructions"]
    etags: dict[int, str] = {}
    for i in order if order is not None else range(len(instructions)):
        part = instructions[i]
        response = put_part(part["uploadUrl"], data[part["firstByte"] : part["lastByte"] + 1])
        assert response.status_code == 201, response.text
        etags[i] = response.headers["ETag"]
    return [etags[i] for i in range(len(instructions))]


def finalize(api: httpx.Client, value: dict[str, Any], etags: list[str], **override: Any) -> httpx.Response:
    body = {"video": value["video"], "uploadToken": value["uploadToken"], "uploadedPartIds": etags, **override}
    return api.post("/rest/videos", params={"action": "finalizeUpload"}, json={"finalizeUploadRequest": body})


def get_video(api: httpx.Client, urn: str) -> httpx.Response:
    return api.get(f"/rest/videos/{quote(urn, safe='')}")


def inspect(anon: httpx.Client, urn: str) -> dict[str, Any]:
    response = anon.get(f"{CONTROL}/videos/{urn.rsplit(':', 1)[-1]}")
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, message: str = "", code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and message in body["message"]
    assert body.get("code") == code


def raw_put(url: str, length: int, first: bytes) -> socket.socket:
    """A PUT announcing ``length`` body bytes of which only ``first`` are sent; the socket stays open."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    head = (f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n")
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

"""Cloudflare Stream requests as a client sends them: tus creation, PATCHes, inspection."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx

TOKEN = "cf-token"
ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
STREAM = f"/client/v4/accounts/{ACCOUNT}/stream"
OCTETS = "application/offset+octet-stream"
CONTROL = "/_emulator/cloudflare_stream"
#: The chunk rules the ``cf`` fixture sets (1/1024 of Cloudflare's): 256-byte multiples, 5 KiB to 200 KiB.
MULTIPLE, MIN_CHUNK, MAX_CHUNK = 256, 5 * 1024, 200 * 1024


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def create(cf: httpx.Client, length: int | None, metadata: str | None = None, direct_user: bool = False,
           **headers: str) -> httpx.Response:  # fmt: skip
    sent = {"Tus-Resumable": "1.0.0", **{k.replace("_", "-"): v for k, v in headers.items()}}
    if length is not None:
        sent["Upload-Length"] = str(length)
    if metadata is not None:
        sent["Upload-Metadata"] = metadata
    return cf.post(STREAM, params={"direct_user": "true"} if direct_user else None, headers=sent)


def new_video(cf: httpx.Client, length: int, metadata: str | None = None, direct_user: bool = False,
              **headers: str) -> tuple[str, str]:  # fmt: skip
    """(uid, Location)."""
    response = create(cf, length, metadata, direct_user, **headers)
    assert response.status_code == 201, response.text
    return response.headers["stream-media-id"], response.headers["location"]


def patch(client: httpx.Client, url: str, offset: int, data: bytes) -> httpx.Response:
    return client.patch(url, content=data, headers={"Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                                                    "Content-Type": OCTETS})  # fmt: skip


def head(client: httpx.Client, url: str) -> httpx.Response:
    return client.head(url, headers={"Tus-Resumable": "1.0.0"})


def upload_all(client: httpx.Client, url: str, data: bytes, chunk: int = MIN_CHUNK) -> None:
    for start in range(0, len(data), chunk):
        response = patch(client, url, start, data[start:start + chunk])
        assert response.status_code == 204, response.text


def inspect(anon: httpx.Client, uid: str) -> dict[str, Any]:
    response = anon.get(f"{CONTROL}/videos/{uid}")
    assert response.status_code == 200, response.text
    return response.json()

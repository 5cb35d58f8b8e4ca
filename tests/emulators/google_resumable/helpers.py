"""Requests as a Google resumable-upload client sends them, against the emulator's YouTube and GCS front doors."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import google_crc32c
import httpx

KIB = 1024
ALIGN = 256 * KIB
YOUTUBE_TOKEN, GCS_TOKEN = "youtube-token", "gcs-token"
YOUTUBE_AUTH = {"Authorization": f"Bearer {YOUTUBE_TOKEN}"}
GCS_AUTH = {"Authorization": f"Bearer {GCS_TOKEN}"}
INSERT = "/upload/youtube/v3/videos"
INSERT_PARAMS = {"uploadType": "resumable", "part": "snippet,status"}
YT_CONTROL, GCS_CONTROL = "/_emulator/youtube", "/_emulator/gcs"
VIDEO_BODY = {"snippet": {"title": "A clip", "categoryId": "22"}, "status": {"privacyStatus": "private"}}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def crc32c_b64(data: bytes) -> str:
    return base64.b64encode(google_crc32c.value(data).to_bytes(4, "big")).decode()


def upload_id(url: str) -> str:
    return httpx.URL(url).params["upload_id"]


def gcs_start(client: httpx.Client, name: str = "clips/a.mp4", total: int | None = None, bucket: str = "media",
              body: dict[str, Any] | None = None, **params: Any) -> httpx.Response:  # fmt: skip
    headers = {**GCS_AUTH, "X-Upload-Content-Type": "video/mp4"}
    if total is not None:
        headers["X-Upload-Content-Length"] = str(total)
    return client.post(f"/upload/storage/v1/b/{bucket}/o", params={"uploadType": "resumable", "name": name, **params},
                       headers=headers, json=body)  # fmt: skip


def gcs_session(client: httpx.Client, name: str = "clips/a.mp4", total: int | None = None, **kw: Any) -> str:
    response = gcs_start(client, name, total, **kw)
    assert response.status_code == 200, response.text
    return response.headers["Location"]


def yt_start(client: httpx.Client, body: dict[str, Any] | None = None, total: int | None = None,
             token: str = YOUTUBE_TOKEN, media_type: str = "video/mp4", **params: Any) -> httpx.Response:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "X-Upload-Content-Type": media_type}
    if total is not None:
        headers["X-Upload-Content-Length"] = str(total)
    return client.post(INSERT, params={**INSERT_PARAMS, **params}, headers=headers,
                       json=VIDEO_BODY if body is None else body)  # fmt: skip


def yt_session(client: httpx.Client, total: int | None = None, **kw: Any) -> str:
    response = yt_start(client, total=total, **kw)
    assert response.status_code == 200, response.text
    return response.headers["Location"]


def put(client: httpx.Client, url: str, data: bytes, start: int, total: int | str,
        headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
    """One chunk: ``data`` at ``start``, ``Content-Range: bytes start-end/total``."""
    end = start + len(data) - 1
    return client.put(url, content=data, headers={"Content-Range": f"bytes {start}-{end}/{total}", **(headers or {})})


def query(client: httpx.Client, url: str, total: int | str = "*",
          headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
    """A status query: no body, ``Content-Range: bytes */total``."""
    return client.put(url, content=b"", headers={"Content-Range": f"bytes */{total}", **(headers or {})})


def persisted(response: httpx.Response) -> int:
    """Bytes a 308 says are persisted (``Range: bytes=0-N``: N + 1; none: 0)."""
    assert response.status_code == 308, (response.status_code, response.text)
    header = response.headers.get("Range")
    return 0 if header is None else int(header.rsplit("-", 1)[1]) + 1


def upload_all(client: httpx.Client, url: str, data: bytes, chunk: int) -> httpx.Response:
    """Send ``data`` in ``chunk``-byte chunks, each from where the server's ``Range`` says; the final answer."""
    offset = 0
    while True:
        piece = data[offset:offset + chunk]
        response = put(client, url, piece, offset, len(data))
        if response.status_code != 308:
            return response
        offset = persisted(response)


def session_info(client: httpx.Client, control: str, url: str) -> dict[str, Any]:
    response = client.get(f"{control}/sessions/{upload_id(url)}")
    assert response.status_code == 200, response.text
    return response.json()

"""Vimeo requests as a client sends them: create a video, PATCH its upload link, inspect it."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

TOKEN = "vimeo-token"
ACCEPT = "application/vnd.vimeo.*+json;version=3.4"
OCTETS = "application/offset+octet-stream"
CONTROL = "/_emulator/vimeo"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def create(vimeo: httpx.Client, size: int | str, fields: str | None = None, **body: Any) -> httpx.Response:
    params = {"fields": fields} if fields else None
    return vimeo.post("/me/videos", params=params, json={"upload": {"approach": "tus", "size": size}, **body})


def new_video(vimeo: httpx.Client, size: int, **body: Any) -> dict[str, Any]:
    response = create(vimeo, size, **body)
    assert response.status_code == 200, response.text
    return response.json()


def video_id(video: dict[str, Any]) -> str:
    return video["uri"].rsplit("/", 1)[-1]


def patch(link: httpx.Client, url: str, offset: int, data: bytes) -> httpx.Response:
    return link.patch(url, content=data, headers={"Upload-Offset": str(offset), "Content-Type": OCTETS})


def inspect(anon: httpx.Client, vid: str) -> dict[str, Any]:
    response = anon.get(f"{CONTROL}/videos/{vid}")
    assert response.status_code == 200, response.text
    return response.json()

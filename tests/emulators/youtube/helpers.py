"""A finished YouTube upload, and videos.list as a poller calls it."""

from __future__ import annotations

from typing import Any

import httpx

from ..google_resumable.helpers import YOUTUBE_AUTH, put, yt_session


def uploaded(google: httpx.Client, data: bytes = b"video bytes", **kw: Any) -> dict[str, Any]:
    """A video whose bytes all arrived (one chunk): the insert's final answer."""
    url = yt_session(google, total=len(data), **kw)
    answer = put(google, url, data, 0, len(data)) if data else google.put(url, headers={"Content-Range": "bytes */0"})
    assert answer.status_code == 201, answer.text
    return answer.json()


def listed(google: httpx.Client, *ids: str, part: str = "status,processingDetails") -> httpx.Response:
    return google.get("/youtube/v3/videos", params={"part": part, "id": ",".join(ids)}, headers=YOUTUBE_AUTH)


def one(google: httpx.Client, video_id: str) -> dict[str, Any]:
    answer = listed(google, video_id)
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert len(items) == 1
    return items[0]

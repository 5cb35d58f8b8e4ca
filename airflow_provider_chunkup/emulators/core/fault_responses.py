"""What an injected fault answers: a server error, or a 429 dressed as the path's API sends it.

- X (``/2/...``, ``/1.1/...``): ``x-rate-limit-limit``, ``x-rate-limit-remaining: 0``,
  ``x-rate-limit-reset`` (epoch seconds) and ``{"errors":[{"code":88,...}]}``, as ``x/upload.py`` answers
  an exhausted window.
- api.video (``/videos...``, ``/upload...``, ``/auth...``): ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining: 0``, ``X-RateLimit-Retry-After`` (seconds) and its
  ``too-many-requests`` problem, as ``apivideo/emulator.py`` answers one.
- anything else (Content-Range, Django REST framework): ``Retry-After`` and DRF's throttled
  ``{"detail": ...}``.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

from starlette.types import Receive, Send

from ..apivideo.errors import too_many_requests
from .config import EmulatorConfig

X_PREFIXES = ("/2/", "/1.1/")
APIVIDEO_PREFIXES = ("/videos", "/upload", "/auth")
#: api.video's upload bucket (``apivideo/emulator.py``): the chunk routes.
APIVIDEO_UPLOAD_PATHS = ("/upload",)

Headers = list[tuple[bytes, bytes]]


def api_of(path: str) -> str:
    """``"x"``, ``"apivideo"`` or ``"content_range"``, by the path's first segment."""
    if path.startswith(X_PREFIXES):
        return "x"
    if path.startswith(APIVIDEO_PREFIXES):
        return "apivideo"
    return "content_range"


def rate_limited(method: str, path: str, retry_after: int, config: EmulatorConfig) -> tuple[Headers, Any]:
    """Headers and JSON body of a 429 from the API serving ``path``."""
    api = api_of(path)
    if api == "x":
        limit = config.x.status_rate_limit if method == "GET" else config.x.rate_limit
        headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(math.ceil(time.time() + retry_after)),
        }
        return _encode(headers), {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    if api == "apivideo":
        av = config.apivideo
        upload = method == "POST" and (path.endswith("/source") or path in APIVIDEO_UPLOAD_PATHS)
        limit = av.upload_rate_limit if upload else av.read_rate_limit if method == "GET" else av.write_rate_limit
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Retry-After": str(retry_after),
        }
        return _encode(headers), too_many_requests()
    unit = "second" if retry_after == 1 else "seconds"
    detail = f"Request was throttled. Expected available in {retry_after} {unit}."
    return _encode({"Retry-After": str(retry_after)}), {"detail": detail}


async def send_rate_limited(method: str, path: str, retry_after: int, config: EmulatorConfig, send: Send) -> None:
    headers, payload = rate_limited(method, path, retry_after, config)
    await send_json(429, payload, "application/json", headers, send)


async def send_error(status: int, send: Send) -> None:
    """An injected server error: a small problem document."""
    payload = {
        "title": "Injected fault",
        "type": "about:blank",
        "status": status,
        "detail": "Fault injected by chunkup-emulator",
    }
    await send_json(status, payload, "application/problem+json", [], send)


async def send_json(status: int, payload: Any, content_type: str, headers: Headers, send: Send) -> None:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(raw)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


async def close_connection(receive: Receive) -> bool:
    """Close the TCP connection under uvicorn's ``receive``; False when there is none to reach.

    ASGI has no "abort" message, so this reaches for uvicorn's transport. Letting the loop run
    once afterwards marks the request disconnected, so uvicorn neither sends what the app still
    answers nor logs the unfinished response as an application error.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is None:
        return False
    transport.close()
    for _ in range(3):
        await asyncio.sleep(0)
    return True


async def drop_connection(receive: Receive, send: Send) -> None:
    """Close the connection without a response."""
    if not await close_connection(receive):
        # Not uvicorn: promise a body and never send it, which servers answer by closing.
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})


def _encode(headers: dict[str, str]) -> Headers:
    # ASGI wants lower-case names (Starlette lower-cases the handlers' ``X-RateLimit-*`` too).
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

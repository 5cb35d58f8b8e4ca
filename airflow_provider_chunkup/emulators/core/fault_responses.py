"""What an injected fault answers: a server error, a 429, or no answer at all.

A 429 is dressed as the API serving the path sends one (``EmulatedApi.rate_limited``: its headers
and body); on a path no API claims it is ``Retry-After`` and a small problem document.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from starlette.types import Receive, Send

Headers = list[tuple[bytes, bytes]]


async def send_error(status: int, send: Send, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """An injected server error (or a 429 no API dressed): a small problem document."""
    payload = {
        "title": "Injected fault",
        "type": "about:blank",
        "status": status,
        "detail": "Fault injected by chunkup-emulator",
    }
    await send_json(status, payload, "application/problem+json", list(headers), send)


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

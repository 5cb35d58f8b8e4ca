"""Helpers both Google front doors use around the session protocol."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from ..core.forms import SMALL_FIELD_LIMIT
from .errors import GoogleError


def base_url(request: Request) -> str:
    """``scheme://host`` of the request, for absolute session URIs."""
    return str(request.base_url).rstrip("/")


async def json_body(request: Request, required: bool = False) -> dict[str, Any]:
    """The request's JSON object body ({} when empty and not ``required``); 400 ``parseError`` otherwise."""
    raw = await request.body()
    if len(raw) > SMALL_FIELD_LIMIT:
        raise GoogleError.bad_request(f"The metadata exceeds {SMALL_FIELD_LIMIT} bytes.", "badContent")
    if not raw.strip():
        if required:
            raise GoogleError.bad_request("The request needs a JSON body with the resource's metadata.", "required")
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GoogleError.bad_request(f"Parse Error: the body is not valid JSON ({exc}).", "parseError") from None
    if not isinstance(body, dict):
        raise GoogleError.bad_request("The metadata must be a JSON object.", "parseError")
    return body


def upload_length(request: Request, max_size: int) -> int | None:
    """``X-Upload-Content-Length`` (None when absent); 400 when it is not a size the session takes."""
    text = request.headers.get("x-upload-content-length")
    if text is None or not text.strip():
        return None
    if not text.strip().isdigit():
        raise GoogleError.bad_request(f"X-Upload-Content-Length must be the size in bytes, got {text!r}.",
                                      "badContent")  # fmt: skip
    size = int(text)
    if size > max_size:
        raise GoogleError(413, "uploadTooLarge", f"Media larger than the limit: {size} > {max_size} bytes.")
    return size

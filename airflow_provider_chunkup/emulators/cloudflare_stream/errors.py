"""Cloudflare's API envelope ``{"result", "success", "errors": [{"code", "message"}], "messages"}`` and its errors.

Codes: 10000 "Authentication error" (401 without a token, 403 for one that is not valid or not for the account),
971 for the rate limit (429), 10003 for an unknown video (404), 10005 for a request the emulator cannot take (400,
413); see ``/work/shared/api/tus-vimeo-cloudflare.md`` (section 5).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

AUTHENTICATION = 10000
NOT_FOUND = 10003
BAD_REQUEST = 10005
RATE_LIMITED = 971


def envelope(result: Any, status: int = 200) -> Response:
    body = {"result": result, "success": True, "errors": [], "messages": []}
    return Response(json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json")


class CloudflareError(Exception):
    """A request Cloudflare refuses: its status, and one ``{"code", "message"}`` in ``errors``."""

    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        body = {"result": None, "success": False, "errors": [{"code": self.code, "message": self.message}],
                "messages": []}  # fmt: skip
        response = Response(json.dumps(body, separators=(",", ":")), status_code=self.status,
                            media_type="application/json")  # fmt: skip
        for name, value in self.headers.items():
            response.headers[name] = value
        return response

    @classmethod
    def authentication(cls, status: int) -> CloudflareError:
        return cls(status, AUTHENTICATION, "Authentication error")

    @classmethod
    def not_found(cls, uid: str) -> CloudflareError:
        return cls(404, NOT_FOUND, f"Not Found: no video {uid!r} in this account (never created, or deleted)")

    @classmethod
    def bad_request(cls, message: str, status: int = 400) -> CloudflareError:
        return cls(status, BAD_REQUEST, message)

    @classmethod
    def rate_limited(cls) -> CloudflareError:
        return cls(429, RATE_LIMITED, "Please wait and consider throttling your request speed")

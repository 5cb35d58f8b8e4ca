"""Vimeo's error JSON ``{"error", "developer_message", "error_code", "link"}`` and the codes the emulator answers.

Codes from Vimeo's error reference as collected in ``/work/shared/api/tus-vimeo-cloudflare.md`` (section 4):
400 with 2204 (a parameter failed validation), 2205 (the body is not what the endpoint reads), 2230 (the upload
approach); 401 8002 (the token); 403 4102 (the upload quota); 404 5000 (no such resource); 429 9000 (too many
requests).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

#: What Vimeo puts in ``Content-Type`` for an error.
ERROR_MEDIA_TYPE = "application/vnd.vimeo.error+json"

INVALID_PARAMETER = 2204
INVALID_BODY = 2205
INVALID_APPROACH = 2230
INVALID_TOKEN = 8002
QUOTA_EXCEEDED = 4102
NOT_FOUND = 5000
TOO_MANY_REQUESTS = 9000


class VimeoError(Exception):
    """A request Vimeo refuses: its status, ``error_code``, the user-facing ``error`` and the ``developer_message``."""

    def __init__(self, status: int, error_code: int, error: str, developer_message: str) -> None:
        super().__init__(developer_message)
        self.status = status
        self.error_code = error_code
        self.error = error
        self.developer_message = developer_message

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "link": None, "developer_message": self.developer_message,
                "error_code": self.error_code}  # fmt: skip

    def response(self) -> Response:
        return Response(json.dumps(self.body()), status_code=self.status, media_type=ERROR_MEDIA_TYPE)

    @classmethod
    def invalid(cls, developer_message: str, error_code: int = INVALID_PARAMETER) -> VimeoError:
        return cls(400, error_code, "You have provided an invalid parameter. Please contact developer of this "
                   "application.", developer_message)  # fmt: skip

    @classmethod
    def unauthorized(cls, developer_message: str) -> VimeoError:
        return cls(401, INVALID_TOKEN, "You must provide a valid authenticated access token.", developer_message)

    @classmethod
    def not_found(cls, video_id: str) -> VimeoError:
        return cls(404, NOT_FOUND, "The requested video couldn't be found.",
                   f"There is no video {video_id!r} (never created, or deleted).")  # fmt: skip

    @classmethod
    def quota(cls, size: int, limit: int) -> VimeoError:
        return cls(403, QUOTA_EXCEEDED, "You can't upload this video: it would exceed your upload quota.",
                   f"upload.size {size} is over the space left in the account's quota ({limit} bytes).")  # fmt: skip

    @classmethod
    def too_many_requests(cls) -> VimeoError:
        return cls(429, TOO_MANY_REQUESTS, "You have made too many API requests. Please wait and try again.",
                   "The rate limit of this token is used up until X-RateLimit-Reset.")  # fmt: skip

"""Google's JSON error shape, as YouTube and the GCS JSON API answer a refused request.

``{"error": {"code": 403, "message": ..., "errors": [{"domain", "reason", "message"}], "status": ...}}``.
"""

from __future__ import annotations

import json

from starlette.responses import Response

#: The canonical status Google's newer front ends put beside the HTTP code.
STATUS_TEXT = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ABORTED",
    410: "NOT_FOUND", 412: "FAILED_PRECONDITION", 413: "OUT_OF_RANGE", 429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED", 500: "INTERNAL", 503: "UNAVAILABLE",
}  # fmt: skip


class GoogleError(Exception):
    """A refusal answered as Google's JSON error."""

    def __init__(self, code: int, reason: str, message: str, domain: str = "global",
                 headers: dict[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.code, self.reason, self.message, self.domain = code, reason, message, domain
        self.headers = headers or {}

    def to_json(self) -> dict[str, object]:
        item: dict[str, str] = {"domain": self.domain, "reason": self.reason, "message": self.message}
        if self.code == 401:
            item.update(locationType="header", location="Authorization")
        return {"error": {"code": self.code, "message": self.message, "errors": [item],
                          "status": STATUS_TEXT.get(self.code, "UNKNOWN")}}  # fmt: skip

    def response(self) -> Response:
        return json_response(self.to_json(), self.code, self.headers)

    @classmethod
    def bad_request(cls, message: str, reason: str = "invalid", domain: str = "global") -> GoogleError:
        return cls(400, reason, message, domain)

    @classmethod
    def unauthorized(cls, message: str) -> GoogleError:
        return cls(401, "authError", message, headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})

    @classmethod
    def insufficient_scope(cls, needed: str) -> GoogleError:
        return cls(403, "insufficientPermissions",
                   f"Request had insufficient authentication scopes: this method needs one of {needed}.")  # fmt: skip

    @classmethod
    def not_found(cls, message: str, reason: str = "notFound", domain: str = "global") -> GoogleError:
        return cls(404, reason, message, domain)

    @classmethod
    def rate_limited(cls, retry_after_secs: int) -> GoogleError:
        return cls(429, "rateLimitExceeded", "Rate Limit Exceeded: too many requests, retry with backoff.",
                   domain="usageLimits", headers={"Retry-After": str(retry_after_secs)})  # fmt: skip


def json_response(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status_code=status, headers=headers,
                    media_type="application/json; charset=UTF-8")  # fmt: skip


def text_response(text: str, status: int, headers: dict[str, str] | None = None) -> Response:
    """A plain-text answer, as the upload servers give for protocol errors (a gap, a bad Content-Range)."""
    return Response(text, status_code=status, headers=headers, media_type="text/plain; charset=utf-8")

"""What every X route shares: authentication, rate-limit buckets and X's error bodies.

Every X response carries ``x-rate-limit-*`` headers from a bucket: ``upload`` (initialize, append,
finalize; metadata and subtitles), ``status``, ``posts`` and ``read`` (``publish.py``'s routes).
``XRoutes`` is the base of ``upload.XUpload`` and ``publish.XPublish``; ``x_endpoint`` wraps their
handlers.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..core.context import EmulatorContext
from ..core.forms import SMALL_FIELD_LIMIT, BodyError, media_type_of, read_urlencoded
from ..core.ratelimit import RateLimitState
from .auth import MEDIA_WRITE, AuthOutcome, auth_kind, authenticate
from .config import XEmulatorConfig
from .media import XMediaError

V2 = "2"
V11 = "1.1"
UPLOAD_BUCKET = "upload"
STATUS_BUCKET = "status"
POSTS_BUCKET = "posts"
READ_BUCKET = "read"
PROBLEM_JSON = "application/problem+json"
INVALID_REQUEST = "https://api.x.com/2/problems/invalid-request"
RESOURCE_NOT_FOUND = "https://api.x.com/2/problems/resource-not-found"

Handler = Callable[[Any, Request], Awaitable[Response]]


def json_response(payload: Any, status: int = 200, media_type: str = "application/json") -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status_code=status, media_type=media_type)


# -- error bodies ---------------------------------------------------------------------------------


def v2_problem(exc: XMediaError) -> Response:
    """X v2 RFC 7807 problem: InvalidRequestProblem, or ResourceNotFoundProblem for 404."""
    if exc.status == 404:
        body: dict[str, Any] = {
            "type": RESOURCE_NOT_FOUND,
            "title": "Not Found Error",
            "detail": exc.detail,
            "status": 404,
            "resource_type": "media",
            "resource_id": exc.resource_id,
        }
    else:
        body = {"type": INVALID_REQUEST, "title": "Invalid Request", "detail": exc.detail, "status": exc.status}
    if exc.parameter is not None:
        body["parameter"] = exc.parameter
    if exc.value is not None:
        body["value"] = exc.value if isinstance(exc.value, str) else json.dumps(exc.value)
    return json_response(body, exc.status, PROBLEM_JSON)


def v11_errors(status: int, code: int, message: str) -> Response:
    return json_response({"errors": [{"code": code, "message": message}]}, status)


def auth_error(api: str, outcome: AuthOutcome) -> Response:
    if outcome is AuthOutcome.FORBIDDEN:
        if api == V11:
            return v11_errors(403, 220, "Your credentials do not allow access to this resource.")
        body = {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"}
        return json_response(body, 403, PROBLEM_JSON)
    if api == V11:
        return v11_errors(401, 32, "Could not authenticate you.")
    body = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    return json_response(body, 401, PROBLEM_JSON)


def render_error(api: str, exc: XMediaError) -> Response:
    """v1.1's ``errors`` body; on v2 the error's own ``body`` when it has one, else a problem."""
    if api == V11:
        return v11_errors(exc.status, exc.v11_code, exc.detail)
    body = getattr(exc, "body", None)
    if body is not None:
        return json_response(body, exc.status)
    return v2_problem(exc)


# -- auth, rate limits and error mapping around every X handler -----------------------------------


def x_endpoint(api: str, bucket: str | None = None, scope: str = MEDIA_WRITE) -> Callable[[Handler], Handler]:
    """Authenticate (a bearer token needs ``scope``), count against a rate-limit bucket, and turn
    ``XMediaError`` into X's errors.

    ``bucket=None`` picks by method: GET is a status call, POST an upload call (v1.1 serves
    both on one path). A urlencoded body is read up front because OAuth 1.0a signs its fields;
    it is left in ``request.state.form_fields``. ``request.state.auth_kind`` says which credential
    was used (``bearer`` or ``oauth1``).
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def endpoint(self: XRoutes, request: Request) -> Response:
            config = self.config
            limit_bucket = bucket or (STATUS_BUCKET if request.method == "GET" else UPLOAD_BUCKET)
            request.state.form_fields = None
            form_pairs: list[tuple[str, str]] | None = None
            try:
                if media_type_of(request) == "application/x-www-form-urlencoded":
                    limit = 4 * config.max_segment_bytes + SMALL_FIELD_LIMIT  # percent-encoded base64
                    form_pairs = await read_urlencoded(request, limit)
                    request.state.form_fields = dict(form_pairs)
            except BodyError as exc:
                return self._finish(render_error(api, XMediaError(str(exc))), self._peek(limit_bucket))
            outcome = authenticate(request, config, form_pairs, scope)
            if outcome is not AuthOutcome.OK:
                return self._finish(auth_error(api, outcome), self._peek(limit_bucket))
            request.state.auth_kind = auth_kind(request)
            rate = self._take(limit_bucket)
            if not rate.allowed:
                return self._finish(v11_errors(429, 88, "Rate limit exceeded"), rate)
            try:
                response = await handler(self, request)
            except XMediaError as exc:
                response = render_error(api, exc)
            except BodyError as exc:
                response = render_error(api, XMediaError(str(exc)))
            return self._finish(response, rate)

        return endpoint

    return decorate


class XRoutes:
    """What ``x_endpoint`` needs of the object whose methods it wraps: the live config and the buckets."""

    context: EmulatorContext

    @property
    def config(self) -> XEmulatorConfig:
        return self.context.config.x

    def _bucket_limit(self, bucket: str) -> int:
        config = self.config
        return {
            STATUS_BUCKET: config.status_rate_limit,
            POSTS_BUCKET: config.post_rate_limit,
            READ_BUCKET: config.read_rate_limit,
        }.get(bucket, config.rate_limit)

    def _take(self, bucket: str) -> RateLimitState:
        limit = self._bucket_limit(bucket)
        return self.context.limiter.take(f"x.{bucket}", limit, self.config.rate_limit_window_secs)

    def _peek(self, bucket: str) -> RateLimitState:
        limit = self._bucket_limit(bucket)
        return self.context.limiter.peek(f"x.{bucket}", limit, self.config.rate_limit_window_secs)

    @staticmethod
    def _finish(response: Response, rate: RateLimitState) -> Response:
        response.headers.update(rate_limit_headers(rate.limit, rate.remaining, rate.reset))
        return response


def rate_limit_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    """X's ``x-rate-limit-*`` headers (``reset``: epoch seconds)."""
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset),
    }

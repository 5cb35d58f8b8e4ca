"""The Vimeo (API 3.4) front door (``VimeoEmulator``), under ``vimeo.prefix`` (default ``/vimeo``).

- ``POST <prefix>/me/videos`` (Bearer): a video and its tus upload; **200** with the video, whose
  ``upload.upload_link`` is ``<scheme>://<host><prefix>/upload/<hex>`` (absolute, from the request's own host).
- ``<prefix>/upload/<hex>``: tus 1.0.0 HEAD, PATCH, OPTIONS with no auth (the link is the credential); the upload
  is pre-created, so POST is 405; no checksum, no concatenation; a broken body keeps what arrived.
- ``GET``/``DELETE <prefix>/videos/{id}`` (Bearer): the video (``?fields=`` trims any answer); delete is 204,
  then the video and its upload link are 404.

API answers carry ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (an ISO-8601 date, as Vimeo sends it);
an exhausted window is a 429 with Vimeo's error JSON. Sources: ``/work/shared/api/tus-vimeo-cloudflare.md`` (4).
"""

from __future__ import annotations

import functools
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..core.api import EmulatedApi
from ..core.context import EmulatorContext
from ..core.control import PREFIX, ControlHandler, guarded
from ..core.fault_target import QUERY
from ..core.forms import SMALL_FIELD_LIMIT
from ..core.ratelimit import RateLimitState
from ..tus.config import TusEmulatorConfig
from ..tus.emulator import LiveTusRoute
from ..tus.server import TusServer, tus_response
from ..tus.uploads import TusUploadStore, UploadGone
from .config import VimeoEmulatorConfig
from .errors import INVALID_BODY, VimeoError
from .routes import PrefixedRoute
from .videos import TRANSCODE_FAULT, UPLOAD_FAULT, Video, VideoStore, creation, iso_time, trim

CONTROL = f"{PREFIX}/vimeo"
#: What Vimeo puts in ``Content-Type`` for a video.
VIDEO_MEDIA_TYPE = "application/vnd.vimeo.video+json"
#: The tus extensions of the upload link: uploads are pre-created, and Vimeo documents neither checksum nor
#: concatenation.
UPLOAD_LINK_EXTENSIONS = ["expiration"]
#: Counts ``stats()`` always reports.
STAT_NAMES = ("vimeo_videos_created", "vimeo_videos_deleted", "vimeo_uploads_completed")

Handler = Callable[["VimeoEmulator", Request], Awaitable[Response]]


def json_response(payload: Any, status: int = 200, media_type: str = VIDEO_MEDIA_TYPE) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status_code=status, media_type=media_type)


def vimeo_endpoint(handler: Handler) -> Handler:
    """Bearer token, then the rate limit, then the handler; ``VimeoError`` answered as Vimeo does."""

    @functools.wraps(handler)
    async def endpoint(self: VimeoEmulator, request: Request) -> Response:
        try:
            self.authenticate(request.headers.get("authorization"))
        except VimeoError as exc:
            return self._finish(exc.response(), self._rate(take=False))
        rate = self._rate(take=True)
        if not rate.allowed:
            return self._finish(VimeoError.too_many_requests().response(), rate)
        try:
            response = await handler(self, request)
        except VimeoError as exc:
            response = exc.response()
        return self._finish(response, rate)

    return endpoint


def not_allowed(method: str, allowed: tuple[str, ...]) -> Response:
    error = VimeoError(405, 2204, "This method is not allowed here.",
                       f"{method} is not allowed on this path; use {', '.join(allowed)}.")  # fmt: skip
    response = error.response()
    response.headers["Allow"] = ", ".join(allowed)
    return response


class VimeoEmulator(EmulatedApi):
    """Vimeo (API 3.4): videos created for a tus upload, their upload links, status and deletion."""

    name = "vimeo"
    title = "Vimeo (API 3.4)"
    config_type = VimeoEmulatorConfig
    #: Drawn with ``roll`` (``upload_failure_rate``, ``transcode_failure_rate``), counted in ``GET /_emulator/faults``.
    fault_kinds = (UPLOAD_FAULT, TRANSCODE_FAULT)

    def __init__(self, context: EmulatorContext) -> None:
        super().__init__(context)
        self.uploads = TusUploadStore(context.storage, self.tus_config, on_complete=self._uploaded)
        self.server = TusServer(self.uploads, self.tus_config, self.upload_base, allow_creation=False, origin="vimeo")
        self.store = VideoStore(lambda: self.config, context.faults.roll, self.uploads.expired)

    @property
    def config(self) -> VimeoEmulatorConfig:
        return self.context.config.vimeo

    def tus_config(self) -> TusEmulatorConfig:
        """The tus rules of the upload links, from the live ``vimeo`` section."""
        return TusEmulatorConfig(path=self.upload_base(), extensions=list(UPLOAD_LINK_EXTENSIONS),
                                 expiry_secs=self.config.upload_link_expiry_secs)  # fmt: skip

    def upload_base(self) -> str:
        return f"{self.config.prefix}/upload/"

    def _uploaded(self, upload: Any) -> None:
        self.store.uploaded(upload)

    def routes(self) -> list[BaseRoute]:
        prefix = lambda: self.config.prefix  # noqa: E731
        return [
            PrefixedRoute(prefix, "/me/videos", self.create_video, ("POST",), not_allowed),
            PrefixedRoute(prefix, "/videos/{video_id}", self.video, ("GET", "DELETE"), not_allowed),
            LiveTusRoute(self.upload_base, self.server.handle_upload, upload=True),
        ]

    def reset(self) -> None:
        self.uploads.forget_all()
        self.store = VideoStore(lambda: self.config, self.context.faults.roll, self.uploads.expired)

    def stats(self) -> dict[str, int]:
        """Videos held (not deleted), and events counted since the last reset."""
        held = sum(1 for v in self.store.videos.values() if not v.deleted)
        counts = {name: self.store.counts.get(name, 0) for name in STAT_NAMES}
        return {"vimeo_videos": held, **counts, "vimeo_broken_bodies": self.uploads.counts.get("tus_broken_bodies", 0),
                "vimeo_locked": self.uploads.counts.get("tus_locked", 0)}  # fmt: skip

    # -- fault injection and rate limits ----------------------------------------------------------

    @classmethod
    def chunk_targets(cls, config: VimeoEmulatorConfig) -> list[str]:
        return [rf"PATCH {re.escape(config.prefix)}/upload/[^/?]+{QUERY}"]

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        """On the upload link, tus's plain 429; elsewhere under the prefix, Vimeo's error JSON and headers."""
        prefix = self.config.prefix
        if path.startswith(self.upload_base()):
            return tus_response(429, {"Retry-After": str(retry_after_secs)}, "Too Many Requests")
        if not path.startswith(prefix + "/"):
            return None
        response = VimeoError.too_many_requests().response()
        response.headers["X-RateLimit-Limit"] = str(self.config.rate_limit)
        response.headers["X-RateLimit-Remaining"] = "0"
        response.headers["X-RateLimit-Reset"] = iso_time(math.ceil(time.time() + retry_after_secs))
        response.headers["Retry-After"] = str(retry_after_secs)
        return response

    def _rate(self, take: bool) -> RateLimitState:
        config = self.config
        count = self.context.limiter.take if take else self.context.limiter.peek
        return count("vimeo.api", config.rate_limit, config.rate_limit_window_secs)

    @staticmethod
    def _finish(response: Response, rate: RateLimitState) -> Response:
        response.headers["X-RateLimit-Limit"] = str(rate.limit)
        response.headers["X-RateLimit-Remaining"] = str(rate.remaining)
        response.headers["X-RateLimit-Reset"] = iso_time(rate.reset)
        return response

    # -- the API ----------------------------------------------------------------------------------

    def authenticate(self, header: str | None) -> None:
        scheme, _, token = (header or "").strip().partition(" ")
        if not header or not header.strip():
            raise VimeoError.unauthorized("The Authorization header is missing: send 'Bearer <access token>'.")
        if scheme.lower() != "bearer" or token.strip() not in self.config.tokens:
            raise VimeoError.unauthorized("The access token is not valid: send 'Authorization: Bearer <token>' with "
                                          "a token that has the upload scope.")  # fmt: skip

    def api_base(self, request: Request) -> str:
        return f"{str(request.base_url).rstrip('/')}{self.config.prefix}"

    def upload_link(self, request: Request, video: Video) -> str:
        return f"{str(request.base_url).rstrip('/')}{self.upload_base()}{video.upload.id}"

    def _answer(self, request: Request, video: Video) -> Response:
        body = self.store.video_json(video, self.api_base(request), self.upload_link(request, video))
        return json_response(trim(body, request.query_params.get("fields")))

    @vimeo_endpoint
    async def create_video(self, request: Request) -> Response:
        raw = await request.body()
        if len(raw) > SMALL_FIELD_LIMIT:
            raise VimeoError.invalid(f"The body exceeds {SMALL_FIELD_LIMIT} bytes.", INVALID_BODY)
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise VimeoError.invalid(f"The body is not valid JSON: {exc}", INVALID_BODY) from None
        created = creation(body, self.config.max_size)
        upload = self.uploads.create(created.size, {}, None, origin="vimeo")
        video = self.store.add(created, upload)
        # 200, not the spec's 201: PyVimeo and vimeo.php accept nothing else (the notes, section 4).
        return self._answer(request, video)

    @vimeo_endpoint
    async def video(self, request: Request) -> Response:
        video = self.store.get(request.path_params["video_id"])
        if request.method == "GET":
            return self._answer(request, video)
        video.deleted = True
        video.modified_at = time.time()
        self.uploads.forget(video.upload)  # the link answers 404 from now on; a PATCH still writing is dropped
        self.store.count("vimeo_videos_deleted")
        return Response(status_code=204)

    # -- inspection (under /_emulator/vimeo, no auth) ---------------------------------------------

    def control_routes(self) -> list[BaseRoute]:
        return [
            Route(f"{CONTROL}/videos", self._control(self._list_videos), methods=["GET"]),
            Route(f"{CONTROL}/videos/{{video_id}}", self._control(self._inspect_video), methods=["GET"]),
            Route(f"{CONTROL}/videos/{{video_id}}/expire", self._control(self._expire_link), methods=["POST"]),
        ]

    @staticmethod
    def _control(handler: ControlHandler) -> ControlHandler:
        def known(exc: Exception) -> tuple[int, str] | None:
            if isinstance(exc, VimeoError):
                return exc.status, exc.developer_message
            return (404, f"no such upload: {exc}") if isinstance(exc, UploadGone) else None

        return guarded(handler, known)

    def _inspect(self, video: Video) -> dict[str, Any]:
        return self.store.inspect(video, f"{self.upload_base()}{video.upload.id}")

    async def _list_videos(self, _: Request) -> Response:
        return json_response([self._inspect(v) for v in self.store.newest_first()], media_type="application/json")

    async def _inspect_video(self, request: Request) -> Response:
        return json_response(self._inspect(self.store.any(request.path_params["video_id"])),
                             media_type="application/json")  # fmt: skip

    async def _expire_link(self, request: Request) -> Response:
        """The upload link expires now (410 on HEAD and PATCH; ``upload.status`` turns ``error``)."""
        video = self.store.any(request.path_params["video_id"])
        video.upload.expired_at = time.time()
        return json_response(self._inspect(video), media_type="application/json")

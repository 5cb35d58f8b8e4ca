"""api.video routes: auth, videos, chunked source upload, status, delegated upload tokens.

Paths, fields and response shapes follow api.video's OpenAPI spec (``/work/shared/specs``) and
its docs (see ``/work/shared/api/apivideo.md``). Routes parse requests and render responses;
``videos`` and ``upload`` decide.

Every response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Retry-After`` from one of three buckets, as api.video counts them: ``upload``
(``/videos/{id}/source``, ``/upload``), ``write`` (other POST, PATCH, DELETE) and ``read`` (GET).
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.api import EmulatedApi
from ..core.config import ApiConfig
from ..core.context import EmulatorContext
from ..core.control import PREFIX, ControlHandler, guarded, json_object
from ..core.fault_target import QUERY
from ..core.forms import SMALL_FIELD_LIMIT, BodyError, ReceivedForm, media_type_of, read_multipart
from ..core.ratelimit import RateLimitState
from ..core.storage import SpoolFile
from .auth import MAX_UPLOAD_TOKEN_TTL, ApiVideoAuth, UploadToken
from .config import ApiVideoEmulatorConfig
from .errors import ApiVideoError, too_many_requests
from .upload import ContentRange, SourceUpload, parse_content_range
from .videos import Video, VideoStore, creation_fields

UPLOAD, WRITE, READ = "upload", "write", "read"
#: Who may call a route: an API key or access token, a delegated upload token, or anyone.
API_KEY, UPLOAD_TOKEN, NOBODY = "api key", "upload token", "nobody"
CONTROL = f"{PREFIX}/apivideo"
#: Paths api.video answers: an injected 429 there is api.video's (``/upload`` itself, and ``/upload-tokens``:
#: not ``/upload/...``, which is Google's).
PATH_PREFIXES = ("/videos", "/upload-tokens", "/auth")

Handler = Callable[["ApiVideoEmulator", Request], Awaitable[Response]]


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status_code=status, media_type="application/json")


def error_response(exc: ApiVideoError) -> Response:
    return json_response(exc.body(), exc.status)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def apivideo_endpoint(bucket: str | None = None, auth: str = API_KEY) -> Callable[[Handler], Handler]:
    """Authenticate, count against a rate-limit bucket, and render ``ApiVideoError`` as api.video does.

    ``bucket=None`` picks by method: GET reads, anything else writes. A rejected credential is
    not counted (its answer shows the bucket as it is).
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def endpoint(self: ApiVideoEmulator, request: Request) -> Response:
            limit_bucket = bucket or (READ if request.method == "GET" else WRITE)
            try:
                if auth == API_KEY:
                    self.auth.authenticate(request.headers.get("authorization"))
                elif auth == UPLOAD_TOKEN:
                    request.state.upload_token = self.auth.check_upload_token(request.query_params.get("token"))
            except ApiVideoError as exc:
                return self._finish(error_response(exc), self._rate(limit_bucket, take=False))
            rate = self._rate(limit_bucket, take=True)
            if not rate.allowed:
                return self._finish(json_response(too_many_requests(), 429), rate)
            try:
                response = await handler(self, request)
            except ApiVideoError as exc:
                response = error_response(exc)
            except BodyError as exc:
                response = error_response(ApiVideoError("invalid-payload", detail=str(exc)))
            return self._finish(response, rate)

        return endpoint

    return decorate


class ApiVideoEmulator(EmulatedApi):
    """The api.video API (the parts chunkup uses) plus its inspection endpoints."""

    name = "apivideo"
    title = "api.video"
    config_type = ApiVideoEmulatorConfig
    fault_kinds = ("encoding_failure",)

    def __init__(self, context: EmulatorContext) -> None:
        super().__init__(context)
        self.auth = ApiVideoAuth(lambda: context.config.apivideo)
        self.store = VideoStore(context.storage, lambda: context.config.apivideo, context.faults.roll)

    @property
    def config(self) -> ApiVideoEmulatorConfig:
        return self.context.config.apivideo

    def reset(self) -> None:
        self.store.forget_all()
        self.auth.forget_all()

    # -- fault injection ------------------------------------------------------------------------

    @classmethod
    def chunk_targets(cls, config: ApiConfig) -> list[str]:
        return [rf"POST /videos/[^/?]+/source{QUERY}", rf"POST /upload{QUERY}"]

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        """api.video's 429, with the limit of the bucket the request counts against."""
        if not (path.startswith(PATH_PREFIXES) or path == "/upload"):
            return None
        config = self.config
        if method == "POST" and (path.endswith("/source") or path == "/upload"):
            limit = config.upload_rate_limit
        else:
            limit = config.read_rate_limit if method == "GET" else config.write_rate_limit
        response = json_response(too_many_requests(), 429)
        response.headers["X-RateLimit-Limit"] = str(limit)
        response.headers["X-RateLimit-Remaining"] = "0"
        response.headers["X-RateLimit-Retry-After"] = str(retry_after_secs)
        return response

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/auth/api-key", self.auth_api_key, methods=["POST"]),
            Route("/auth/refresh", self.auth_refresh, methods=["POST"]),
            Route("/videos", self.create_video, methods=["POST"]),
            Route("/videos/{videoId}", self.get_video, methods=["GET"]),
            Route("/videos/{videoId}", self.delete_video, methods=["DELETE"]),
            Route("/videos/{videoId}/source", self.upload_source, methods=["POST"]),
            Route("/videos/{videoId}/status", self.video_status, methods=["GET"]),
            Route("/upload-tokens", self.create_upload_token, methods=["POST"]),
            Route("/upload-tokens/{uploadToken}", self.get_upload_token, methods=["GET"]),
            Route("/upload-tokens/{uploadToken}", self.delete_upload_token, methods=["DELETE"]),
            Route("/upload", self.upload_with_token, methods=["POST"]),
        ]

    # -- rate limits ----------------------------------------------------------------------------

    def _rate(self, bucket: str, take: bool) -> RateLimitState:
        config = self.config
        limit = {UPLOAD: config.upload_rate_limit, WRITE: config.write_rate_limit, READ: config.read_rate_limit}[bucket]
        count = self.context.limiter.take if take else self.context.limiter.peek
        return count(f"apivideo.{bucket}", limit, config.rate_limit_window_secs)

    def _finish(self, response: Response, rate: RateLimitState) -> Response:
        # ``reset`` is the window's end rounded up: never a retry too early, and at most a window.
        window = math.ceil(self.config.rate_limit_window_secs)
        retry_after = min(max(math.ceil(rate.reset - time.time()), 0), window)
        response.headers["X-RateLimit-Limit"] = str(rate.limit)
        response.headers["X-RateLimit-Remaining"] = str(rate.remaining)
        response.headers["X-RateLimit-Retry-After"] = str(retry_after)
        return response

    # -- authentication -------------------------------------------------------------------------

    @apivideo_endpoint(auth=NOBODY)
    async def auth_api_key(self, request: Request) -> Response:
        body = await self._json_body(request)
        return json_response(self.auth.issue(self._string_field(body, "apiKey")))

    @apivideo_endpoint(auth=NOBODY)
    async def auth_refresh(self, request: Request) -> Response:
        body = await self._json_body(request)
        return json_response(self.auth.refresh(self._string_field(body, "refreshToken")))

    # -- videos ---------------------------------------------------------------------------------

    @apivideo_endpoint()
    async def create_video(self, request: Request) -> Response:
        video = self.store.create(creation_fields(await self._json_body(request)))
        return json_response(self.store.video_json(video, base_url(request)), 201)

    @apivideo_endpoint()
    async def get_video(self, request: Request) -> Response:
        video = self.store.get(request.path_params["videoId"])
        return json_response(self.store.video_json(video, base_url(request)))

    @apivideo_endpoint()
    async def delete_video(self, request: Request) -> Response:
        self.store.delete(request.path_params["videoId"])
        return Response(status_code=204)

    @apivideo_endpoint()
    async def video_status(self, request: Request) -> Response:
        video = self.store.get(request.path_params["videoId"])
        return json_response({"ingest": self.store.ingest_state(video), "encoding": self.store.encoding_state(video)})

    # -- source upload --------------------------------------------------------------------------

    @apivideo_endpoint(UPLOAD)
    async def upload_source(self, request: Request) -> Response:
        video = self.store.get(request.path_params["videoId"])
        rng = parse_content_range(request.headers.get("content-range"))
        self.store.precheck(video, rng)
        form = await self._read_upload_form(request)
        try:
            spool = self._single_file(form)
            video, completed = await self.store.receive(video.id, rng, spool)
        finally:
            form.discard()
        return self._upload_answer(request, video, completed)

    @apivideo_endpoint(UPLOAD, auth=UPLOAD_TOKEN)
    async def upload_with_token(self, request: Request) -> Response:
        token: UploadToken = request.state.upload_token
        rng = parse_content_range(request.headers.get("content-range"))
        form = await self._read_upload_form(request)
        try:
            spool = self._single_file(form)
            video_id = form.fields.get("videoId")
            if video_id:
                video = self.store.get(video_id)
                if video.created_by_token != token.token:
                    raise ApiVideoError(
                        "invalid-attribute", name="videoId",
                        detail=f"Video {video_id} was not created with this upload token.",
                    )  # fmt: skip
            else:
                # No videoId: a new container, as api.video does for every such request (its
                # own clients forget videoId after the first chunk and get one video per chunk).
                video = self._token_video(rng, spool, token)
            video, completed = await self.store.receive(video.id, rng, spool)
        finally:
            form.discard()
        return self._upload_answer(request, video, completed)

    def _token_video(self, rng: ContentRange | None, spool: SpoolFile, token: UploadToken) -> Video:
        """The container a token upload without ``videoId`` creates, once its first piece passes."""
        # Checked against an empty upload first, so a refused piece leaves no video behind.
        SourceUpload().check(rng, spool.size, self.config)
        title = spool.filename or spool.field_name or "file"
        return self.store.create({"title": title}, created_by_token=token.token)

    async def _read_upload_form(self, request: Request) -> ReceivedForm:
        content_type = media_type_of(request)
        if content_type != "multipart/form-data":
            raise ApiVideoError(
                "uploaded-file-no-file", name="file",
                detail=f"Send multipart/form-data with the file in a 'file' part, not {content_type or 'no body'}.",
            )  # fmt: skip
        return await read_multipart(
            request, self.context.storage, {"file"}, self.config.max_chunk_bytes, spool_file_parts=True
        )

    def _single_file(self, form: ReceivedForm) -> SpoolFile:
        """The request's one uploaded file (any part with a filename, or the part named ``file``)."""
        if not form.file_parts:
            raise ApiVideoError("uploaded-file-no-file", name="file")
        if len(form.file_parts) > 1:
            names = ", ".join(repr(p.field_name) for p in form.file_parts)
            raise ApiVideoError("uploaded-file-multiple-files", name="file", detail=f"Got parts {names}.")
        spool = form.file_parts[0]
        if spool.overflowed:
            raise ApiVideoError(
                "uploaded-file-too-large", name="file",
                detail=f"A request may carry at most {self.config.max_chunk_bytes} bytes; send larger files in chunks.",
            )  # fmt: skip
        return spool

    def _upload_answer(self, request: Request, video: Video, completed: bool) -> Response:
        """201 with the Video for the request that completed the source, ``{videoId}`` before that."""
        if completed:
            return json_response(self.store.video_json(video, base_url(request)), 201)
        return json_response({"videoId": video.id}, 201)

    # -- delegated upload tokens ----------------------------------------------------------------

    @apivideo_endpoint()
    async def create_upload_token(self, request: Request) -> Response:
        body = await self._json_body(request, empty_ok=True)
        unknown = sorted(set(body) - {"ttl"})
        if unknown:
            raise ApiVideoError(
                "invalid-attribute", name=unknown[0], detail=f"The attribute {unknown[0]!r} does not exist."
            )
        ttl = body.get("ttl", 0)
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_UPLOAD_TOKEN_TTL:
            raise ApiVideoError(
                "invalid-attribute", name="ttl",
                detail=f"This attribute must be an integer between 0 and {MAX_UPLOAD_TOKEN_TTL} (0: no expiry).",
            )  # fmt: skip
        return json_response(self.auth.create_upload_token(ttl).to_json())

    @apivideo_endpoint()
    async def get_upload_token(self, request: Request) -> Response:
        return json_response(self.auth.get_upload_token(request.path_params["uploadToken"]).to_json())

    @apivideo_endpoint()
    async def delete_upload_token(self, request: Request) -> Response:
        self.auth.delete_upload_token(request.path_params["uploadToken"])
        return Response(status_code=204)

    # -- request helpers ------------------------------------------------------------------------

    @staticmethod
    async def _json_body(request: Request, empty_ok: bool = False) -> dict[str, Any]:
        """The body as a JSON object (api.video parses JSON whatever the Content-Type says)."""
        raw = await request.body()
        if empty_ok and not raw.strip():
            return {}
        if len(raw) > SMALL_FIELD_LIMIT:
            raise ApiVideoError("invalid-payload", detail=f"The body exceeds {SMALL_FIELD_LIMIT} bytes.")
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiVideoError("invalid-payload", detail=f"The body is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise ApiVideoError("invalid-payload", detail="The body must be a JSON object.")
        return body

    @staticmethod
    def _string_field(body: dict[str, Any], name: str) -> str:
        value = body.get(name)
        if value is None:
            raise ApiVideoError("attribute-required", name=name)
        if not isinstance(value, str):
            raise ApiVideoError("invalid-attribute", name=name, detail="This attribute must be a string.")
        return value

    # -- inspection and control (under /_emulator/apivideo, no auth) ----------------------------

    def control_routes(self) -> list[BaseRoute]:
        return [
            Route(f"{CONTROL}/videos", self._control(self._list_videos), methods=["GET"]),
            Route(f"{CONTROL}/videos/{{videoId}}", self._control(self._inspect_video), methods=["GET"]),
            Route(f"{CONTROL}/videos/{{videoId}}/encoding", self._control(self._set_encoding), methods=["POST"]),
            Route(f"{CONTROL}/tokens/expire", self._control(self._expire_tokens), methods=["POST"]),
            Route(f"{CONTROL}/vod/{{videoId}}/hls/manifest.m3u8", self._control(self._hls_manifest), methods=["GET"]),
            Route(f"{CONTROL}/vod/{{videoId}}/mp4/source.mp4", self._control(self._mp4), methods=["GET"]),
        ]

    @staticmethod
    def _control(handler: ControlHandler) -> ControlHandler:
        """Plain ``{"error": ...}`` bodies, as the other control endpoints answer."""
        return guarded(handler, lambda exc: (exc.status, exc.detail or exc.title)
                       if isinstance(exc, ApiVideoError) else None)

    def _any_video(self, video_id: str) -> Video:
        """A video by id, deleted ones included (inspection shows them)."""
        video = self.store.videos.get(video_id)
        if video is None:
            raise ApiVideoError.not_found("videoId", video_id)
        return video

    async def _list_videos(self, _: Request) -> Response:
        return json_response(self.store.listing())

    async def _inspect_video(self, request: Request) -> Response:
        return json_response(self.store.inspect(self._any_video(request.path_params["videoId"])))

    async def _set_encoding(self, request: Request) -> Response:
        body = await json_object(request)
        unknown = set(body) - {"outcome"}
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
        video = self.store.set_encoding_override(request.path_params["videoId"], body.get("outcome", ""))
        return json_response(self.store.inspect(video))

    async def _expire_tokens(self, _: Request) -> Response:
        return json_response({"expired": self.auth.expire_access_tokens()})

    async def _hls_manifest(self, request: Request) -> Response:
        """202 until playable (what api.video's uploader polls for), then a token manifest."""
        video = self.store.get(request.path_params["videoId"])
        encoded = [q["quality"] for q in self.store.qualities(video) if q["type"] == "hls" and q["status"] == "encoded"]
        if not encoded:
            return Response(status_code=202)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
        for quality in encoded:
            lines += [f"#EXT-X-STREAM-INF:BANDWIDTH=1000000,NAME={quality}", f"{quality}/manifest.m3u8"]
        return Response("\n".join(lines) + "\n", media_type="application/vnd.apple.mpegurl")

    async def _mp4(self, request: Request) -> Response:
        """The uploaded bytes, once an MP4 quality is encoded (the emulator does not transcode)."""
        video = self.store.get(request.path_params["videoId"])
        mp4 = [q for q in self.store.qualities(video) if q["type"] == "mp4" and q["status"] == "encoded"]
        if not mp4 or video.path is None:
            raise ApiVideoError.not_found("videoId", video.id)
        return FileResponse(video.path, media_type="video/mp4")

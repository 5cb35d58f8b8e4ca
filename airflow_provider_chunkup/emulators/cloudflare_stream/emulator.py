"""The Cloudflare Stream front door (``CloudflareStreamEmulator``) under ``/client/v4`` (as ``api.cloudflare.com``).

- ``POST /client/v4/accounts/{account_id}/stream`` (Bearer) with ``Tus-Resumable: 1.0.0``: tus creation
  (``Upload-Length`` required, ``Upload-Metadata`` with Cloudflare's keys): 201, an absolute ``Location`` and
  ``stream-media-id: <uid>``. The Location is ``.../accounts/{account_id}/media/{uid}`` (PATCH/HEAD with the
  token), or with ``?direct_user=true`` ``/cloudflare/tus/{uid}?tusv2=true``, which needs no auth (it stands for
  the one-time ``upload.videodelivery.net`` URL). Without ``Tus-Resumable``: a basic multipart upload (``file``,
  at most 200 MB).
- PATCH: every chunk but the last a multiple of 256 KiB from 5 MiB to 200 MiB, the last at most 200 MiB, else
  400 with nothing written; a body that breaks off keeps nothing (the offset stays where the chunk began).
- ``GET``/``DELETE /client/v4/accounts/{account_id}/stream/{uid}``: the video (state ``pendingupload``,
  ``queued``, ``inprogress``, ``ready`` or ``error``), and its deletion (200).

JSON answers are Cloudflare's envelope. Sources: ``/work/shared/api/tus-vimeo-cloudflare.md`` (section 5).
"""

from __future__ import annotations

import json
import math
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
from ..core.forms import BodyError, media_type_of, read_multipart
from ..core.ratelimit import RateLimitState
from ..tus.config import TusEmulatorConfig
from ..tus.headers import TUS_VERSION, TusError
from ..tus.server import TusServer, check_version, effective_method, error_response, tus_response
from ..tus.uploads import TusUpload, TusUploadStore, UploadGone
from .config import CloudflareStreamEmulatorConfig
from .errors import BAD_REQUEST, CloudflareError, envelope
from .videos import ENCODE_FAULT, StreamVideo, StreamVideoStore, video_from_metadata

API = "/client/v4/accounts"
DIRECT = "/cloudflare/tus/"
CONTROL = f"{PREFIX}/cloudflare_stream"
#: tus extensions of Cloudflare's endpoint (no checksum, no concatenation, no creation-with-upload).
EXTENSIONS = ["creation", "expiration", "termination"]
#: Every method reaches the tus server on an upload URL (it answers 405 where tus has nothing to do).
TUS_METHODS = ["OPTIONS", "HEAD", "PATCH", "DELETE", "POST", "GET", "PUT"]
#: Counts ``stats()`` always reports.
STAT_NAMES = ("cloudflare_stream_videos_created", "cloudflare_stream_videos_deleted",
              "cloudflare_stream_uploads_completed")  # fmt: skip

Endpoint = Callable[[Request], Awaitable[Response]]


class CloudflareStreamEmulator(EmulatedApi):
    """Cloudflare Stream: tus and basic uploads, direct creator uploads, video status and deletion."""

    name = "cloudflare_stream"
    title = "Cloudflare Stream"
    config_type = CloudflareStreamEmulatorConfig
    #: Drawn with ``roll`` (``encode_failure_rate``), counted in ``GET /_emulator/faults``.
    fault_kinds = (ENCODE_FAULT,)

    def __init__(self, context: EmulatorContext) -> None:
        super().__init__(context)
        self.uploads = TusUploadStore(context.storage, self.tus_config, on_complete=self._uploaded,
                                      keep_broken_bodies=False, chunk_rule=self._chunk_rule)  # fmt: skip
        self.server = TusServer(self.uploads, self.tus_config, lambda: DIRECT, origin="cloudflare_stream",
                                location=self._location)  # fmt: skip
        self.store = self._new_store()

    @property
    def config(self) -> CloudflareStreamEmulatorConfig:
        return self.context.config.cloudflare_stream

    def tus_config(self) -> TusEmulatorConfig:
        """The tus rules, from the live ``cloudflare_stream`` section."""
        config = self.config
        return TusEmulatorConfig(path=DIRECT, extensions=list(EXTENSIONS), max_size=config.max_size,
                                 expiry_secs=config.upload_expiry_secs)  # fmt: skip

    def _new_store(self) -> StreamVideoStore:
        return StreamVideoStore(lambda: self.config, self.context.faults.roll, self.uploads.expires_at)

    def _uploaded(self, upload: TusUpload) -> None:
        self.store.uploaded(upload)

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"{API}/{{account_id}}/stream", self.stream, methods=["POST", "OPTIONS"]),
            Route(f"{API}/{{account_id}}/stream/{{uid}}", self.video, methods=["GET", "DELETE"]),
            Route(f"{API}/{{account_id}}/media/{{upload_id}}", self.media, methods=TUS_METHODS),
            Route(f"{DIRECT}{{upload_id}}", self.direct, methods=TUS_METHODS),
        ]

    def reset(self) -> None:
        self.uploads.forget_all()
        self.store = self._new_store()

    def stats(self) -> dict[str, int]:
        """Videos held (not deleted), and events counted since the last reset."""
        held = sum(1 for v in self.store.videos.values() if not v.deleted)
        counts = {name: self.store.counts.get(name, 0) for name in STAT_NAMES}
        tus = self.uploads.counts
        return {"cloudflare_stream_videos": held, **counts,
                "cloudflare_stream_chunks_refused": tus.get("cloudflare_stream_chunks_refused", 0),
                "cloudflare_stream_broken_bodies": tus.get("tus_broken_bodies_discarded", 0),
                "cloudflare_stream_locked": tus.get("tus_locked", 0)}  # fmt: skip

    # -- fault injection and rate limits ----------------------------------------------------------

    @classmethod
    def chunk_targets(cls, config: CloudflareStreamEmulatorConfig) -> list[str]:
        return [rf"PATCH {API}/[^/?]+/media/[^/?]+{QUERY}", rf"PATCH {DIRECT}[^/?]+{QUERY}"]

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        """Cloudflare's 429 envelope with ``retry-after`` and ``Ratelimit`` on the API; tus plain text on a direct
        upload URL."""
        if path.startswith(DIRECT):
            return tus_response(429, {"Retry-After": str(retry_after_secs)}, "Too Many Requests")
        if not path.startswith(f"{API}/"):
            return None
        response = CloudflareError.rate_limited().response()
        self._rate_headers(response, self.config.rate_limit, 0, retry_after_secs)
        response.headers["retry-after"] = str(retry_after_secs)
        return response

    def _rate_headers(self, response: Response, limit: int, remaining: int, reset_in: int) -> None:
        window = math.ceil(self.config.rate_limit_window_secs)
        response.headers["Ratelimit"] = f'"default";r={remaining};t={reset_in}'
        response.headers["Ratelimit-Policy"] = f'"default";q={limit};w={window}'

    def _finish(self, response: Response, rate: RateLimitState) -> Response:
        window = math.ceil(self.config.rate_limit_window_secs)
        reset_in = min(max(math.ceil(rate.reset - time.time()), 0), window)
        self._rate_headers(response, rate.limit, rate.remaining, reset_in)
        if response.status_code == 429:
            response.headers["retry-after"] = str(reset_in)
        return response

    # -- auth, per request ------------------------------------------------------------------------

    def _token(self, request: Request) -> str:
        """The request's valid API token for its account (401 without one, 403 for one that is not valid)."""
        header = request.headers.get("authorization", "").strip()
        scheme, _, token = header.partition(" ")
        if not header or scheme.lower() != "bearer" or not token.strip():
            raise CloudflareError.authentication(401)
        token = token.strip()
        accounts = self.config.account_ids
        if token not in self.config.tokens or (accounts is not None and request.path_params["account_id"]
                                               not in accounts):  # fmt: skip
            raise CloudflareError.authentication(403)
        return token

    async def _api(self, request: Request, handler: Endpoint, tus: bool = False) -> Response:
        """Token, then the token's rate limit, then ``handler``; ``CloudflareError`` answered in the envelope."""
        try:
            token = self._token(request)
        except CloudflareError as exc:
            response = exc.response()
            if tus:
                response.headers["Tus-Resumable"] = TUS_VERSION
            return response
        config = self.config
        rate = self.context.limiter.take(f"cloudflare_stream.{token}", config.rate_limit, config.rate_limit_window_secs)
        if not rate.allowed:
            return self._finish(CloudflareError.rate_limited().response(), rate)
        try:
            response = await handler(request)
        except CloudflareError as exc:
            response = exc.response()
        return self._finish(response, rate)

    # -- the API ----------------------------------------------------------------------------------

    async def stream(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self.server.options()
        return await self._api(request, self._create)

    async def _create(self, request: Request) -> Response:
        if "tus-resumable" in request.headers:
            return await self._create_tus(request)
        if media_type_of(request) == "multipart/form-data":
            return await self._basic_upload(request)
        raise CloudflareError.bad_request(
            "Send a tus creation (Tus-Resumable: 1.0.0 and Upload-Length), or a basic upload: multipart/form-data "
            f"with the video in a 'file' part (at most {self.config.basic_max_bytes} bytes; larger files need tus)."
        )

    async def _create_tus(self, request: Request) -> Response:
        account = request.path_params["account_id"]
        direct = request.query_params.get("direct_user", "").lower() == "true"
        creator = request.headers.get("upload-creator")

        def created(upload: TusUpload) -> dict[str, str]:
            try:
                if upload.length == 0:
                    raise TusError(400, "Upload-Length must be at least 1 byte")
                video = video_from_metadata(upload, account, creator, direct, self.store.next_seq())
            except TusError:
                self.uploads.forget(upload)
                raise
            upload.expires = video.expiry
            upload.extra.update(account_id=account, direct_user=direct)
            self.store.add(video)
            return {"stream-media-id": upload.id, "Access-Control-Expose-Headers": "Location, stream-media-id"}

        try:
            check_version(request)
            return await self.server.create(request, created=created)
        except TusError as exc:
            headers = {**exc.headers, "Tus-Resumable": TUS_VERSION}
            raise CloudflareError(exc.status, BAD_REQUEST, exc.message, headers) from None

    async def _basic_upload(self, request: Request) -> Response:
        limit = self.config.basic_max_bytes
        try:
            form = await read_multipart(request, self.context.storage, {"file"}, limit, spool_file_parts=True)
        except BodyError as exc:
            raise CloudflareError.bad_request(f"The multipart body is malformed: {exc}") from None
        try:
            spool = next((part for part in form.file_parts if part.field_name == "file"), None)
            if spool is None:
                raise CloudflareError.bad_request("A basic upload carries the video in a multipart part named 'file'.")
            if spool.overflowed:
                raise CloudflareError.bad_request(f"A basic upload may carry at most {limit} bytes; send larger files "
                                                  "with tus.", 413)  # fmt: skip
            if spool.size == 0:
                raise CloudflareError.bad_request("The 'file' part is empty.")
            spool.close()
            upload = self.uploads.create(spool.size, {}, None, origin="cloudflare_stream")
            account = request.path_params["account_id"]
            upload.extra.update(account_id=account, direct_user=False)
            video = StreamVideo(upload.id, account, upload, time.time(), self.store.next_seq(), via="basic",
                                meta={"name": spool.filename or "file"})  # fmt: skip
            self.store.add(video)
            await self.uploads.fill(upload, spool.path)
        finally:
            form.discard()
        return envelope(self.store.result(video, base_url(request)))

    async def video(self, request: Request) -> Response:
        return await self._api(request, self._video)

    async def _video(self, request: Request) -> Response:
        video = self.store.get(request.path_params["uid"], request.path_params["account_id"])
        if request.method != "DELETE":  # GET, and the HEAD Starlette adds to it
            return envelope(self.store.result(video, base_url(request)))
        self._delete(video)
        return envelope(None)

    def _delete(self, video: StreamVideo) -> None:
        video.deleted = True
        self.uploads.forget(video.upload)  # its upload URL answers 404 from now on
        self.store.count("cloudflare_stream_videos_deleted")

    # -- tus on the upload URLs -------------------------------------------------------------------

    async def media(self, request: Request) -> Response:
        """The token-mode upload URL: tus with the API token (OPTIONS needs none)."""
        if request.method == "OPTIONS":
            return self.server.options()
        return await self._api(request, lambda r: self._tus(r, lambda v: v.account_id == r.path_params["account_id"]),
                               tus=True)  # fmt: skip

    async def direct(self, request: Request) -> Response:
        """A direct creator upload URL: tus with no auth, for the upload it was made for only."""
        return await self._tus(request, lambda video: video.direct_user)

    async def _tus(self, request: Request, serves: Callable[[StreamVideo], bool]) -> Response:
        video = self.store.videos.get(request.path_params["upload_id"])
        method = effective_method(request)
        if method != "OPTIONS" and (video is None or video.deleted or not serves(video)):
            return error_response(UploadGone(request.path_params["upload_id"]))
        response = await self.server.handle_upload(request)
        if video is not None and method == "DELETE" and response.status_code == 204:
            self._delete(video)
        return response

    def _chunk_rule(self, upload: TusUpload, start: int, size: int) -> None:
        config = self.config
        final = upload.length is not None and start + size >= upload.length
        problem = None
        if size > config.max_chunk_bytes:
            problem = f"a chunk may carry at most {config.max_chunk_bytes} bytes; this one has {size}"
        elif not final and (size < config.min_chunk_bytes or size % config.chunk_multiple):
            problem = (f"every chunk but the last must be a multiple of {config.chunk_multiple} bytes from "
                       f"{config.min_chunk_bytes} to {config.max_chunk_bytes}; this one has {size} bytes at offset "
                       f"{start} of {upload.length}")  # fmt: skip
        if problem is not None:
            self.uploads.count("cloudflare_stream_chunks_refused")
            raise TusError(400, f"Bad chunk size: {problem}. Nothing of it was kept.")

    def _location(self, request: Request, upload: TusUpload) -> str:
        base = base_url(request)
        if upload.extra.get("direct_user"):
            return f"{base}{DIRECT}{upload.id}?tusv2=true"
        return f"{base}{API}/{upload.extra['account_id']}/media/{upload.id}"

    # -- inspection (under /_emulator/cloudflare_stream, no auth) ---------------------------------

    def control_routes(self) -> list[BaseRoute]:
        return [
            Route(f"{CONTROL}/videos", self._control(self._list_videos), methods=["GET"]),
            Route(f"{CONTROL}/videos/{{uid}}", self._control(self._inspect_video), methods=["GET"]),
            Route(f"{CONTROL}/videos/{{uid}}/expire", self._control(self._expire), methods=["POST"]),
        ]

    @staticmethod
    def _control(handler: ControlHandler) -> ControlHandler:
        return guarded(handler, lambda exc: (404, f"no such video: {exc}") if isinstance(exc, KeyError) else None)

    def _inspect(self, video: StreamVideo) -> dict[str, Any]:
        uid = video.upload.id
        location = f"{DIRECT}{uid}" if video.direct_user else f"{API}/{video.account_id}/media/{uid}"
        return self.store.inspect(video, location)

    async def _list_videos(self, _: Request) -> Response:
        return json_response([self._inspect(v) for v in self.store.newest_first()])

    async def _inspect_video(self, request: Request) -> Response:
        return json_response(self._inspect(self.store.videos[request.path_params["uid"]]))

    async def _expire(self, request: Request) -> Response:
        """The upload URL expires now (410 on HEAD and PATCH)."""
        video = self.store.videos[request.path_params["uid"]]
        video.upload.expired_at = time.time()
        return json_response(self._inspect(video))


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def json_response(payload: Any) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), media_type="application/json")

"""The LinkedIn Videos API front door (``LinkedInEmulator``), under LinkedIn's ``/rest``.

- ``POST /rest/videos?action=initializeUpload``: the video URN, its upload instructions (``part_bytes`` each,
  ``lastByte`` inclusive), ``uploadToken`` (``""`` for one part) and ``uploadUrlsExpireAt`` (epoch ms).
- ``PUT /linkedin-upload/{id}/{part}?sig=...`` (signed: no auth or version headers): exactly that part's bytes,
  in any order; **201** with an ``ETag``. ``captions`` and ``thumbnail`` parts when init asked for them.
- ``POST /rest/videos?action=finalizeUpload``: the ETags in instruction order; **200 with an empty body**.
- ``GET /rest/videos/{percent-encoded URN}``: ``WAITING_UPLOAD`` → ``PROCESSING`` (``processing_secs``) →
  ``AVAILABLE`` or ``PROCESSING_FAILED`` (a drawn fault).
- ``POST /rest/posts``: a post carrying an ``AVAILABLE`` video of the author's; **201 with an empty body** and the
  post's URN in ``x-restli-id`` (``urn:li:share:<n>``). See :mod:`.posts` for the checks and their sources.
- ``GET /rest/posts?q=author&author={percent-encoded URN}&count=N&start=S&sortBy=LAST_MODIFIED|CREATED``
  (LinkedIn's "Find Posts by Authors"): an author the token may post as, its posts newest first,
  ``{"elements", "paging"}``.

The API wants ``Authorization: Bearer``, ``LinkedIn-Version: YYYYMM`` (missing: 400 ``VERSION_MISSING``; older
than ``oldest_version``, later than this month, or malformed: 426 ``NONEXISTENT_VERSION``) and
``X-Restli-Protocol-Version: 2.0.0``.
Errors are ``{"message", "status"}``. Sources: ``/work/shared/api/meta-tiktok-linkedin.md`` (section 5).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import itertools
import json
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.api import EmulatedApi
from ..core.context import EmulatorContext
from ..core.control import PREFIX, ControlHandler, guarded
from ..core.fault_target import QUERY
from ..core.forms import SMALL_FIELD_LIMIT
from .config import VERSION, LinkedInEmulatorConfig
from .posts import Post, find_by_author, post_request
from .videos import FAILED_FAULT, LinkedInError, Video, finalize_request, init_request, parts_of

API = "/rest"
UPLOAD = "/linkedin-upload"
CONTROL = f"{PREFIX}/linkedin"
STAT_NAMES = ("linkedin_videos_created", "linkedin_parts", "linkedin_videos_finalized", "linkedin_broken_bodies",
              "linkedin_posts_created")
#: The first post number (``urn:li:share:<n>``): LinkedIn's are 19 digits.
FIRST_POST = 7_300_000_000_000_000_001
#: Largest captions or thumbnail file taken.
EXTRA_LIMIT = 100 * 1024 * 1024

Handler = Callable[["LinkedInEmulator", Request, str], Awaitable[Response]]


class VideoNotFound(LookupError):
    """No video with that id."""


class PostNotFound(LookupError):
    """No post with that id."""


def linkedin_endpoint(handler: Handler) -> Callable[[Any, Request], Awaitable[Response]]:
    """Bearer token, ``LinkedIn-Version``, the Rest.li protocol header, the per-token rate limit, the handler."""

    @functools.wraps(handler)
    async def endpoint(self: LinkedInEmulator, request: Request) -> Response:
        try:
            token = self.check_headers(request)
            config = self.config
            rate = self.context.limiter.take(f"linkedin.api.{token}", config.rate_limit, config.rate_limit_window_secs)
            if not rate.allowed:
                raise LinkedInError.throttled()
            return await handler(self, request, token)
        except LinkedInError as exc:
            return exc.response()

    return endpoint


class LinkedInEmulator(EmulatedApi):
    """LinkedIn Videos API: initialize, signed part uploads with ETags, finalize, status."""

    name = "linkedin"
    title = "LinkedIn Videos API"
    config_type = LinkedInEmulatorConfig
    fault_kinds = (FAILED_FAULT,)

    def __init__(self, context: EmulatorContext) -> None:
        super().__init__(context)
        self.videos: dict[str, Video] = {}
        self.posts: dict[str, Post] = {}
        self.counts: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._post_ids = itertools.count(FIRST_POST)

    @property
    def config(self) -> LinkedInEmulatorConfig:
        return self.context.config.linkedin

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"{API}/videos", self.videos_action, methods=["POST"]),
            Route(f"{API}/videos/{{urn}}", self.get_video, methods=["GET"]),
            Route(f"{UPLOAD}/{{video_id}}/{{part}}", self.upload_part, methods=["PUT"]),
            Route(f"{API}/posts", self.create_post, methods=["POST"]),
            Route(f"{API}/posts", self.find_posts, methods=["GET"]),
        ]

    def reset(self) -> None:
        for video in self.videos.values():
            self._discard(video)
        self.videos.clear()
        self.posts.clear()
        self.counts.clear()

    def _discard(self, video: Video) -> None:
        storage = self.context.storage
        storage.discard_upload("linkedin", video.id)
        for extra in video.extras:
            storage.discard_upload("linkedin", f"{video.id}-{extra}")

    def stats(self) -> dict[str, int]:
        counts = {name: self.counts.get(name, 0) for name in STAT_NAMES}
        return {"linkedin_videos": len(self.videos), "linkedin_posts": len(self.posts), **counts}

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    # -- fault injection and rate limits ----------------------------------------------------------

    @classmethod
    def chunk_targets(cls, config: LinkedInEmulatorConfig) -> list[str]:
        return [rf"PUT {UPLOAD}/[^/?]+/\d+{QUERY}"]

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        """LinkedIn's throttle answer on its API and upload paths."""
        if not (path.startswith(API + "/") or path.startswith(UPLOAD + "/")):
            return None
        response = LinkedInError.throttled().response()
        response.headers["Retry-After"] = str(retry_after_secs)
        return response

    # -- the API ----------------------------------------------------------------------------------

    def check_headers(self, request: Request) -> str:
        """The token, after the version and protocol headers LinkedIn's versioned API wants."""
        config = self.config
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in config.tokens:
            raise LinkedInError(401, "Invalid access token", "INVALID_ACCESS_TOKEN")
        version = request.headers.get("linkedin-version")
        if not version:
            raise LinkedInError(400, "A version must be present. Please specify a version by adding the "
                                "LinkedIn-Version header.", "VERSION_MISSING")  # fmt: skip
        found = VERSION.fullmatch(version.strip())
        current = time.strftime("%Y%m", time.gmtime(time.time()))
        if found is None or not config.oldest_version[:6] <= found.group(1) <= current:
            raise LinkedInError(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")
        if config.require_restli_protocol and request.headers.get("x-restli-protocol-version") != "2.0.0":
            raise LinkedInError.bad("X-Restli-Protocol-Version: 2.0.0 is required.")
        return token.strip()

    @staticmethod
    async def _body(request: Request) -> Any:
        raw = await request.body()
        if len(raw) > SMALL_FIELD_LIMIT:
            raise LinkedInError.bad(f"The body exceeds {SMALL_FIELD_LIMIT} bytes.")
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LinkedInError.bad(f"The body is not valid JSON: {exc}") from None

    @linkedin_endpoint
    async def videos_action(self, request: Request, token: str) -> Response:
        action = request.query_params.get("action")
        if action == "initializeUpload":
            return await self._initialize(request, token)
        if action == "finalizeUpload":
            return await self._finalize(request, token)
        raise LinkedInError.bad(f"Unknown action {action!r}: use ?action=initializeUpload or ?action=finalizeUpload.")

    def _part_url(self, base: str, video: Video, part: str) -> str:
        return f"{base}{UPLOAD}/{video.id}/{part}?sig={_sign(video, part)}"

    async def _initialize(self, request: Request, token: str) -> Response:
        config = self.config
        owner, size, extras = init_request(await self._body(request), config.owners, config.max_file_bytes)
        parts = parts_of(size, config.part_bytes)
        now = time.time()
        video = Video(f"C5F10AQ{next(self._ids):09d}", token, owner, size, parts,
                      "" if len(parts) == 1 else secrets.token_urlsafe(24), secrets.token_hex(16), now,
                      now + config.upload_url_expiry_secs, extras)  # fmt: skip
        self.videos[video.id] = video
        self.count("linkedin_videos_created")
        base = str(request.base_url).rstrip("/")
        value: dict[str, Any] = {
            "uploadUrlsExpireAt": math.floor(video.expires_at * 1000), "video": video.urn,
            "uploadInstructions": [{"uploadUrl": self._part_url(base, video, str(i)), "firstByte": p.first,
                                    "lastByte": p.last} for i, p in enumerate(parts)],
            "uploadToken": video.upload_token,
        }  # fmt: skip
        for extra in extras:
            value[f"{extra}UploadUrl"] = self._part_url(base, video, extra)
        return JSONResponse({"value": value})

    def _owned(self, urn: str, token: str) -> Video:
        video = self.videos.get(urn.removeprefix("urn:li:video:")) if urn.startswith("urn:li:video:") else None
        if video is None:
            raise LinkedInError(404, f"Not found: {urn}")
        if video.token != token:
            raise LinkedInError(403, f"Not enough permissions to access: partnerApiVideos for {urn}.")
        return video

    async def _finalize(self, request: Request, token: str) -> Response:
        urn, upload_token, ids = finalize_request(await self._body(request))
        video = self._owned(urn, token)
        if video.finalized_at is not None:
            raise LinkedInError.bad(f"{urn} is already finalized.")
        if not secrets.compare_digest(upload_token, video.upload_token):
            raise LinkedInError.bad("uploadToken is not the one initializeUpload returned.")
        missing = [i for i, p in enumerate(video.parts) if p.etag is None]
        if missing:
            raise LinkedInError.bad(f"Parts {missing} were not uploaded: PUT every instruction's bytes first.")
        if ids != [p.etag for p in video.parts]:
            raise LinkedInError.bad("uploadedPartIds must be the ETags of the part uploads, in instruction order.")
        video.finalized_at = time.time()  # before the await: a second finalize or a late part is refused
        storage = self.context.storage
        assembled = await asyncio.to_thread(storage.assemble, "linkedin", video.id, range(len(video.parts)))
        storage.discard_segments("linkedin", video.id)
        video.sha256 = assembled.sha256
        video.failed = self.context.faults.roll(self.config.failure_rate, FAILED_FAULT)
        self.count("linkedin_videos_finalized")
        return Response(status_code=200)

    @linkedin_endpoint
    async def get_video(self, request: Request, token: str) -> Response:
        video = self._owned(request.path_params["urn"], token)
        status = video.status(self.config.processing_secs)
        body: dict[str, Any] = {"id": video.urn, "owner": video.owner, "status": status,
                                "uploadUrlsExpireAt": math.floor(video.expires_at * 1000)}  # fmt: skip
        if status == "AVAILABLE":
            body["downloadUrl"] = f"{str(request.base_url).rstrip('/')}{CONTROL}/videos/{video.id}/file"
            body["downloadUrlExpiresAt"] = math.floor((time.time() + 3600) * 1000)
        return JSONResponse(body)

    @linkedin_endpoint
    async def create_post(self, request: Request, token: str) -> Response:
        fields = post_request(await self._body(request), self.config.owners)
        media = fields["media"]
        if media is not None:
            self._postable(media, token, fields["author"])
        post = Post(f"urn:li:share:{next(self._post_ids)}", token, **fields)
        self.posts[post.id] = post
        self.count("linkedin_posts_created")
        return Response(status_code=201, headers={"x-restli-id": post.urn})

    @linkedin_endpoint
    async def find_posts(self, request: Request, token: str) -> Response:
        method = request.headers.get("x-restli-method")
        if method is not None and method.strip().upper() != "FINDER":
            raise LinkedInError.bad(f"X-RestLi-Method {method!r} does not name this request: a GET with q= is a "
                                    "FINDER.")  # fmt: skip
        query = request.url.query
        return JSONResponse(find_by_author(self.posts.values(), request.query_params, query, self.config.owners))

    def _postable(self, urn: str, token: str, author: str) -> None:
        """A video a post of ``author`` may carry: the token's, the author's own, ``AVAILABLE``."""
        if not urn.startswith("urn:li:video:"):
            raise LinkedInError(422, f"ERROR :: /content/media/id :: {urn!r} is not a video URN (urn:li:video:...)")
        video = self.videos.get(urn.removeprefix("urn:li:video:"))
        if video is None:
            raise LinkedInError.bad(f"Media {urn} does not exist: upload it with the Videos API first.")
        if video.token != token:
            raise LinkedInError(403, f"Not enough permissions to access: partnerApiVideos for {urn}.")
        if video.owner != author:
            raise LinkedInError.bad(f"Media {urn} is owned by {video.owner}, not by the post's author {author}.")
        status = video.status(self.config.processing_secs)
        if status != "AVAILABLE":
            raise LinkedInError.bad(f"Media {urn} is {status}, not AVAILABLE: a video can be posted once LinkedIn "
                                    "processed it.")  # fmt: skip

    async def upload_part(self, request: Request) -> Response:
        try:
            return await self._upload_part(request)
        except LinkedInError as exc:
            return exc.response()

    async def _upload_part(self, request: Request) -> Response:
        video = self.videos.get(request.path_params["video_id"])
        part = request.path_params["part"]
        if video is None or not secrets.compare_digest(request.query_params.get("sig", ""), _sign(video, part)):
            raise LinkedInError(404, "No upload at this URL: use the uploadUrl from initializeUpload whole.")
        if time.time() >= video.expires_at:
            raise LinkedInError(403, "The upload URL expired (uploadUrlsExpireAt): initialize the upload again.")
        if video.finalized_at is not None:
            raise LinkedInError.bad(f"{video.urn} is already finalized.")
        extra = part in video.extras
        if not extra and not (part.isdigit() and int(part) < len(video.parts)):
            raise LinkedInError(404, f"No part {part} in {video.urn}.")
        length = None if extra else video.parts[int(part)].length
        digest = hashlib.sha256()
        spool = self.context.storage.spool(limit=EXTRA_LIMIT if length is None else length)
        try:
            try:
                async for piece in request.stream():
                    spool.write(piece)
                    if not spool.overflowed:
                        digest.update(piece)
            except ClientDisconnect:
                self.count("linkedin_broken_bodies")
                raise
            if spool.overflowed or (length is not None and spool.size != length):
                expected = f"{length} bytes" if length is not None else f"at most {EXTRA_LIMIT} bytes"
                raise LinkedInError.bad(f"The body has {spool.size} bytes; part {part} takes {expected}.")
            if extra:
                self.context.storage.commit_segment(spool, "linkedin", f"{video.id}-{part}", 0)
                video.extras[part] = True
                return Response(status_code=201)
            self.context.storage.commit_segment(spool, "linkedin", video.id, int(part))
        finally:
            spool.discard()
        etag = f"/ambry-video/signedId/{video.id}/{part}/{digest.hexdigest()[:24]}"
        video.parts[int(part)].etag = etag
        self.count("linkedin_parts")
        return Response(status_code=201, headers={"ETag": etag})

    # -- inspection (under /_emulator/linkedin, no auth) ------------------------------------------

    def control_routes(self) -> list[BaseRoute]:
        def known(exc: Exception) -> tuple[int, str] | None:
            if isinstance(exc, PostNotFound):
                return 404, f"no such post: {exc}"
            return (404, f"no such video: {exc}") if isinstance(exc, VideoNotFound) else None

        def control(handler: ControlHandler) -> ControlHandler:
            return guarded(handler, known)

        return [
            Route(f"{CONTROL}/videos", control(self._list_videos), methods=["GET"]),
            Route(f"{CONTROL}/videos/{{video_id}}", control(self._inspect_video), methods=["GET"]),
            Route(f"{CONTROL}/videos/{{video_id}}/file", control(self._video_file), methods=["GET"]),
            Route(f"{CONTROL}/posts", control(self._list_posts), methods=["GET"]),
            Route(f"{CONTROL}/posts/{{post_id}}", control(self._inspect_post), methods=["GET"]),
        ]

    def _any(self, video_id: str) -> Video:
        video = self.videos.get(video_id.removeprefix("urn:li:video:"))
        if video is None:
            raise VideoNotFound(video_id)
        return video

    async def _list_videos(self, _: Request) -> Response:
        secs = self.config.processing_secs
        return JSONResponse([v.inspect(secs) for v in reversed(self.videos.values())])

    async def _inspect_video(self, request: Request) -> Response:
        return JSONResponse(self._any(request.path_params["video_id"]).inspect(self.config.processing_secs))

    async def _video_file(self, request: Request) -> Response:
        video = self._any(request.path_params["video_id"])
        if video.sha256 is None:
            raise VideoNotFound(f"{video.id} (not finalized)")
        return FileResponse(self.context.storage.final_path("linkedin", video.id), media_type="video/mp4")


    async def _list_posts(self, _: Request) -> Response:
        return JSONResponse([p.inspect() for p in reversed(self.posts.values())])

    async def _inspect_post(self, request: Request) -> Response:
        post_id = request.path_params["post_id"]
        post = self.posts.get(post_id.removeprefix("urn:li:share:"))
        if post is None:
            raise PostNotFound(post_id)
        return JSONResponse(post.inspect())


def _sign(video: Video, part: str) -> str:
    return hashlib.sha256(f"{video.signature}/{part}".encode()).hexdigest()[:32]

"""The TikTok Content Posting API front door (``TikTokEmulator``), at TikTok's own paths.

- ``POST /v2/post/publish/creator_info/query/`` (scope ``video.publish``): the creator's privacy options.
- ``POST /v2/post/publish/video/init/`` (direct post, ``video.publish``) and ``/v2/post/publish/inbox/video/init/``
  (draft, ``video.upload``), each within its daily cap (``max_daily_posts``, ``max_pending_shares``):
  ``{"data": {"publish_id", "upload_url"}}``, the chunk plan checked exactly by TikTok's rule.
- ``PUT /tiktok-upload/{publish_id}?upload_token=...`` (no auth; the URL is the credential, valid
  ``upload_url_expiry_secs``): the chunks strictly in order, ``Content-Range`` naming exactly the next one;
  **206** with ``Content-Range: bytes 0-{last byte held}/{total}``, **201** on the last; 416 off the plan.
- ``POST /v2/post/publish/status/fetch/``: ``PROCESSING_UPLOAD`` → ``PROCESSING_DOWNLOAD`` (``processing_secs``)
  → ``PUBLISH_COMPLETE`` or ``SEND_TO_USER_INBOX``, ``FAILED`` on a drawn fault.

Every answer is ``{"data", "error": {"code", "message", "log_id"}}``. Sources:
``/work/shared/api/meta-tiktok-linkedin.md`` (section 4).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.api import EmulatedApi
from ..core.context import EmulatorContext
from ..core.control import PREFIX, ControlHandler, guarded
from ..core.fault_target import QUERY
from ..core.forms import SMALL_FIELD_LIMIT
from .config import TikTokEmulatorConfig
from .posts import FAILED_FAULT, VIDEO_TYPES, Post, TikTokError, chunk_plan, post_info, tiktok_json

API = "/v2/post/publish"
UPLOAD = "/tiktok-upload"
CONTROL = f"{PREFIX}/tiktok"
STAT_NAMES = ("tiktok_posts_created", "tiktok_chunks", "tiktok_uploads_completed", "tiktok_broken_bodies")
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")

Handler = Callable[["TikTokEmulator", Request, str], Awaitable[Response]]
Endpoint = Callable[[Any, Request], Awaitable[Response]]


class PostNotFound(LookupError):
    """No post with that publish_id."""


def tiktok_endpoint(scopes: tuple[str, ...], bucket: str | None) -> Callable[[Handler], Endpoint]:
    """Bearer token holding one of ``scopes``, then the per-token rate limit ``bucket``, then the handler."""

    def wrap(handler: Handler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(self: TikTokEmulator, request: Request) -> Response:
            try:
                token = self.authenticate(request.headers.get("authorization"), scopes)
                if bucket is not None and not self.take(bucket, token):
                    raise TikTokError.rate_limited()
                return await handler(self, request, token)
            except TikTokError as exc:
                return exc.response()

        return endpoint

    return wrap


class TikTokEmulator(EmulatedApi):
    """TikTok Content Posting API: creator info, direct and inbox inits, chunked upload URLs, status."""

    name = "tiktok"
    title = "TikTok Content Posting API"
    config_type = TikTokEmulatorConfig
    fault_kinds = (FAILED_FAULT,)

    def __init__(self, context: EmulatorContext) -> None:
        super().__init__(context)
        self.posts: dict[str, Post] = {}
        self.counts: dict[str, int] = {}
        self._ids = itertools.count(7_300_000_000_000_000_001)

    @property
    def config(self) -> TikTokEmulatorConfig:
        return self.context.config.tiktok

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"{API}/creator_info/query/", self.creator_info, methods=["POST"]),
            Route(f"{API}/video/init/", self.direct_init, methods=["POST"]),
            Route(f"{API}/inbox/video/init/", self.inbox_init, methods=["POST"]),
            Route(f"{API}/status/fetch/", self.status_fetch, methods=["POST"]),
            Route(f"{UPLOAD}/{{publish_id}}", self.upload_chunk, methods=["PUT"]),
        ]

    def reset(self) -> None:
        for post in self.posts.values():
            self.context.storage.discard_upload("tiktok", post.upload_token)
        self.posts.clear()
        self.counts.clear()

    def stats(self) -> dict[str, int]:
        return {"tiktok_posts": len(self.posts), **{name: self.counts.get(name, 0) for name in STAT_NAMES}}

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    # -- fault injection and rate limits ----------------------------------------------------------

    @classmethod
    def chunk_targets(cls, config: TikTokEmulatorConfig) -> list[str]:
        return [rf"PUT {UPLOAD}/[^/?]+{QUERY}"]

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        """TikTok's ``rate_limit_exceeded`` on its API and upload paths."""
        if not (path.startswith(API + "/") or path.startswith(UPLOAD + "/")):
            return None
        response = TikTokError.rate_limited().response()
        response.headers["Retry-After"] = str(retry_after_secs)
        return response

    def take(self, bucket: str, token: str) -> bool:
        config = self.config
        limit = config.init_rate_limit if bucket == "init" else config.status_rate_limit
        return self.context.limiter.take(f"tiktok.{bucket}.{token}", limit, config.rate_limit_window_secs).allowed

    # -- the API ----------------------------------------------------------------------------------

    def authenticate(self, header: str | None, scopes: tuple[str, ...]) -> str:
        scheme, _, token = (header or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or token not in self.config.tokens:
            raise TikTokError(401, "access_token_invalid", "The access token is invalid or not found in the "
                              "request: send 'Authorization: Bearer <user access token>'.")  # fmt: skip
        if not any(scope in self.config.scopes for scope in scopes):
            raise TikTokError(401, "scope_not_authorized", f"The user did not authorize the scope required for "
                              f"completing this request: {' or '.join(scopes)}.")  # fmt: skip
        return token

    @staticmethod
    async def _body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > SMALL_FIELD_LIMIT:
            raise TikTokError.invalid(f"The body exceeds {SMALL_FIELD_LIMIT} bytes.")
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TikTokError.invalid(f"The body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise TikTokError.invalid("The body must be a JSON object.")
        return body

    @tiktok_endpoint(("video.publish",), None)
    async def creator_info(self, request: Request, token: str) -> Response:
        config = self.config
        options = config.privacy_level_options if config.audited else ["SELF_ONLY"]
        return tiktok_json({
            "creator_avatar_url": "", "creator_username": "chunkup", "creator_nickname": "chunkup",
            "privacy_level_options": options, "comment_disabled": False, "duet_disabled": False,
            "stitch_disabled": False, "max_video_post_duration_sec": config.max_video_post_duration_sec,
        })  # fmt: skip

    @tiktok_endpoint(("video.publish",), "init")
    async def direct_init(self, request: Request, token: str) -> Response:
        body = await self._body(request)
        info = post_info(body.get("post_info"), self.config.privacy_level_options, self.config.audited)
        plan = chunk_plan(body.get("source_info"))
        posts = self._recent(token, "direct")
        if posts >= self.config.max_daily_posts:
            raise TikTokError(403, "spam_risk_too_many_posts", f"The user has made {posts} posts in the last 24 hours: "
                              "the daily post cap is reached.")  # fmt: skip
        return self._create(request, token, "direct", plan, info)

    @tiktok_endpoint(("video.upload",), "init")
    async def inbox_init(self, request: Request, token: str) -> Response:
        body = await self._body(request)
        plan = chunk_plan(body.get("source_info"))
        pending = self._recent(token, "inbox")
        if pending >= self.config.max_pending_shares:
            raise TikTokError(403, "spam_risk_too_many_pending_share", f"The user has {pending} pending shares in "
                              "the last 24 hours: they must act on them in the TikTok app first.")  # fmt: skip
        return self._create(request, token, "inbox", plan, None)

    def _recent(self, token: str, kind: str) -> int:
        """The token's inits of ``kind`` in the last ``spam_window_secs``."""
        since = time.time() - self.config.spam_window_secs
        return sum(1 for p in self.posts.values() if p.token == token and p.kind == kind and p.created_at > since)

    def _create(self, request: Request, token: str, kind: str, plan: Any, info: dict[str, Any] | None) -> Response:
        now = time.time()
        publish_id = f"v_{'pub' if kind == 'direct' else 'inbox'}_file~v2-1.{next(self._ids)}"
        post = Post(publish_id, token, kind, plan, secrets.token_urlsafe(24), now,
                    now + self.config.upload_url_expiry_secs, info)  # fmt: skip
        self.posts[publish_id] = post
        self.count("tiktok_posts_created")
        url = f"{str(request.base_url).rstrip('/')}{UPLOAD}/{publish_id}?upload_token={post.upload_token}"
        return tiktok_json({"publish_id": publish_id, "upload_url": url})

    @tiktok_endpoint(("video.publish", "video.upload"), "status")
    async def status_fetch(self, request: Request, token: str) -> Response:
        body = await self._body(request)
        post = self.posts.get(body.get("publish_id")) if isinstance(body.get("publish_id"), str) else None
        if post is None or post.token != token:
            raise TikTokError.invalid(f"publish_id {body.get('publish_id')!r} is not a post of this user.")
        return tiktok_json(post.status_json(self.config.processing_secs))

    async def upload_chunk(self, request: Request) -> Response:
        try:
            return await self._upload_chunk(request)
        except TikTokError as exc:
            return exc.response()

    async def _upload_chunk(self, request: Request) -> Response:
        post = self.posts.get(request.path_params["publish_id"])
        if post is None or not secrets.compare_digest(request.query_params.get("upload_token", ""), post.upload_token):
            raise TikTokError(404, "not_found", "No upload at this URL: use upload_url from init whole.")
        if time.time() >= post.expires_at:
            raise TikTokError(403, "url_expired", "The upload_url expired (valid one hour from init): init again.")
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in VIDEO_TYPES:
            raise TikTokError.invalid(f"Content-Type must be one of {', '.join(VIDEO_TYPES)}, not {media_type!r}.")
        found = _RANGE.fullmatch(request.headers.get("content-range", "").strip())
        if found is None:
            raise TikTokError.invalid("Content-Range must be 'bytes first-last/total'.")
        first, last, total = (int(g) for g in found.groups())
        if total != post.plan.video_size or last < first:
            raise TikTokError.invalid(f"Content-Range {found.group(0)!r} does not describe this video "
                                      f"({post.plan.video_size} bytes).")  # fmt: skip
        expected = post.next_bounds
        if expected != (first, last):
            held = post.uploaded_bytes
            response = TikTokError(416, "range_not_satisfiable", f"The next chunk is {expected}, not {first}-{last}: "
                                   "send the chunks of init's plan in order.").response()  # fmt: skip
            response.headers["Content-Range"] = f"bytes 0-{max(held - 1, 0)}/{total}" if held else f"bytes */{total}"
            return response
        length = last - first + 1
        declared = request.headers.get("content-length")
        if declared is not None and declared.strip() != str(length):
            raise TikTokError.invalid(f"Content-Length {declared} does not match Content-Range ({length} bytes).")
        index = post.chunks_received
        spool = self.context.storage.spool(limit=length)
        try:
            try:
                async for piece in request.stream():
                    spool.write(piece)
            except ClientDisconnect:
                self.count("tiktok_broken_bodies")
                raise
            if spool.size != length or spool.overflowed:
                raise TikTokError.invalid(f"The body has {spool.size} bytes; Content-Range names {length}.")
            if post.chunks_received != index:
                raise TikTokError(416, "range_not_satisfiable", "Another request took this chunk meanwhile.")
            self.context.storage.commit_segment(spool, "tiktok", post.upload_token, index)
        finally:
            spool.discard()
        post.chunks_received += 1
        post.uploaded_bytes += length
        self.count("tiktok_chunks")
        if post.chunks_received < post.plan.count:
            response = Response(status_code=206)
            response.headers["Content-Range"] = f"bytes 0-{post.uploaded_bytes - 1}/{total}"
            return response
        assembled = await asyncio.to_thread(
            self.context.storage.assemble, "tiktok", post.upload_token, range(post.plan.count))
        self.context.storage.discard_segments("tiktok", post.upload_token)
        post.sha256 = assembled.sha256
        post.completed_at = time.time()
        post.failed = self.context.faults.roll(self.config.failure_rate, FAILED_FAULT)
        self.count("tiktok_uploads_completed")
        response = Response(status_code=201)
        response.headers["Content-Range"] = f"bytes 0-{total - 1}/{total}"
        return response

    # -- inspection (under /_emulator/tiktok, no auth) --------------------------------------------

    def control_routes(self) -> list[BaseRoute]:
        def known(exc: Exception) -> tuple[int, str] | None:
            return (404, f"no such post: {exc}") if isinstance(exc, PostNotFound) else None

        def control(handler: ControlHandler) -> ControlHandler:
            return guarded(handler, known)

        return [
            Route(f"{CONTROL}/posts", control(self._list_posts), methods=["GET"]),
            Route(f"{CONTROL}/posts/{{publish_id}}", control(self._inspect_post), methods=["GET"]),
        ]

    async def _list_posts(self, _: Request) -> Response:
        secs = self.config.processing_secs
        return JSONResponse([p.inspect(secs) for p in reversed(self.posts.values())])

    async def _inspect_post(self, request: Request) -> Response:
        post = self.posts.get(request.path_params["publish_id"])
        if post is None:
            raise PostNotFound(request.path_params["publish_id"])
        return JSONResponse(post.inspect(self.config.processing_secs))

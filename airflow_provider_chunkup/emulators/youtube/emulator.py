"""The YouTube Data API v3 front door (``YouTubeEmulator``), with Google's OAuth token endpoint.

- ``POST /token``: refresh-token grant (``youtube.oauth_clients``), tokens good for ``access_token_secs``; GCS
  trusts them too.
- ``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status``: checks the metadata, the quota
  and the channel's limit, answers **200** + ``Location`` (the session URI, absolute, from the request's host).
  ``PUT`` (or ``POST``) on the session URI: the resumable protocol (``google_resumable.sessions``), no token
  needed (one sent must be valid: 401 once expired); the last chunk gets ``completion_status`` (201) and the
  video, whose id is given then.
- ``GET /youtube/v3/videos?part=...&id=A,B``: the videos (unknown ids absent); processing advances with
  ``time.time()``. ``DELETE /youtube/v3/videos?id=ID``: 204.
- ``POST /upload/youtube/v3/thumbnails/set?videoId=ID`` (JPEG/PNG body) and ``POST /upload/youtube/v3/captions``
  (``uploadType=multipart``: JSON snippet + the caption file).

Errors are Google's JSON (``google_resumable.errors``). Sources: ``/work/shared/api/google-resumable-youtube.md``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..core.api import EmulatedApi
from ..core.context import EmulatorContext
from ..core.control import PREFIX, ControlHandler, guarded
from ..core.storage import Storage
from ..google_resumable import auth
from ..google_resumable.common import base_url, json_body, upload_length
from ..google_resumable.control import SessionControls
from ..google_resumable.errors import GoogleError, json_response
from ..google_resumable.sessions import ResumableSession, ResumableSessions, SessionGone
from .config import YouTubeEmulatorConfig
from .videos import FAILED_FAULT, PROCESSING_FAULT, REJECTED_FAULT, VideoStore, check_metadata, rfc3339

CONTROL = f"{PREFIX}/youtube"
UPLOAD_PATH = "/upload/youtube/v3/videos"
VIDEOS_PATH = "/youtube/v3/videos"
THUMBNAILS_PATH = "/upload/youtube/v3/thumbnails/set"
CAPTIONS_PATH = "/upload/youtube/v3/captions"
TOKEN_PATH = "/token"
#: Units the methods other than videos.insert cost.
UNITS = {"list": 1, "thumbnail": 50, "caption": 400, "delete": 50}
SHORT_PERSIST_FAULT, NO_RANGE_FAULT, RATE_LIMIT_FAULT = "youtube_short_persist", "youtube_no_range", \
    "youtube_rate_limit_403"
IMAGE_SIGNATURES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
THUMBNAIL_DOMAIN, CAPTION_DOMAIN = "youtube.thumbnail", "youtube.caption"
STAT_NAMES = ("youtube_inserts", "youtube_videos_uploaded", "youtube_videos_deleted", "youtube_thumbnails_set",
              "youtube_captions_inserted")  # fmt: skip

Handler = Callable[["YouTubeEmulator", Request], Awaitable[Response]]


def google_endpoint(handler: Handler) -> Handler:
    """``GoogleError`` answered as Google's JSON error."""

    @functools.wraps(handler)
    async def endpoint(self: YouTubeEmulator, request: Request) -> Response:
        try:
            return await handler(self, request)
        except GoogleError as exc:
            return exc.response()

    return endpoint


def query_list(request: Request, name: str) -> list[str]:
    return [item.strip() for item in request.query_params.get(name, "").split(",") if item.strip()]


class YouTubeEmulator(EmulatedApi):
    """YouTube Data API v3: resumable videos.insert, videos.list/delete, thumbnails.set, captions.insert."""

    name = "youtube"
    title = "YouTube Data API v3 (and Google OAuth)"
    config_type = YouTubeEmulatorConfig
    #: Processing outcomes drawn at completion, and the session faults drawn per chunk or initiation.
    fault_kinds = (FAILED_FAULT, REJECTED_FAULT, PROCESSING_FAULT, SHORT_PERSIST_FAULT, NO_RANGE_FAULT,
                   RATE_LIMIT_FAULT)

    def __init__(self, context: EmulatorContext) -> None:
        super().__init__(context)
        self.sessions = ResumableSessions(context.storage, "youtube", lambda: self.config, context.faults.roll,
                                          self._finish, allow_cancel=False)  # fmt: skip
        self.store = VideoStore(lambda: self.config, context.faults.roll)
        self.counts: dict[str, int] = {}

    @property
    def config(self) -> YouTubeEmulatorConfig:
        return self.context.config.youtube

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def routes(self) -> list[BaseRoute]:
        return [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(UPLOAD_PATH, self.upload, methods=["POST", "PUT", "DELETE"]),
            Route(VIDEOS_PATH, self.videos, methods=["GET", "DELETE"]),
            Route(THUMBNAILS_PATH, self.thumbnail, methods=["POST", "PUT"]),
            Route(CAPTIONS_PATH, self.caption, methods=["POST", "PUT"]),
        ]

    def reset(self) -> None:
        self.sessions.forget_all()
        self.store = VideoStore(lambda: self.config, self.context.faults.roll)
        self.counts.clear()

    def stats(self) -> dict[str, int]:
        counts = {**self.counts, **self.store.counts}
        held = sum(1 for v in self.store.videos.values() if not v.deleted)
        return {"youtube_videos": held, **{name: counts.get(name, 0) for name in STAT_NAMES},
                "youtube_sessions": self.sessions.counts.get("sessions", 0),
                "youtube_chunks": self.sessions.counts.get("chunks", 0),
                "youtube_status_queries": self.sessions.counts.get("status_queries", 0),
                "youtube_gaps": self.sessions.counts.get("gaps", 0),
                "youtube_bytes_ignored": self.sessions.counts.get("bytes_ignored", 0),
                "youtube_bytes_dropped": self.sessions.counts.get("bytes_dropped", 0),
                "youtube_insert_quota_used": self.store.used(self.store.inserts),
                "youtube_units_used": self.store.used(self.store.units)}  # fmt: skip

    # -- fault injection and rate limits ----------------------------------------------------------

    @classmethod
    def chunk_targets(cls, config: YouTubeEmulatorConfig) -> list[str]:
        paths = "|".join(re.escape(path) for path in (UPLOAD_PATH, THUMBNAILS_PATH, CAPTIONS_PATH))
        return [rf"(?:PUT|POST) (?:{paths})\?\S*upload_id=\S*"]

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        if path in (UPLOAD_PATH, VIDEOS_PATH, THUMBNAILS_PATH, CAPTIONS_PATH, TOKEN_PATH):
            return GoogleError.rate_limited(retry_after_secs).response()
        return None

    # -- auth -------------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        config = self.config
        return auth.token_endpoint(await request.body(), config.oauth_clients, config.access_token_secs)

    def authorize(self, request: Request, scopes: tuple[str, ...]) -> None:
        auth.authorize(request.headers.get("authorization"), self.config.access_tokens, scopes)

    # -- videos.insert ----------------------------------------------------------------------------

    @google_endpoint
    async def upload(self, request: Request) -> Response:
        if "upload_id" in request.query_params:
            return await self._session_request(request)
        if request.method != "POST":
            raise GoogleError.bad_request("A PUT or DELETE here needs the session's upload_id: start with POST "
                                          "?uploadType=resumable.", "required")  # fmt: skip
        return await self.initiate(request)

    async def _session_request(self, request: Request) -> Response:
        """A request to a session URI (any of videos, thumbnails, captions: the upload id names the session)."""
        if request.headers.get("authorization"):  # none needed; one sent must be valid (401 once expired)
            self.authorize(request, auth.INSERT_SCOPES)
        return await self.sessions.handle(request)

    def _new_session(self, request: Request, path: str, length: int | None, media_type: str,
                     extra: dict[str, Any]) -> Response:  # fmt: skip
        """A session for ``extra["kind"]`` (video, thumbnail, caption): 200 and its absolute URI in ``Location``."""
        session = self.sessions.create(length, media_type, extra)
        location = f"{base_url(request)}{path}?uploadType=resumable&upload_id={session.id}"
        return Response(b"", 200, headers={"Location": location, "X-GUploader-UploadID": session.id})

    async def initiate(self, request: Request) -> Response:
        self.authorize(request, auth.INSERT_SCOPES)
        upload_type = request.query_params.get("uploadType")
        if upload_type != "resumable":
            raise GoogleError.bad_request(f"uploadType={upload_type} is not served here: use uploadType=resumable.",
                                          "invalidParameter")  # fmt: skip
        config = self.config
        parts = set(query_list(request, "part"))
        metadata = check_metadata(await json_body(request, required=True), parts, config)
        media_type = request.headers.get("x-upload-content-type", "application/octet-stream").strip()
        if not (media_type.startswith("video/") or media_type == "application/octet-stream"):
            raise GoogleError.bad_request(f"Media type '{media_type}' is not supported. Valid media types: "
                                          "[video/*, application/octet-stream]", "badContent")  # fmt: skip
        length = upload_length(request, config.max_size)
        self.sessions.check_rate_limit()
        self.store.check_upload_limit()
        self.store.take_insert()
        self.count("youtube_inserts")
        notify = request.query_params.get("notifySubscribers", "true").lower() != "false"
        extra = {"kind": "video", "metadata": metadata, "notify": notify, "parts": parts}
        return self._new_session(request, UPLOAD_PATH, length, media_type, extra)

    async def _finish(self, session: ResumableSession, request: Request) -> dict[str, Any]:
        """The resource a finished session makes: a video, or a thumbnail or caption of one (its file then goes)."""
        extra = session.extra
        sha256 = session.hashes.sha256.hexdigest()
        if extra["kind"] == "thumbnail":
            head = await anyio.to_thread.run_sync(Storage.read_head, session.path, 16)
            session.path.unlink(missing_ok=True)
            return self._set_thumbnail(request, extra["video_id"], session.content_type, head, session.persisted,
                                       sha256)  # fmt: skip
        if extra["kind"] == "caption":
            session.path.unlink(missing_ok=True)
            return self._add_caption(extra["video_id"], extra["language"], extra["name"], extra["draft"],
                                     session.content_type, session.persisted, sha256)  # fmt: skip
        video = self.store.add(extra["metadata"], session.persisted, session.hashes.sha256.hexdigest(),
                               session.content_type, session.id, extra["notify"])  # fmt: skip
        extra["video_id"] = video.id
        return self.store.resource(video, extra["parts"], self.thumbnail_base(request))

    @staticmethod
    def thumbnail_base(request: Request) -> str:
        return f"{base_url(request)}/_emulator/youtube/thumbnails"

    # -- videos.list, videos.delete ---------------------------------------------------------------

    @google_endpoint
    async def videos(self, request: Request) -> Response:
        if request.method == "DELETE":
            return await self.delete_video(request)
        self.authorize(request, auth.READ_SCOPES)
        parts = set(query_list(request, "part"))
        known = {"id", "snippet", "status", "processingDetails"}
        if not parts or parts - known:
            raise GoogleError.bad_request(f"part must name parts of a video among {', '.join(sorted(known))}; got "
                                          f"{request.query_params.get('part')!r}.", "unknownPart")  # fmt: skip
        ids = query_list(request, "id")
        if not ids:
            raise GoogleError.bad_request("No filter selected: pass id=<video id>[,<video id>...].",
                                          "missingRequiredParameter", "youtube.parameter")  # fmt: skip
        self.store.take_units(UNITS["list"])
        base = self.thumbnail_base(request)
        items = [self.store.resource(video, parts, base) for vid in ids
                 if (video := self.store.videos.get(vid)) is not None and not video.deleted]  # fmt: skip
        return json_response({"kind": "youtube#videoListResponse", "etag": secrets.token_hex(8), "items": items,
                              "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}})  # fmt: skip

    async def delete_video(self, request: Request) -> Response:
        self.authorize(request, auth.WRITE_SCOPES)
        video = self.store.get(request.query_params.get("id", ""))
        self.store.take_units(UNITS["delete"])
        video.deleted = True
        self.count("youtube_videos_deleted")
        return Response(status_code=204)

    # -- thumbnails.set, captions.insert ----------------------------------------------------------

    @google_endpoint
    async def thumbnail(self, request: Request) -> Response:
        """thumbnails.set: the image as the body (``uploadType=media``, the default) or through a session."""
        if "upload_id" in request.query_params:
            return await self._session_request(request)
        self.authorize(request, auth.INSERT_SCOPES)
        video = self.store.get(request.query_params.get("videoId", ""))
        resumable = request.query_params.get("uploadType") == "resumable"
        header = "x-upload-content-type" if resumable else "content-type"
        media_type = request.headers.get(header, "").split(";")[0].strip().lower()
        if media_type not in IMAGE_SIGNATURES:
            raise GoogleError.bad_request(f"The thumbnail must be image/jpeg or image/png, not {media_type!r}.",
                                          "invalidImage", THUMBNAIL_DOMAIN)  # fmt: skip
        limit = self.config.thumbnail_max_bytes
        if resumable:
            length = upload_length(request, self.config.max_size)
            if length is not None and length > limit:
                raise self._image_too_large(limit)
            return self._new_session(request, THUMBNAILS_PATH, length, media_type,
                                     {"kind": "thumbnail", "video_id": video.id})  # fmt: skip
        data = await _read_capped(request, limit)
        if data is None:
            raise self._image_too_large(limit)
        return json_response(self._set_thumbnail(request, video.id, media_type, data[:16], len(data),
                                                 hashlib.sha256(data).hexdigest()))  # fmt: skip

    @staticmethod
    def _image_too_large(limit: int) -> GoogleError:
        return GoogleError.bad_request(f"The provided image is too large (more than {limit} bytes).",
                                       "imageTooLarge", THUMBNAIL_DOMAIN)  # fmt: skip

    def _set_thumbnail(self, request: Request, video_id: str, media_type: str, head: bytes, size: int,
                       sha256: str) -> dict[str, Any]:  # fmt: skip
        video = self.store.get(video_id)
        if size > self.config.thumbnail_max_bytes:
            raise self._image_too_large(self.config.thumbnail_max_bytes)
        if not head.startswith(IMAGE_SIGNATURES[media_type]):
            raise GoogleError.bad_request(f"The provided image content is invalid: not a {media_type} image.",
                                          "invalidImage", THUMBNAIL_DOMAIN)  # fmt: skip
        self.store.take_units(UNITS["thumbnail"])
        video.thumbnail = {"content_type": media_type, "size": size, "sha256": sha256}
        self.count("youtube_thumbnails_set")
        url = f"{self.thumbnail_base(request)}/vi/{video.id}/default.jpg"
        return {"kind": "youtube#thumbnailSetResponse", "etag": secrets.token_hex(8),
                "items": [{"default": {"url": url, "width": 120, "height": 90}}]}  # fmt: skip

    @google_endpoint
    async def caption(self, request: Request) -> Response:
        """captions.insert: ``uploadType=multipart`` (the JSON snippet, then the file) or ``resumable``."""
        if "upload_id" in request.query_params:
            return await self._session_request(request)
        self.authorize(request, auth.WRITE_SCOPES)
        upload_type = request.query_params.get("uploadType", "multipart")
        limit = self.config.caption_max_bytes
        if upload_type == "resumable":
            body = await json_body(request, required=True)
            video_id, language, name = self._caption_snippet(body.get("snippet"))
            length = upload_length(request, self.config.max_size)
            if length is not None and length > limit:
                raise self._caption_too_large(limit)
            media_type = request.headers.get("x-upload-content-type", "application/octet-stream")
            extra = {"kind": "caption", "video_id": video_id, "language": language, "name": name,
                     "draft": bool(body["snippet"].get("isDraft"))}  # fmt: skip
            return self._new_session(request, CAPTIONS_PATH, length, media_type, extra)
        if upload_type != "multipart":
            raise GoogleError.bad_request("captions.insert is served with uploadType=multipart or resumable.",
                                          "invalidParameter")  # fmt: skip
        raw = await _read_capped(request, limit + 64 * 1024)
        if raw is None:
            raise self._caption_too_large(limit)
        snippet, media, media_type = _multipart_related(request.headers.get("content-type", ""), raw)
        video_id, language, name = self._caption_snippet(snippet)
        return json_response(self._add_caption(video_id, language, name, bool(snippet.get("isDraft")), media_type,
                                               len(media), hashlib.sha256(media).hexdigest()))  # fmt: skip

    def _caption_snippet(self, snippet: Any) -> tuple[str, str, str]:
        """The video id, language and name of a caption's snippet (the video must exist)."""
        if not isinstance(snippet, dict):
            raise GoogleError.bad_request("The metadata must be {\"snippet\": {\"videoId\", \"language\", "
                                          "\"name\"}}.", "invalidMetadata", CAPTION_DOMAIN)  # fmt: skip
        video = self.store.get(str(snippet.get("videoId", "")))
        language, name = snippet.get("language"), snippet.get("name", "")
        if not (isinstance(language, str) and language.strip()) or not isinstance(name, str):
            raise GoogleError.bad_request("snippet.language (such as 'en') and snippet.name are required.",
                                          "invalidMetadata", CAPTION_DOMAIN)  # fmt: skip
        return video.id, language, name

    @staticmethod
    def _caption_too_large(limit: int) -> GoogleError:
        return GoogleError(413, "uploadTooLarge", f"The caption file is larger than {limit} bytes.")

    def _add_caption(self, video_id: str, language: str, name: str, draft: bool, media_type: str, size: int,
                     sha256: str) -> dict[str, Any]:  # fmt: skip
        video = self.store.get(video_id)
        if size > self.config.caption_max_bytes:
            raise self._caption_too_large(self.config.caption_max_bytes)
        if not size:
            raise GoogleError.bad_request("The caption file is empty.", "mediaBodyRequired", CAPTION_DOMAIN)
        self.store.take_units(UNITS["caption"])
        caption_id = "AUieDa" + secrets.token_urlsafe(24)
        video.captions.append({"id": caption_id, "language": language, "name": name, "content_type": media_type,
                               "size": size, "sha256": sha256})  # fmt: skip
        self.count("youtube_captions_inserted")
        return {"kind": "youtube#caption", "etag": secrets.token_hex(8), "id": caption_id,
                "snippet": {"videoId": video.id, "lastUpdated": rfc3339(time.time()), "trackKind": "standard",
                            "language": language, "name": name, "audioTrackType": "unknown", "isCC": False,
                            "isLarge": False, "isEasyReader": False, "isDraft": draft, "isAutoSynced": False,
                            "status": "serving"}}  # fmt: skip

    # -- inspection (under /_emulator/youtube, no auth) -------------------------------------------

    def control_routes(self) -> list[BaseRoute]:
        return [
            Route(f"{CONTROL}/videos", self._control(self._list_videos), methods=["GET"]),
            Route(f"{CONTROL}/videos/{{video_id}}", self._control(self._inspect_video), methods=["GET"]),
            *SessionControls(self.sessions, self._session_view, self._control).routes(CONTROL),
        ]

    @staticmethod
    def _control(handler: ControlHandler) -> ControlHandler:
        def known(exc: Exception) -> tuple[int, str] | None:
            if isinstance(exc, SessionGone):
                return 404, str(exc)
            return (404, f"no such video: {exc}") if isinstance(exc, KeyError) else None

        return guarded(handler, known)

    def _inspect(self, request: Request, video_id: str) -> dict[str, Any]:
        return self.store.inspect(self.store.any(video_id), self.thumbnail_base(request))

    async def _list_videos(self, request: Request) -> Response:
        return json_response([self._inspect(request, v.id) for v in self.store.newest_first()])

    async def _inspect_video(self, request: Request) -> Response:
        return json_response(self._inspect(request, request.path_params["video_id"]))

    def _session_view(self, session: ResumableSession) -> dict[str, Any]:
        metadata = session.extra.get("metadata")
        return {**self.sessions.inspect(session), "kind": session.extra["kind"],
                "video_id": session.extra.get("video_id"), "title": metadata.snippet["title"] if metadata else None}


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None once it passes ``limit`` (the rest is drained by the middleware)."""
    data = bytearray()
    async for piece in request.stream():
        data += piece
        if len(data) > limit:
            return None
    return bytes(data)


def _multipart_related(content_type: str, raw: bytes) -> tuple[Any, bytes, str]:
    """The JSON metadata part, the media part and its type of a ``multipart/related`` body."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/related") or match is None:
        raise GoogleError.bad_request("captions.insert takes a multipart/related body with a boundary: the JSON "
                                      "snippet, then the caption file.", "badContent")  # fmt: skip
    delimiter = b"--" + match.group(1).encode()
    parts = []
    for chunk in raw.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.decode("latin-1").partition(":") for line in head.split(b"\r\n") if b":" in line)}  # fmt: skip
        parts.append((headers.get("content-type", ""), body[:-2] if body.endswith(b"\r\n") else body))
    if len(parts) != 2:
        raise GoogleError.bad_request(f"The multipart body must have 2 parts (metadata, media); it has {len(parts)}.",
                                      "badContent")  # fmt: skip
    try:
        metadata = json.loads(parts[0][1])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GoogleError.bad_request(f"Parse Error: the metadata part is not JSON ({exc}).", "parseError") from None
    snippet = metadata.get("snippet") if isinstance(metadata, dict) else None
    return snippet, parts[1][1], parts[1][0]

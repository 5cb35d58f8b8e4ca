"""YouTube uploads (Data API v3 ``videos.insert``) over Google's resumable protocol, and the video's status.

Sources: developers.google.com/youtube/v3/docs/videos/insert, ``.../videos#resource`` (snippet, status,
processingDetails), ``.../guides/using_resumable_upload_protocol``, ``.../docs/thumbnails/set``,
``.../docs/captions/insert``, and the discovery document shipped in google-api-python-client
(``youtube.v3.json``); the notes in ``google-resumable-youtube.md``.

The video resource comes from ``upload_options`` and is checked before any request (title length and
characters, privacy values, the category as a string...). YouTube creates the video when its last byte
arrives: a retried task resumes its session (from the task state store) rather than insert again, so a
retry never costs a second ``videos.insert`` of the day's quota nor makes a second video.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any, ClassVar

from airflow_provider_chunkup.errors import ConfigurationError, RemoteRejected
from airflow_provider_chunkup.protocols.google_resumable import GoogleResumableUpload
from airflow_provider_chunkup.protocols.http import json_object
from airflow_provider_chunkup.protocols.session import (
    ProcessingStatus,
    UploadResult,
    UploadSession,
    UploadSpec,
    file_name,
)

INSERT_PATH = "/upload/youtube/v3/videos"
VIDEOS_PATH = "/youtube/v3/videos"
THUMBNAIL_PATH = "/upload/youtube/v3/thumbnails/set"
CAPTIONS_PATH = "/upload/youtube/v3/captions"
MAX_VIDEO = 256 * 1024**3
"""Largest video YouTube takes (the discovery document's ``maxSize``: 256 GB)."""
MAX_TITLE = 100
MAX_DESCRIPTION_BYTES = 5000
MAX_TAGS_CHARS = 500
PRIVACY = ("public", "unlisted", "private")
LICENSES = ("youtube", "creativeCommon")
THUMBNAIL_TYPES = ("image/jpeg", "image/png")
THUMBNAIL_MAX = 2 * 1024 * 1024
"""Thumbnails up to 2 MB (videos.thumbnails.set)."""
CAPTION_MAX = 100 * 1024 * 1024
OPTIONS = ("title", "description", "tags", "category_id", "default_language", "privacy_status", "made_for_kids",
           "publish_at", "license", "embeddable", "public_stats_viewable", "contains_synthetic_media",
           "notify_subscribers", "snippet", "status")
"""What ``upload_options`` may carry; ``snippet`` and ``status`` add any other field of those parts as is."""
DEFAULT_PRIVACY = "private"
"""chunkup uploads private unless told otherwise: publishing is a decision, not a side effect of a pipeline."""
CHECK_AFTER = 15.0


class YouTubeUpload(GoogleResumableUpload):
    """Uploads a video with ``videos.insert`` (resumable); the sensor follows its processing."""

    api: ClassVar[str] = "youtube"
    display_name: ClassVar[str] = "YouTube"
    processes_media: ClassVar[bool] = True

    # -- validation ---------------------------------------------------------------------------

    def validate(self, spec: UploadSpec) -> None:
        super().validate(spec)
        video_resource(spec.options, file_name(spec.source))  # its own checks
        if spec.total_bytes > MAX_VIDEO:
            raise ConfigurationError(f"The source is {spec.total_bytes} bytes; YouTube takes videos up to {MAX_VIDEO} "
                                     "bytes (256 GB).")
        kind = (spec.media_type or "").lower()
        if kind and not (kind.startswith("video/") or kind == "application/octet-stream"):
            raise ConfigurationError(f"YouTube takes video/* or application/octet-stream media, not {spec.media_type}: "
                                     "pass media_type='video/mp4' (or the file's video type).")

    # -- steps --------------------------------------------------------------------------------

    def initiate(self, spec: UploadSpec) -> tuple[str, dict[str, str], dict[str, Any] | None]:
        params = {"part": "snippet,status"}
        notify = spec.options.get("notify_subscribers")
        if notify is not None:
            params["notifySubscribers"] = "true" if notify else "false"
        return INSERT_PATH, params, video_resource(spec.options, file_name(spec.source))

    async def result(self, session: UploadSession, resource: Mapping[str, Any]) -> UploadResult:
        video_id = str(resource.get("id") or "")
        if not video_id:
            raise RemoteRejected(f"YouTube completed upload {session.media_id} without a video id: "
                                 f"{json.dumps(resource)[:300]}", status=200)
        status = resource.get("status") if isinstance(resource.get("status"), Mapping) else {}
        return UploadResult(
            api=self.api, media_id=video_id, size=session.total_bytes, conn_id=session.conn_id,
            sha256=session.digests.get("sha256"),
            processing=ProcessingStatus(state="pending", check_after_secs=CHECK_AFTER).to_dict(),
            details={"url": f"https://www.youtube.com/watch?v={video_id}",
                     "upload_status": status.get("uploadStatus"), "privacy_status": status.get("privacyStatus")},
            transfer_seconds=round(session.transfer_seconds, 3) or None,
        )

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        """``videos.list?part=processingDetails,status`` (needs the youtube.readonly, youtube or force-ssl scope)."""
        if until not in (None, "processed"):
            raise ConfigurationError(f"YouTube's sensor waits until the video is processed: until must be unset or "
                                     f"'processed', got {until!r}.")
        step = f"YouTube status of video {media_id}"
        response = await self.client.request("GET", VIDEOS_PATH, params={"part": "processingDetails,status",
                                                                         "id": media_id}, step=step)
        items = json_object(response, step).get("items") or []
        video = next((v for v in items if isinstance(v, Mapping) and v.get("id") == media_id), None)
        if video is None:
            return ProcessingStatus(state="failed", error={
                "name": "notFound", "message": f"YouTube lists no video {media_id} for this account: it was deleted, "
                                               "or the credentials belong to another channel."})
        return processing_status(video)

    # -- after the upload ---------------------------------------------------------------------

    async def set_thumbnail(self, video_id: str, data: AsyncIterable[bytes], size: int, media_type: str) -> dict:
        """``thumbnails.set``: a JPEG or PNG up to 2 MB, streamed (``data`` is iterated again on a retry)."""
        if media_type not in THUMBNAIL_TYPES:
            raise ConfigurationError(f"A YouTube thumbnail is {' or '.join(THUMBNAIL_TYPES)}, not {media_type}.")
        if not 0 < size <= THUMBNAIL_MAX:
            raise ConfigurationError(f"The thumbnail is {size} bytes; YouTube takes thumbnails up to {THUMBNAIL_MAX} "
                                     "bytes (2 MB). Use a smaller image (1280x720 JPEG is the usual).")
        step = f"YouTube thumbnails.set of video {video_id}"
        response = await self.client.request(
            "POST", THUMBNAIL_PATH, params={"videoId": video_id, "uploadType": "media"}, content=data, step=step,
            headers={"Content-Type": media_type, "Content-Length": str(size)})
        return json_object(response, step)

    async def insert_caption(self, video_id: str, data: AsyncIterable[bytes], size: int, *, language: str,
                             name: str = "", draft: bool = False) -> dict:
        """``captions.insert`` (multipart): the track's snippet and the caption file, streamed (``data`` is
        iterated again on a retry)."""
        if not language or len(language) > 35:
            raise ConfigurationError("A caption track needs its language as a BCP-47 tag, e.g. en or pt-BR.")
        if not 0 < size <= CAPTION_MAX:
            raise ConfigurationError(f"The caption file is {size} bytes; YouTube takes caption files up to "
                                     f"{CAPTION_MAX} bytes (100 MB).")
        snippet = {"snippet": {"videoId": video_id, "language": language, "name": name, "isDraft": draft}}
        boundary = f"chunkup-{uuid.uuid4().hex}"
        head = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{json.dumps(snippet)}\r\n"
                f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()

        step = f"YouTube captions.insert ({language}) for video {video_id}"
        response = await self.client.request(
            "POST", CAPTIONS_PATH, params={"part": "snippet", "uploadType": "multipart"},
            content=_Framed(head, data, tail), step=step,
            headers={"Content-Type": f"multipart/related; boundary={boundary}",
                     "Content-Length": str(len(head) + size + len(tail))})
        return json_object(response, step)


def video_resource(options: Mapping[str, Any], default_title: str = "") -> dict[str, Any]:
    """The video resource (``snippet``, ``status``) from ``upload_options``, checked as YouTube checks it."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ConfigurationError(f"YouTube upload_options take {', '.join(OPTIONS)}, not {', '.join(unknown)}.")
    snippet: dict[str, Any] = dict(_mapping(options, "snippet"))
    status: dict[str, Any] = dict(_mapping(options, "status"))
    title = options.get("title", snippet.get("title")) or default_title[:MAX_TITLE]
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE or any(c in title for c in "<>"):
        raise ConfigurationError(f"The YouTube title must be 1 to {MAX_TITLE} characters without < or > "
                                 f"(invalidTitle); got {title!r}."[:300])
    snippet["title"] = title
    description = options.get("description", snippet.get("description"))
    if description is not None:
        if not isinstance(description, str) or len(description.encode()) > MAX_DESCRIPTION_BYTES \
                or any(c in description for c in "<>"):
            raise ConfigurationError(f"The YouTube description must be text of at most {MAX_DESCRIPTION_BYTES} bytes "
                                     "without < or > (invalidDescription).")
        snippet["description"] = description
    tags = options.get("tags", snippet.get("tags"))
    if tags is not None:
        if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
            raise ConfigurationError("YouTube tags must be a list of text.")
        if sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0) > MAX_TAGS_CHARS:
            raise ConfigurationError(f"YouTube tags may total {MAX_TAGS_CHARS} characters (a comma between tags "
                                     "counts, and quotes around a tag with a space) (invalidTags).")
        snippet["tags"] = list(tags)
    category = options.get("category_id", snippet.get("categoryId"))
    if category is not None:
        if isinstance(category, bool) or not str(category).isdigit():
            raise ConfigurationError(f"category_id must be YouTube's category number, e.g. '22' (People & Blogs), "
                                     f"got {category!r}.")
        snippet["categoryId"] = str(category)  # a string in the API, even though it is a number
    if options.get("default_language") is not None:
        snippet["defaultLanguage"] = str(options["default_language"])
    privacy = options.get("privacy_status", status.get("privacyStatus", DEFAULT_PRIVACY))
    if privacy not in PRIVACY:
        raise ConfigurationError(f"privacy_status must be one of {', '.join(PRIVACY)}, got {privacy!r}.")
    status["privacyStatus"] = privacy
    publish_at = options.get("publish_at", status.get("publishAt"))
    if publish_at is not None:
        if privacy != "private":
            raise ConfigurationError("publish_at schedules a private video's publication: set privacy_status to "
                                     "private (YouTube refuses it otherwise: invalidPublishAt).")
        status["publishAt"] = _rfc3339(publish_at)
    license_ = options.get("license", status.get("license"))
    if license_ is not None:
        if license_ not in LICENSES:
            raise ConfigurationError(f"license must be one of {', '.join(LICENSES)}, got {license_!r}.")
        status["license"] = license_
    for option, field in (("made_for_kids", "selfDeclaredMadeForKids"), ("embeddable", "embeddable"),
                          ("public_stats_viewable", "publicStatsViewable"),
                          ("contains_synthetic_media", "containsSyntheticMedia")):
        if options.get(option) is not None:
            if not isinstance(options[option], bool):
                raise ConfigurationError(f"{option} must be true or false, got {options[option]!r}.")
            status[field] = options[option]
    if options.get("notify_subscribers") is not None and not isinstance(options["notify_subscribers"], bool):
        raise ConfigurationError("notify_subscribers must be true or false.")
    return {"snippet": snippet, "status": status}


def processing_status(video: Mapping[str, Any]) -> ProcessingStatus:
    """A video's ``status`` and ``processingDetails`` as a :class:`ProcessingStatus`, failure reasons verbatim."""
    status = _mapping(video, "status")
    details = _mapping(video, "processingDetails")
    upload_status = status.get("uploadStatus")
    processing = details.get("processingStatus")
    if upload_status == "failed":
        return _failed("uploadStatus failed", status.get("failureReason"), "YouTube could not process the file")
    if upload_status == "rejected":
        return _failed("uploadStatus rejected", status.get("rejectionReason"), "YouTube rejected the video")
    if upload_status == "deleted":
        return _failed("uploadStatus deleted", None, "The video was deleted")
    if processing in ("failed", "terminated"):
        return _failed(f"processingStatus {processing}", details.get("processingFailureReason"),
                       "YouTube's processing of the video failed")
    if upload_status == "processed" or processing == "succeeded":
        return ProcessingStatus(state="succeeded", progress_percent=100)
    progress = _mapping(details, "processingProgress")
    total, done, left = (_count(progress.get(k)) for k in ("partsTotal", "partsProcessed", "timeLeftMs"))
    percent = round(100 * done / total, 1) if total and done is not None else None
    wait = min(max(left / 1000, 5.0), 300.0) if left is not None else None
    return ProcessingStatus(state="in_progress" if processing == "processing" else "pending",
                            progress_percent=percent, check_after_secs=wait or CHECK_AFTER)


def _count(value: Any) -> int | None:
    """A uint64 of the API, which comes as a JSON string."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _failed(name: str, reason: Any, what: str) -> ProcessingStatus:
    return ProcessingStatus(state="failed", error={"name": name, "code": reason,
                                                   "message": f"{what}" + (f": {reason}" if reason else "")})


def _mapping(options: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = options.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{key} must be a mapping of YouTube's {key} fields.")
    return value


def _rfc3339(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ConfigurationError("publish_at must carry a time zone (e.g. UTC).")
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = str(value)
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(f"publish_at must be an RFC 3339 time such as 2026-12-31T18:00:00Z, got {text!r}.") \
            from None
    if moment.tzinfo is None:
        raise ConfigurationError("publish_at must carry a time zone (e.g. 2026-12-31T18:00:00Z).")
    return text


class _Framed:
    """A body between a head and a tail, iterable again for each retry (as ``data`` is)."""

    def __init__(self, head: bytes, data: AsyncIterable[bytes], tail: bytes) -> None:
        self._head, self._data, self._tail = head, data, tail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._head
        async for piece in self._data:
            yield piece
        yield self._tail

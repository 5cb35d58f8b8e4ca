"""YouTube videos: the insert metadata as videos.insert checks it, the video resource, processing over time.

A video exists once its upload completes (the session's last byte): it gets its 11-character id then, with
``status.uploadStatus: uploaded`` and ``processingDetails.processingStatus: processing``. ``processing_secs``
later (``time.time()``) it is ``processed``/``succeeded``, or what the fault drawn at completion made it:
``failed`` (``failureReason``), ``rejected`` (``rejectionReason``) or ``processingStatus: failed``
(``processingFailureReason``). An empty upload always ends ``failed``/``emptyFile``.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..google_resumable.errors import GoogleError
from .config import YouTubeEmulatorConfig

FAILURE_REASONS = ("conversion", "invalidFile", "emptyFile", "tooSmall", "codec", "uploadAborted")
REJECTION_REASONS = ("copyright", "inappropriate", "duplicate", "termsOfUse", "uploaderAccountSuspended", "length",
                     "claim", "uploaderAccountClosed", "trademark", "legal")  # fmt: skip
PROCESSING_FAILURE_REASONS = ("uploadFailed", "transcodeFailed", "streamingFailed", "other")
PRIVACY = ("public", "unlisted", "private")
LICENSES = ("youtube", "creativeCommon")
#: Fault kinds drawn when an upload completes.
FAILED_FAULT, REJECTED_FAULT, PROCESSING_FAULT = "youtube_failed", "youtube_rejected", "youtube_processing_failed"
MAX_TITLE_CHARS, MAX_DESCRIPTION_BYTES, MAX_TAGS_CHARS = 100, 5000, 500
#: ``processingProgress.partsTotal``.
PARTS_TOTAL = 1000
CHANNEL_ID = "UCchunkupEmulator000000a"
VIDEO_DOMAIN = "youtube.video"


def rfc3339(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


@dataclass(frozen=True)
class Metadata:
    """A checked videos.insert body: the snippet and status as the video will show them."""

    snippet: dict[str, Any]
    status: dict[str, Any]


def check_metadata(body: dict[str, Any], parts: set[str], config: YouTubeEmulatorConfig) -> Metadata:
    """The snippet and status of a new video, or the 400/403 videos.insert answers."""
    unknown = parts - {"snippet", "status", "contentDetails", "recordingDetails", "localizations", "id"}
    if not parts or unknown:
        raise GoogleError.bad_request(f"part must name the resource parts to write (snippet,status); got "
                                      f"{','.join(sorted(parts)) or 'nothing'}.", "unexpectedPart")  # fmt: skip
    snippet_in = body.get("snippet") if "snippet" in parts else None
    if snippet_in is None:
        snippet_in = {}
    if not isinstance(snippet_in, dict):
        raise GoogleError.bad_request("snippet must be an object.", "invalidVideoMetadata", VIDEO_DOMAIN)
    title = snippet_in.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE_CHARS or "<" in title or ">" in title:
        raise GoogleError.bad_request(
            f"The request metadata specifies an invalid or empty video title: snippet.title must be 1 to "
            f"{MAX_TITLE_CHARS} characters without '<' or '>'.", "invalidTitle", VIDEO_DOMAIN)  # fmt: skip
    description = snippet_in.get("description", "")
    if not isinstance(description, str) or len(description.encode()) > MAX_DESCRIPTION_BYTES \
            or "<" in description or ">" in description:
        raise GoogleError.bad_request(
            f"The request metadata specifies an invalid video description: at most {MAX_DESCRIPTION_BYTES} bytes "
            "without '<' or '>'.", "invalidDescription", VIDEO_DOMAIN)  # fmt: skip
    tags = snippet_in.get("tags", [])
    if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)) \
            or sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0) > MAX_TAGS_CHARS:
        raise GoogleError.bad_request(f"The request metadata specifies invalid video keywords: tags must be strings "
                                      f"of at most {MAX_TAGS_CHARS} characters in all.", "invalidTags",
                                      VIDEO_DOMAIN)  # fmt: skip
    category = snippet_in.get("categoryId", "22")
    if not isinstance(category, str) or category not in config.categories:
        raise GoogleError.bad_request(f"The snippet.categoryId property specifies an invalid category ID "
                                      f"{category!r}: use one of {', '.join(config.categories)} (a string).",
                                      "invalidCategoryId", VIDEO_DOMAIN)  # fmt: skip
    language = snippet_in.get("defaultLanguage")
    if language is not None and not (isinstance(language, str) and language.strip()):
        raise GoogleError.bad_request("snippet.defaultLanguage must be a language code such as 'en'.",
                                      "invalidVideoMetadata", VIDEO_DOMAIN)  # fmt: skip
    status_in = body.get("status") if "status" in parts else None
    if status_in is None:
        status_in = {}
    if not isinstance(status_in, dict):
        raise GoogleError.bad_request("status must be an object.", "invalidVideoMetadata", VIDEO_DOMAIN)
    privacy = status_in.get("privacyStatus", "public")
    if privacy not in PRIVACY:
        raise GoogleError.bad_request(f"status.privacyStatus must be one of {', '.join(PRIVACY)}; got {privacy!r}.",
                                      "invalidVideoMetadata", VIDEO_DOMAIN)  # fmt: skip
    license_ = status_in.get("license", "youtube")
    if license_ not in LICENSES:
        raise GoogleError(403, "forbiddenLicenseSetting", f"The request attempts to set an invalid license "
                          f"{license_!r}: use youtube or creativeCommon.", VIDEO_DOMAIN)  # fmt: skip
    publish_at = status_in.get("publishAt")
    if publish_at is not None:
        moment = _parse_time(publish_at)
        if privacy != "private" or moment is None or moment <= time.time():
            raise GoogleError.bad_request("The request metadata specifies an invalid scheduled publishing time: "
                                          "status.publishAt must be a future RFC 3339 time, on a private video.",
                                          "invalidPublishAt", VIDEO_DOMAIN)  # fmt: skip
    for flag in ("selfDeclaredMadeForKids", "embeddable", "publicStatsViewable", "containsSyntheticMedia"):
        if flag in status_in and not isinstance(status_in[flag], bool):
            raise GoogleError.bad_request(f"status.{flag} must be true or false.", "invalidVideoMetadata",
                                          VIDEO_DOMAIN)  # fmt: skip
    if config.force_private:
        privacy = "private"
    snippet: dict[str, Any] = {"title": title, "description": description, "categoryId": category}
    if tags:
        snippet["tags"] = list(tags)
    if language is not None:
        snippet["defaultLanguage"] = language
    status: dict[str, Any] = {
        "privacyStatus": privacy, "license": license_, "embeddable": status_in.get("embeddable", True),
        "publicStatsViewable": status_in.get("publicStatsViewable", True),
        "madeForKids": bool(status_in.get("selfDeclaredMadeForKids", False)),
    }  # fmt: skip
    if "selfDeclaredMadeForKids" in status_in:
        status["selfDeclaredMadeForKids"] = status_in["selfDeclaredMadeForKids"]
    if "containsSyntheticMedia" in status_in:
        status["containsSyntheticMedia"] = status_in["containsSyntheticMedia"]
    if publish_at is not None:
        status["publishAt"] = publish_at
    return Metadata(snippet, status)


@dataclass
class Video:
    """One uploaded video."""

    id: str
    metadata: Metadata
    size: int
    sha256: str
    content_type: str
    upload_id: str
    completed_at: float
    seq: int
    #: None, or (kind, reason) drawn at completion.
    outcome: tuple[str, str] | None = None
    notify_subscribers: bool = True
    deleted: bool = False
    thumbnail: dict[str, Any] | None = None
    captions: list[dict[str, Any]] = field(default_factory=list)


class VideoStore:
    """Every video of the channel, by id (deleted ones kept, flagged, for inspection)."""

    def __init__(self, config: Callable[[], YouTubeEmulatorConfig], roll: Callable[[float, str], bool]) -> None:
        self._config = config
        self._roll = roll
        self._seq = itertools.count()
        self.videos: dict[str, Video] = {}
        self.counts: dict[str, int] = {}
        #: (day, used) of the insert bucket and of the units bucket.
        self.inserts: tuple[int, int] = (0, 0)
        self.units: tuple[int, int] = (0, 0)

    @property
    def config(self) -> YouTubeEmulatorConfig:
        return self._config()

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    # -- quota ----------------------------------------------------------------------------------

    @staticmethod
    def day() -> int:
        """The emulator's day: quotas reset at midnight Pacific time (UTC-8 here, daylight saving aside)."""
        return int((time.time() - 8 * 3600) // 86400)

    def used(self, bucket: tuple[int, int]) -> int:
        day, used = bucket
        return used if day == self.day() else 0

    def take_insert(self) -> None:
        """One videos.insert call from its bucket; 403 quotaExceeded once used up."""
        if self.used(self.inserts) >= self.config.insert_quota:
            raise GoogleError(403, "quotaExceeded", "The request cannot be completed because you have exceeded your "
                              "quota (videos.insert: its daily calls are used up; it resets at midnight Pacific "
                              "time).", "youtube.quota")  # fmt: skip
        self.inserts = (self.day(), self.used(self.inserts) + 1)

    def take_units(self, units: int) -> None:
        if self.used(self.units) + units > self.config.units_quota:
            raise GoogleError(403, "quotaExceeded", "The request cannot be completed because you have exceeded your "
                              "quota (daily units are used up; they reset at midnight Pacific time).",
                              "youtube.quota")  # fmt: skip
        self.units = (self.day(), self.used(self.units) + units)

    def check_upload_limit(self) -> None:
        limit = self.config.upload_limit
        if limit is not None and sum(1 for v in self.videos.values() if not v.deleted) >= limit:
            raise GoogleError.bad_request("The user has exceeded the number of videos they may upload.",
                                          "uploadLimitExceeded", VIDEO_DOMAIN)  # fmt: skip

    # -- videos ---------------------------------------------------------------------------------

    def add(self, metadata: Metadata, size: int, sha256: str, content_type: str, upload_id: str,
            notify: bool) -> Video:  # fmt: skip
        video_id = secrets.token_urlsafe(8)[:11]
        while video_id in self.videos:
            video_id = secrets.token_urlsafe(8)[:11]
        video = Video(video_id, metadata, size, sha256, content_type, upload_id, time.time(), next(self._seq),
                      notify_subscribers=notify)  # fmt: skip
        config = self.config
        if size == 0:
            video.outcome = ("failed", "emptyFile")
        elif self._roll(config.failure_rate, FAILED_FAULT):
            video.outcome = ("failed", config.failure_reason)
        elif self._roll(config.rejection_rate, REJECTED_FAULT):
            video.outcome = ("rejected", config.rejection_reason)
        elif self._roll(config.processing_failure_rate, PROCESSING_FAULT):
            video.outcome = ("processing_failed", config.processing_failure_reason)
        self.videos[video_id] = video
        self.count("youtube_videos_uploaded")
        return video

    def get(self, video_id: str) -> Video:
        video = self.videos.get(video_id)
        if video is None or video.deleted:
            raise GoogleError.not_found(f"The video {video_id!r} was not found.", "videoNotFound", VIDEO_DOMAIN)
        return video

    def any(self, video_id: str) -> Video:
        video = self.videos.get(video_id)
        if video is None:
            raise KeyError(video_id)
        return video

    def newest_first(self) -> list[Video]:
        return sorted(self.videos.values(), key=lambda v: v.seq, reverse=True)

    # -- views ----------------------------------------------------------------------------------

    def processing(self, video: Video) -> tuple[dict[str, Any], dict[str, Any]]:
        """``status`` and ``processingDetails`` now."""
        secs = self.config.processing_secs
        elapsed = time.time() - video.completed_at
        done = elapsed >= secs
        status = dict(video.metadata.status)
        details: dict[str, Any] = {}
        if not done:
            status["uploadStatus"] = "uploaded"
            parts = min(PARTS_TOTAL - 1, int(PARTS_TOTAL * elapsed / secs)) if secs else 0
            details = {"processingStatus": "processing", "processingProgress": {
                "partsTotal": str(PARTS_TOTAL), "partsProcessed": str(parts),
                "timeLeftMs": str(max(0, int((secs - elapsed) * 1000)))}}  # fmt: skip
        elif video.outcome is None:
            status["uploadStatus"] = "processed"
            details = {"processingStatus": "succeeded"}
        else:
            kind, reason = video.outcome
            if kind == "failed":
                status.update(uploadStatus="failed", failureReason=reason)
                details = {"processingStatus": "failed", "processingFailureReason": "uploadFailed"}
            elif kind == "rejected":
                status.update(uploadStatus="rejected", rejectionReason=reason)
                details = {"processingStatus": "succeeded"}
            else:
                status["uploadStatus"] = "processed"
                details = {"processingStatus": "failed", "processingFailureReason": reason}
        details.update(fileDetailsAvailability="available", processingIssuesAvailability="available",
                       tagSuggestionsAvailability="available", editorSuggestionsAvailability="available",
                       thumbnailsAvailability="available" if done else "inProgress")  # fmt: skip
        return status, details

    def resource(self, video: Video, parts: set[str], thumbnail_base: str) -> dict[str, Any]:
        """The video as videos.list and the insert's final answer show it (``parts`` chosen)."""
        status, details = self.processing(video)
        etag = hashlib.sha1(f"{video.id}{status}{details}".encode()).hexdigest()[:27]
        body: dict[str, Any] = {"kind": "youtube#video", "etag": etag, "id": video.id}
        if "snippet" in parts:
            snippet = dict(video.metadata.snippet)
            thumbs = {"default": {"url": f"{thumbnail_base}/vi/{video.id}/default.jpg", "width": 120, "height": 90}}
            snippet.update(publishedAt=rfc3339(video.completed_at), channelId=CHANNEL_ID, thumbnails=thumbs,
                           channelTitle="chunkup emulator", liveBroadcastContent="none",
                           localized={"title": snippet["title"], "description": snippet["description"]})  # fmt: skip
            body["snippet"] = snippet
        if "status" in parts:
            body["status"] = status
        if "processingDetails" in parts:
            body["processingDetails"] = details
        return body

    def inspect(self, video: Video, thumbnail_base: str) -> dict[str, Any]:
        status, details = self.processing(video)
        return {
            "id": video.id, "size": video.size, "sha256": video.sha256, "content_type": video.content_type,
            "upload_id": video.upload_id, "snippet": video.metadata.snippet, "status": status,
            "processingDetails": details, "outcome": list(video.outcome) if video.outcome else None,
            "notify_subscribers": video.notify_subscribers, "deleted": video.deleted, "thumbnail": video.thumbnail,
            "captions": video.captions, "completed_at": video.completed_at,
            "resource": self.resource(video, {"snippet", "status", "processingDetails"}, thumbnail_base),
        }  # fmt: skip

"""Cloudflare Stream videos: the tus metadata they are made with, their encoding states, the result JSON.

A video is one tus upload of the front door's own store (its ``uid`` is the upload id: 32 hex). ``status.state``
is ``pendingupload`` until the last byte, then ``queued`` for ``queued_secs``, ``inprogress`` with
``pctComplete`` rising until ``encode_secs``, then ``ready`` (or ``error`` where a fault rolled), on
``time.time()``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..tus.headers import TusError
from ..tus.uploads import TusUpload
from .config import CloudflareStreamEmulatorConfig
from .errors import CloudflareError

#: The fault kind drawn when an upload completes.
ENCODE_FAULT = "cloudflare_stream_encode"
ERROR_CODE = "ERR_MALFORMED_VIDEO"
ERROR_TEXT = "The video was found to be malformed or corrupt and could not be encoded."
#: ``Upload-Metadata`` keys Cloudflare reads; any other goes to ``meta``.
KNOWN_KEYS = ("name", "requiresignedurls", "scheduleddeletion", "allowedorigins", "thumbnailtimestamppct",
              "watermark", "maxdurationseconds", "maxDurationSeconds", "expiry")  # fmt: skip


def iso_time(timestamp: float) -> str:
    """``2024-07-14T23:36:07.123456Z``, as Cloudflare writes dates."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str, key: str) -> float:
    """An RFC 3339 date of the metadata (``expiry``, ``scheduleddeletion``)."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TusError(400, f"Upload-Metadata: {key} must be an RFC 3339 date, got {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


@dataclass
class StreamVideo:
    """One video: its upload and what its creation said."""

    uid: str
    account_id: str
    upload: TusUpload
    created_at: float
    seq: int
    meta: dict[str, str] = field(default_factory=dict)
    creator: str | None = None
    direct_user: bool = False
    require_signed_urls: bool = False
    allowed_origins: list[str] = field(default_factory=list)
    scheduled_deletion: str | None = None
    thumbnail_pct: float = 0.0
    watermark: str | None = None
    max_duration_seconds: int = -1
    #: ``expiry`` of the metadata (a timestamp), else None (the config's lifetime).
    expiry: float | None = None
    #: Drawn when the last byte arrives.
    failed: bool = False
    deleted: bool = False
    #: How it came: ``tus`` or ``basic`` (multipart).
    via: str = "tus"

    @property
    def completed_at(self) -> float | None:
        return self.upload.completed_at


def video_from_metadata(upload: TusUpload, account_id: str, creator: str | None, direct_user: bool,
                        seq: int) -> StreamVideo:  # fmt: skip
    """Read Cloudflare's metadata keys (``TusError`` 400 for a value it cannot take)."""
    values = {key: (value.decode("utf-8", "replace") if value is not None else None)
              for key, value in upload.metadata.items()}  # fmt: skip
    video = StreamVideo(upload.id, account_id, upload, time.time(), seq, creator=creator, direct_user=direct_user)
    video.meta = {k: v or "" for k, v in values.items() if k not in KNOWN_KEYS}
    if values.get("name") is not None:
        video.meta["name"] = values["name"] or ""
    video.require_signed_urls = "requiresignedurls" in values
    if values.get("allowedorigins"):
        video.allowed_origins = [o.strip() for o in (values["allowedorigins"] or "").split(",") if o.strip()]
    if values.get("scheduleddeletion"):
        text = values["scheduleddeletion"] or ""
        parse_time(text, "scheduleddeletion")
        video.scheduled_deletion = text
    if values.get("thumbnailtimestamppct"):
        try:
            video.thumbnail_pct = float(values["thumbnailtimestamppct"] or "")
        except ValueError:
            video.thumbnail_pct = -1.0
        if not 0 <= video.thumbnail_pct <= 1:
            raise TusError(400, "Upload-Metadata: thumbnailtimestamppct must be a number from 0 to 1")
    video.watermark = values.get("watermark") or None
    duration = values.get("maxdurationseconds") or values.get("maxDurationSeconds")
    if duration:
        if not duration.isdigit() or int(duration) <= 0:
            raise TusError(400, f"Upload-Metadata: maxdurationseconds must be a positive integer, got {duration!r}")
        video.max_duration_seconds = int(duration)
    if values.get("expiry"):
        video.expiry = parse_time(values["expiry"] or "", "expiry")
    return video


class StreamVideoStore:
    """Every video of the front door, by uid (deleted ones kept, flagged, for inspection)."""

    def __init__(self, config: Callable[[], CloudflareStreamEmulatorConfig], chance: Callable[[float, str], bool],
                 expires_at: Callable[[TusUpload], float | None]) -> None:  # fmt: skip
        self._config = config
        #: ``FaultInjector.roll``.
        self._chance = chance
        #: When an unfinished upload URL expires (the tus store knows).
        self._expires_at = expires_at
        self._seq = itertools.count()
        self.videos: dict[str, StreamVideo] = {}
        self.counts: dict[str, int] = {}

    @property
    def config(self) -> CloudflareStreamEmulatorConfig:
        return self._config()

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def next_seq(self) -> int:
        return next(self._seq)

    def add(self, video: StreamVideo) -> None:
        self.videos[video.uid] = video
        self.count("cloudflare_stream_videos_created")

    def get(self, uid: str, account_id: str) -> StreamVideo:
        video = self.videos.get(uid)
        if video is None or video.deleted or video.account_id != account_id:
            raise CloudflareError.not_found(uid)
        return video

    def uploaded(self, upload: TusUpload) -> None:
        """The last byte arrived: draw whether encoding fails."""
        video = self.videos.get(upload.id)
        if video is None:
            return
        video.failed = self._chance(self.config.encode_failure_rate, ENCODE_FAULT)
        self.count("cloudflare_stream_uploads_completed")

    # -- states -----------------------------------------------------------------------------------

    def status(self, video: StreamVideo, now: float | None = None) -> dict[str, str]:
        """``status``: state, ``pctComplete`` (a string), and the error reason where it failed."""
        state, pct = self._state(video, time.time() if now is None else now)
        failed = state == "error"
        return {"state": state, "pctComplete": f"{pct:.6f}", "errorReasonCode": ERROR_CODE if failed else "",
                "errorReasonText": ERROR_TEXT if failed else ""}  # fmt: skip

    def _state(self, video: StreamVideo, now: float) -> tuple[str, float]:
        if video.completed_at is None:
            return "pendingupload", 0.0
        config = self.config
        elapsed = now - video.completed_at
        if elapsed >= config.encode_secs:
            return ("error", 0.0) if video.failed else ("ready", 100.0)
        if elapsed < config.queued_secs:
            return "queued", 0.0
        span = config.encode_secs - config.queued_secs
        return "inprogress", min(100.0 * (elapsed - config.queued_secs) / span, 99.999999)

    def ready_at(self, video: StreamVideo) -> float | None:
        if video.completed_at is None or video.failed:
            return None
        at = video.completed_at + self.config.encode_secs
        return at if time.time() >= at else None

    # -- views ------------------------------------------------------------------------------------

    def result(self, video: StreamVideo, base_url: str) -> dict[str, Any]:
        """The ``result`` of ``GET .../stream/{uid}``: the fields the SDK's ``Video`` reads."""
        ready_at = self.ready_at(video)
        ready = ready_at is not None
        media = f"{base_url}/_emulator/cloudflare_stream/media/{video.uid}"
        upload_expiry = self._expires_at(video.upload) if video.completed_at is None else None
        return {
            "uid": video.uid,
            "creator": video.creator,
            "thumbnail": f"{media}/thumbnails/thumbnail.jpg",
            "thumbnailTimestampPct": video.thumbnail_pct,
            "readyToStream": ready,
            "readyToStreamAt": iso_time(ready_at) if ready_at is not None else None,
            "status": self.status(video),
            "meta": dict(video.meta),
            "created": iso_time(video.created_at),
            "modified": iso_time(video.completed_at or video.created_at),
            "scheduledDeletion": video.scheduled_deletion,
            "size": video.upload.length,
            "preview": f"{media}/watch" if ready else None,
            "allowedOrigins": list(video.allowed_origins),
            "requireSignedURLs": video.require_signed_urls,
            "uploaded": iso_time(video.completed_at) if video.completed_at is not None else None,
            "uploadExpiry": iso_time(upload_expiry) if upload_expiry is not None else None,
            "maxSizeBytes": video.upload.length,
            "maxDurationSeconds": video.max_duration_seconds,
            "duration": -1,
            "input": {"width": -1, "height": -1},
            "playback": {"hls": f"{media}/manifest/video.m3u8", "dash": f"{media}/manifest/video.mpd"},
            "watermark": {"uid": video.watermark} if video.watermark else None,
        }

    def inspect(self, video: StreamVideo, location: str) -> dict[str, Any]:
        """Everything a test wants to know about a video (not a Cloudflare response)."""
        upload = video.upload
        complete = upload.complete and not video.deleted
        status = self.status(video)
        return {
            "uid": video.uid,
            "account_id": video.account_id,
            "via": video.via,
            "location": location,
            "meta": dict(video.meta),
            "creator": video.creator,
            "direct_user": video.direct_user,
            "require_signed_urls": video.require_signed_urls,
            "allowed_origins": list(video.allowed_origins),
            "scheduled_deletion": video.scheduled_deletion,
            "thumbnail_pct": video.thumbnail_pct,
            "watermark": video.watermark,
            "max_duration_seconds": video.max_duration_seconds,
            "size": upload.length,
            "received_bytes": upload.offset,
            "sha256": upload.sha256.hexdigest() if complete else None,
            "state": status["state"],
            "pct_complete": status["pctComplete"],
            "failed": video.failed,
            "patches": upload.patches,
            "patching": upload.patching,
            "created_at": video.created_at,
            "completed_at": video.completed_at,
            "deleted": video.deleted,
        }

    def newest_first(self) -> list[StreamVideo]:
        return sorted(self.videos.values(), key=lambda v: v.seq, reverse=True)

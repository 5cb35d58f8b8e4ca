"""Vimeo videos: the creation body, the video as the API shows it, its upload and transcode states.

A video is made by ``POST /me/videos`` together with its tus upload (a ``TusUpload`` of the front door's own
store, ``origin="vimeo"``); its bytes arrive on the upload link. ``upload.status`` is ``in_progress`` until the
last byte, then ``complete``; ``transcode.status`` follows ``transcode_secs`` later (``time.time()``). A fault
drawn when the last byte arrives turns either into ``error``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..tus.uploads import TusUpload
from .config import VimeoEmulatorConfig
from .errors import INVALID_APPROACH, INVALID_BODY, VimeoError

#: ``privacy.view`` values Vimeo knows.
PRIVACY_VIEWS = ("anybody", "contacts", "disable", "nobody", "password", "unlisted", "users")
#: Vimeo's longest video name.
MAX_NAME_CHARS = 128
#: Video ids start here (Vimeo's are 9 to 10 digits).
FIRST_ID = 900_000_001
#: Fault kinds drawn when an upload completes.
UPLOAD_FAULT, TRANSCODE_FAULT = "vimeo_upload", "vimeo_transcode"
IN_PROGRESS, COMPLETE, ERROR = "in_progress", "complete", "error"


def iso_time(timestamp: float) -> str:
    """``2024-07-14T23:36:07+00:00``, as Vimeo writes dates."""
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Creation:
    """A checked ``POST /me/videos`` body."""

    size: int
    name: str
    description: str | None
    privacy: dict[str, Any]
    password: str | None


def creation(body: Any, max_size: int | None) -> Creation:
    """Check a creation body as Vimeo does for the tus approach (other fields are taken and ignored)."""
    if not isinstance(body, dict):
        raise VimeoError.invalid("The request body must be a JSON object.", INVALID_BODY)
    upload = body.get("upload")
    if not isinstance(upload, dict):
        raise VimeoError.invalid('The parameter "upload" is required: {"approach": "tus", "size": <bytes>}.',
                                 INVALID_APPROACH)  # fmt: skip
    approach = upload.get("approach")
    if approach != "tus":
        raise VimeoError.invalid(f'upload.approach must be "tus" here, got {approach!r} (the emulator serves only '
                                 "tus uploads).", INVALID_APPROACH)  # fmt: skip
    size = upload.get("size")
    if isinstance(size, str) and size.strip().isdigit():
        size = int(size.strip())
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise VimeoError.invalid(f"upload.size must be the file's size in bytes, a positive integer; got {size!r}.")
    if max_size is not None and size > max_size:
        raise VimeoError.quota(size, max_size)
    name = body.get("name", "Untitled")
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
        raise VimeoError.invalid(f"name must be a string of at most {MAX_NAME_CHARS} characters.")
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        raise VimeoError.invalid("description must be a string.")
    privacy = body.get("privacy", {})
    if not isinstance(privacy, dict):
        raise VimeoError.invalid('privacy must be an object such as {"view": "anybody"}.')
    view = privacy.get("view", "anybody")
    if view not in PRIVACY_VIEWS:
        raise VimeoError.invalid(f"privacy.view must be one of {', '.join(PRIVACY_VIEWS)}; got {view!r}.")
    password = body.get("password")
    if view == "password" and not (isinstance(password, str) and password):
        raise VimeoError.invalid('privacy.view "password" needs the parameter "password".')
    shown = {"view": view, "embed": "public", "download": True, "add": True, "comments": "anybody"}
    shown.update({k: v for k, v in privacy.items() if k in shown})
    return Creation(size, name, description, shown, password if isinstance(password, str) else None)


@dataclass
class Video:
    """One video and its upload."""

    id: str
    creation: Creation
    upload: TusUpload
    created_at: float
    seq: int
    modified_at: float = 0.0
    #: Drawn when the last byte arrives.
    upload_failed: bool = False
    transcode_failed: bool = False
    deleted: bool = False

    @property
    def completed_at(self) -> float | None:
        return self.upload.completed_at


class VideoStore:
    """Every video of the front door, by id (deleted ones kept, flagged, for inspection)."""

    def __init__(self, config: Callable[[], VimeoEmulatorConfig], chance: Callable[[float, str], bool],
                 expired: Callable[[TusUpload], bool]) -> None:  # fmt: skip
        self._config = config
        #: ``FaultInjector.roll``.
        self._chance = chance
        #: Whether an unfinished upload link expired (the tus store knows).
        self._expired = expired
        self._ids = itertools.count(FIRST_ID)
        self._seq = itertools.count()
        self.videos: dict[str, Video] = {}
        self.counts: dict[str, int] = {}

    @property
    def config(self) -> VimeoEmulatorConfig:
        return self._config()

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def add(self, created: Creation, upload: TusUpload) -> Video:
        now = time.time()
        video = Video(str(next(self._ids)), created, upload, now, next(self._seq), modified_at=now)
        upload.extra["video_id"] = video.id
        self.videos[video.id] = video
        self.count("vimeo_videos_created")
        return video

    def get(self, video_id: str) -> Video:
        video = self.videos.get(video_id)
        if video is None or video.deleted:
            raise VimeoError.not_found(video_id)
        return video

    def any(self, video_id: str) -> Video:
        """A video by id, deleted ones included (inspection)."""
        video = self.videos.get(video_id)
        if video is None:
            raise VimeoError.not_found(video_id)
        return video

    def uploaded(self, upload: TusUpload) -> None:
        """The upload's last byte arrived: draw whether it fails, and how."""
        video = self.videos.get(upload.extra.get("video_id", ""))
        if video is None:
            return
        config = self.config
        video.modified_at = time.time()
        video.upload_failed = self._chance(config.upload_failure_rate, UPLOAD_FAULT)
        if not video.upload_failed:
            video.transcode_failed = self._chance(config.transcode_failure_rate, TRANSCODE_FAULT)
        self.count("vimeo_uploads_completed")

    # -- states -----------------------------------------------------------------------------------

    def upload_status(self, video: Video) -> str:
        if video.completed_at is None:
            return ERROR if self._expired(video.upload) else IN_PROGRESS
        return ERROR if video.upload_failed else COMPLETE

    def transcode_status(self, video: Video, now: float | None = None) -> str:
        if video.completed_at is None:
            return ERROR if self._expired(video.upload) else IN_PROGRESS
        if video.upload_failed:
            return ERROR
        if (time.time() if now is None else now) - video.completed_at < self.config.transcode_secs:
            return IN_PROGRESS
        return ERROR if video.transcode_failed else COMPLETE

    def status(self, video: Video, now: float | None = None) -> str:
        """The deprecated top-level ``status``, consistent with the two above."""
        upload, transcode = self.upload_status(video), self.transcode_status(video, now)
        if upload == IN_PROGRESS:
            return "uploading"
        if upload == ERROR:
            return "uploading_error"
        if transcode == IN_PROGRESS:
            return "transcoding"
        return "transcoding_error" if transcode == ERROR else "available"

    # -- views ------------------------------------------------------------------------------------

    def video_json(self, video: Video, api_base: str, upload_link: str) -> dict[str, Any]:
        """The video object (the fields chunkup and PyVimeo read, and a few around them)."""
        now = time.time()
        created = video.creation
        transcode = self.transcode_status(video, now)
        return {
            "uri": f"/videos/{video.id}",
            "name": created.name,
            "description": created.description,
            "type": "video",
            "link": f"{api_base}/{video.id}",
            "player_embed_url": f"{api_base}/player/{video.id}",
            "duration": 0,
            "width": 0,
            "height": 0,
            "created_time": iso_time(video.created_at),
            "modified_time": iso_time(video.modified_at),
            "release_time": iso_time(video.created_at),
            "privacy": dict(created.privacy),
            "status": self.status(video, now),
            "is_playable": transcode == COMPLETE,
            "resource_key": f"{int(video.id):x}",
            "upload": {
                "status": self.upload_status(video),
                "upload_link": upload_link,
                "approach": "tus",
                "size": created.size,
                "form": None,
                "complete_uri": None,
                "redirect_url": None,
                "link": None,
            },
            "transcode": {"status": transcode},
        }

    def inspect(self, video: Video, upload_link: str) -> dict[str, Any]:
        """Everything a test wants to know about a video (not a Vimeo response)."""
        upload = video.upload
        complete = upload.complete and not video.deleted
        return {
            "id": video.id,
            "uri": f"/videos/{video.id}",
            "name": video.creation.name,
            "description": video.creation.description,
            "privacy": dict(video.creation.privacy),
            "size": video.creation.size,
            "received_bytes": upload.offset,
            "sha256": upload.sha256.hexdigest() if complete else None,
            "upload_status": self.upload_status(video),
            "transcode_status": self.transcode_status(video),
            "status": self.status(video),
            "upload_id": upload.id,
            "upload_link": upload_link,
            "patches": upload.patches,
            "patching": upload.patching,
            "kept_from_broken": upload.kept_from_broken,
            "expired": video.completed_at is None and self._expired(upload),
            "upload_failed": video.upload_failed,
            "transcode_failed": video.transcode_failed,
            "created_at": video.created_at,
            "completed_at": video.completed_at,
            "deleted": video.deleted,
        }

    def newest_first(self) -> list[Video]:
        return sorted(self.videos.values(), key=lambda v: v.seq, reverse=True)


def trim(value: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """``?fields=uri,upload.status``: only the named fields (dotted paths reach inside objects); unknown ones drop."""
    if not fields or not fields.strip():
        return value
    out: dict[str, Any] = {}
    for path in (p.strip() for p in fields.split(",")):
        if not path:
            continue
        source: Any = value
        target = out
        keys = path.split(".")
        for i, key in enumerate(keys):
            if not isinstance(source, dict) or key not in source:
                break
            if i == len(keys) - 1:
                target[key] = source[key]
                break
            source = source[key]
            nested = target.setdefault(key, {})
            if not isinstance(nested, dict):  # already taken whole by a shorter path
                break
            target = nested
    return out

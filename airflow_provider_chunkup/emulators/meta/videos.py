"""Meta's videos and Instagram containers: their bytes, windows, phases and the status Graph shows.

A Graph video (``/videos``, ``/advideos``) takes its bytes in server-dictated windows through ``transfer``; a
Page Reel and an Instagram container take them through rupload (``offset`` headers, kept as they arrive). The
processing clock runs from finish (Graph, Page Reels) or the last byte (Instagram) over ``processing_secs``
(``time.time()``); a fault drawn then makes it end in error.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.storage import COPY_BLOCK_BYTES
from .config import MetaEmulatorConfig

PROCESSING_FAULT = "meta_processing"
VIDEO_STATES = ("PUBLISHED", "DRAFT", "SCHEDULED")
MEDIA_TYPES = ("REELS", "STORIES", "VIDEO")

_ids = itertools.count(1)


def next_id(base: int) -> str:
    """A Graph-looking numeric id, unique in this process."""
    return str(base + next(_ids))


class MediaFile:
    """An upload's bytes on disk, appended in order and hashed as they come (never read whole)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self._digest = hashlib.sha256()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")

    def append_file(self, source: Path) -> int:
        """Copy ``source`` to the end (blocking: call from a thread); returns its size."""
        copied = 0
        with open(source, "rb") as src, open(self.path, "ab") as out:
            while block := src.read(COPY_BLOCK_BYTES):
                self._digest.update(block)
                out.write(block)
                copied += len(block)
        self.size += copied
        return copied

    def append(self, data: bytes) -> None:
        """Append bytes (blocking: call from a thread)."""
        with open(self.path, "ab") as out:
            out.write(data)
        self._digest.update(data)
        self.size += len(data)

    @property
    def sha256(self) -> str:
        return self._digest.copy().hexdigest()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class Processing:
    """The clock from the moment processing starts to ready (or error)."""

    started_at: float | None = None
    secs: float = 0.0
    fails: bool = False

    def start(self, secs: float, fails: bool) -> None:
        self.started_at, self.secs, self.fails = time.time(), secs, fails

    def progress(self) -> int:
        if self.started_at is None:
            return 0
        if self.secs <= 0:
            return 100
        elapsed = round(time.time() - self.started_at, 6)  # no float noise from large timestamps at the boundaries
        return min(100, int(100 * elapsed / self.secs))

    def state(self) -> str:
        """``not_started``, ``in_progress``, ``complete`` or ``error``."""
        if self.started_at is None:
            return "not_started"
        if self.progress() < 100:
            return "in_progress"
        return "error" if self.fails else "complete"


@dataclass
class Video:
    """A Graph video (``kind`` ``page`` or ``advideo``: windows) or a Page Reel (``reel``: rupload)."""

    id: str
    kind: str
    parent: str
    media: MediaFile
    file_size: int | None
    session_id: str = ""
    window: tuple[int, int] = (0, 0)
    windows: list[list[int]] = field(default_factory=list)
    transfers: int = 0
    lost: bool = False
    finished: bool = False
    fields: dict[str, str] = field(default_factory=dict)
    processing: Processing = field(default_factory=Processing)
    created_at: float = field(default_factory=lambda: time.time())
    #: When the session was last used (start or a transfer), for ``session_idle_secs``.
    active_at: float = field(default_factory=lambda: time.time())

    @property
    def uploaded(self) -> bool:
        return self.file_size is not None and self.media.size == self.file_size

    def video_status(self) -> str:
        state = self.processing.state()
        if state == "complete":
            return "ready"
        return "error" if state == "error" else "processing"

    def status(self) -> dict[str, Any]:
        """``status`` as Graph shows it."""
        processing = self.processing.state()
        published = self.fields.get("published", "true") != "false" and self.fields.get("video_state") != "DRAFT"
        publishing = "complete" if processing == "complete" and published else "not_started"
        uploading: dict[str, Any] = {"status": "complete" if self.finished or self.uploaded else "in_progress"}
        if self.kind == "reel":
            uploading["bytes_transferred"] = self.media.size
        return {
            "video_status": self.video_status(),
            "processing_progress": self.processing.progress(),
            "uploading_phase": uploading,
            "processing_phase": {"status": processing},
            "publishing_phase": {"status": publishing},
        }

    def inspect(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "parent": self.parent, "file_size": self.file_size,
            "bytes": self.media.size, "sha256": self.media.sha256, "upload_session_id": self.session_id,
            "windows": [list(w) for w in self.windows], "windows_served": len(self.windows),
            "transfers": self.transfers, "lost": self.lost, "finished": self.finished,
            "phase": self.phase(), **self.fields,
        }  # fmt: skip

    def phase(self) -> str:
        if self.lost:
            return "lost"
        if not self.finished:
            return "uploading"
        return {"complete": "ready", "error": "error"}.get(self.processing.state(), "processing")


@dataclass
class Container:
    """An Instagram media container: rupload bytes, then processing, then publish (or expiry)."""

    id: str
    ig_user: str
    media_type: str
    caption: str
    media: MediaFile
    expiry_secs: int
    file_size: int | None = None
    processing: Processing = field(default_factory=Processing)
    published_id: str | None = None
    created_at: float = field(default_factory=lambda: time.time())

    def status_code(self) -> str:
        if self.published_id is not None:
            return "PUBLISHED"
        state = self.processing.state()
        if state == "error":
            return "ERROR"
        if time.time() >= self.created_at + self.expiry_secs:
            return "EXPIRED"
        return "FINISHED" if state == "complete" else "IN_PROGRESS"

    def fields(self) -> dict[str, Any]:
        code = self.status_code()
        status = {
            "IN_PROGRESS": "In Progress: the media is being uploaded or processed.",
            "FINISHED": "Finished: the media is ready to be published.",
            "PUBLISHED": "Published: the media has been published.",
            "ERROR": "Error: the media could not be processed.",
            "EXPIRED": "Expired: the container was not published within 24 hours.",
        }[code]
        done = self.file_size is not None and self.media.size == self.file_size
        uploading = {"status": "complete" if done else "in_progress", "bytes_transferred": self.media.size}
        return {"status_code": code, "status": status, "media_type": self.media_type, "caption": self.caption,
                "video_status": {"uploading_phase": uploading,
                                 "processing_phase": {"status": self.processing.state()}}}  # fmt: skip

    def inspect(self) -> dict[str, Any]:
        return {"id": self.id, "ig_user": self.ig_user, "file_size": self.file_size, "bytes": self.media.size,
                "sha256": self.media.sha256, "published_id": self.published_id, **self.fields()}  # fmt: skip


def trim(body: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """Graph's ``?fields=a,b``: the id plus those fields (unknown ones left out)."""
    if not fields:
        return body
    wanted = {name.strip() for name in fields.split(",") if name.strip()}
    return {k: v for k, v in body.items() if k == "id" or k in wanted}


class MetaStore:
    """Every video and container of the front door, with its counts."""

    def __init__(self, config: Callable[[], MetaEmulatorConfig], roll: Callable[[float, str], bool],
                 root: Path) -> None:  # fmt: skip
        self.config = config
        self.roll = roll
        self.root = root
        self.videos: dict[str, Video] = {}
        self.sessions: dict[str, Video] = {}
        self.containers: dict[str, Container] = {}
        self.counts: dict[str, int] = {}

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def new_media(self, object_id: str) -> MediaFile:
        return MediaFile(self.root / f"{object_id}.bin")

    def start_processing(self, processing: Processing) -> None:
        config = self.config()
        processing.start(config.processing_secs, self.roll(config.processing_failure_rate, PROCESSING_FAULT))

    def forget_all(self) -> None:
        for video in self.videos.values():
            video.media.discard()
        for container in self.containers.values():
            container.media.discard()
        self.videos.clear()
        self.sessions.clear()
        self.containers.clear()
        self.counts.clear()

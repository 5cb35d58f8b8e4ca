"""api.video videos: containers, their source uploads, and encoding that follows the clock.

Everything here runs on the server's event loop, so plain dicts need no locks: checking a piece
against the rules and recording it happen without an ``await`` in between, so two concurrent
requests for the same part cannot both be accepted. The one ``await`` that matters is the final
assembly; it runs as its own task (shielded from the request that triggered it), so a client
that hangs up at that moment cannot leave a video with every part but no file.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread

from ..core.storage import SpoolFile, Storage
from .auth import iso_time, new_id
from .config import ApiVideoEmulatorConfig
from .errors import ApiVideoError
from .upload import PART, STORAGE_AREA, ContentRange, PrefixAssembly, SourceUpload

#: ``video-creation-payload`` fields and the JSON type each must have.
CREATION_FIELDS: dict[str, type | tuple[type, ...]] = {
    "title": str,
    "description": str,
    "source": str,
    "public": bool,
    "panoramic": bool,
    "mp4Support": bool,
    "playerId": str,
    "tags": list,
    "metadata": list,
    "clip": dict,
    "watermark": dict,
    "language": (str, type(None)),
    "transcript": bool,
    "transcriptSummary": bool,
    "transcriptSummaryAttributes": list,
}
TYPE_NAMES = {str: "a string", bool: "a boolean", list: "an array", dict: "an object"}
#: Every field of the spec's encoding ``metadata``: the emulator decodes no media, so all stay null.
ENCODING_METADATA_KEYS = (
    "width", "height", "bitrate", "duration", "framerate", "samplerate", "videoCodec", "audioCodec", "aspectRatio",
)  # fmt: skip
ENCODING_OUTCOMES = ("encoded", "failed")


def creation_fields(body: Any) -> dict[str, Any]:
    """Check a ``POST /videos`` body against ``video-creation-payload``; returns it."""
    if not isinstance(body, dict):
        raise ApiVideoError("invalid-payload", detail="The body must be a JSON object.")
    for name, value in body.items():
        expected = CREATION_FIELDS.get(name)
        if expected is None:
            raise ApiVideoError("invalid-attribute", name=name, detail=f"The attribute {name!r} does not exist.")
        if (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected):
            kind = TYPE_NAMES.get(expected if isinstance(expected, type) else str, "valid")
            raise ApiVideoError("invalid-attribute", name=name, detail=f"This attribute must be {kind}.")
    if "title" not in body:
        raise ApiVideoError("attribute-required", name="title")
    for name in ("tags", "transcriptSummaryAttributes"):
        if not all(isinstance(v, str) for v in body.get(name, [])):
            raise ApiVideoError("invalid-attribute", name=name, detail="This attribute must be an array of strings.")
    for entry in body.get("metadata", []):
        pair = isinstance(entry, dict) and set(entry) == {"key", "value"}
        if not (pair and all(isinstance(v, str) for v in entry.values())):
            raise ApiVideoError(
                "invalid-attribute", name="metadata",
                detail='This attribute must be an array of {"key": string, "value": string}.',
            )  # fmt: skip
    return body


@dataclass
class Video:
    """One video container and what was uploaded to it."""

    id: str
    title: str
    created_at: float
    seq: int
    description: str = ""
    public: bool = True
    panoramic: bool = False
    mp4_support: bool = True
    player_id: str | None = None
    tags: list[str] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)
    language: str | None = None
    #: Accepted creation fields the Video object does not echo (clip, watermark, transcript...).
    extra: dict[str, Any] = field(default_factory=dict)
    created_by_token: str | None = None
    updated_at: float = 0.0
    upload: SourceUpload = field(default_factory=SourceUpload)
    assembly: PrefixAssembly | None = field(default=None, repr=False)
    completion: asyncio.Task[None] | None = field(default=None, repr=False)
    completed_at: float | None = None
    size: int | None = None
    sha256: str | None = None
    path: Path | None = None
    encoding_override: str | None = None
    #: Drawn when the upload completes, from ``encoding_failure_rate``.
    encoding_failure_injected: bool = False
    deleted: bool = False

    @property
    def uploaded(self) -> bool:
        return self.upload.state == "uploaded"


class VideoStore:
    """All videos of one emulator, keyed by videoId (deleted ones kept, flagged, for inspection)."""

    def __init__(
        self,
        storage: Storage,
        config: Callable[[], ApiVideoEmulatorConfig],
        chance: Callable[[float, str], bool] | None = None,
    ) -> None:
        self.storage = storage
        self._config = config
        #: ``FaultInjector.roll``: whether a fault happens at a rate, from the seeded sequence.
        self._chance = chance or (lambda rate, kind: False)
        self._seq = itertools.count()
        self.videos: dict[str, Video] = {}

    @property
    def config(self) -> ApiVideoEmulatorConfig:
        return self._config()

    # -- containers -----------------------------------------------------------------------------

    def create(self, fields: dict[str, Any], created_by_token: str | None = None) -> Video:
        """A new container from checked ``video-creation-payload`` fields."""
        now = time.time()
        echoed = {"title", "description", "public", "panoramic", "mp4Support", "playerId", "tags", "metadata"}
        video = Video(
            id=new_id("vi"),
            title=fields["title"],
            created_at=now,
            updated_at=now,
            seq=next(self._seq),
            description=fields.get("description", ""),
            public=fields.get("public", True),
            panoramic=fields.get("panoramic", False),
            mp4_support=fields.get("mp4Support", True),
            player_id=fields.get("playerId"),
            tags=list(fields.get("tags", [])),
            metadata=[dict(m) for m in fields.get("metadata", [])],
            language=fields.get("language"),
            extra={k: v for k, v in fields.items() if k not in echoed | {"language"}},
            created_by_token=created_by_token,
        )
        self.videos[video.id] = video
        return video

    def get(self, video_id: str) -> Video:
        video = self.videos.get(video_id)
        if video is None or video.deleted:
            raise ApiVideoError.not_found("videoId", video_id)
        return video

    def delete(self, video_id: str) -> None:
        """``DELETE /videos/{id}``: the video is gone for the API, and so are its bytes."""
        video = self.get(video_id)
        video.deleted = True
        video.updated_at = time.time()
        self._discard_files(video)

    def _discard_files(self, video: Video) -> None:
        def cleanup() -> None:
            self.storage.discard_upload(STORAGE_AREA, video.id)

        if video.assembly is not None:
            video.assembly.cancel(cleanup)
        else:
            cleanup()

    # -- source upload --------------------------------------------------------------------------

    def precheck(self, video: Video, rng: ContentRange | None) -> None:
        """Refuse what the headers already show is wrong, before reading megabytes of body."""
        video.upload.check(rng, None, self.config)

    async def receive(self, video_id: str, rng: ContentRange | None, spool: SpoolFile) -> tuple[Video, bool]:
        """Check and store one piece; returns the video and whether this piece completed it.

        The completing piece waits for the assembled file, so the answer (the full Video) is
        only sent once the source is ``uploaded``.
        """
        video = self.get(video_id)  # again: it may have been deleted while the body arrived
        upload = video.upload
        upload.check(rng, spool.size, self.config)
        key = rng.part if rng is not None and rng.mode == PART else rng.start if rng is not None else 0
        self.storage.commit_segment(spool, STORAGE_AREA, video.id, key)
        upload.add(rng, spool.size)
        video.updated_at = time.time()
        if video.assembly is None:
            video.assembly = PrefixAssembly(self.storage, video.id, upload.first_key, upload.successor)
        video.assembly.committed(upload.pieces)
        if not upload.complete:
            return video, False
        upload.state = "assembling"
        video.completion = asyncio.get_running_loop().create_task(self._complete(video))
        await asyncio.shield(video.completion)
        return video, True

    async def _complete(self, video: Video) -> None:
        assert video.assembly is not None
        try:
            assembled = await video.assembly.finish(video.upload.pieces)
        except BaseException:
            video.upload.state = "uploading"
            raise
        if video.deleted:
            self._discard_files(video)
            return
        video.path, video.size, video.sha256 = assembled.path, assembled.size, assembled.sha256
        video.completed_at = video.updated_at = time.time()
        video.upload.state = "uploaded"
        if video.encoding_override is None:
            video.encoding_failure_injected = self._chance(self.config.encoding_failure_rate, "encoding_failure")
        await anyio.to_thread.run_sync(self.storage.discard_segments, STORAGE_AREA, video.id)

    # -- encoding -------------------------------------------------------------------------------

    def encoding_outcome(self, video: Video) -> str:
        injected = "failed" if video.encoding_failure_injected else None
        return video.encoding_override or injected or self.config.encoding_outcome

    def qualities(self, video: Video, now: float | None = None) -> list[dict[str, str]]:
        """Quality statuses by the time since the upload completed (empty before that).

        The lowest quality starts at once and is encoded at ``playable_after_secs``; the others
        follow one at a time, the highest done at ``encoding_seconds``. With the ``failed``
        outcome the highest quality ends ``failed``.
        """
        if video.completed_at is None:
            return []
        config = self.config
        elapsed = (time.time() if now is None else now) - video.completed_at
        total = max(config.encoding_seconds, 0.0)
        playable = min(max(config.playable_after_secs, 0.0), total)
        names = list(config.qualities)
        n = len(names)
        # One quality alone has nothing to spread over: it is done at the end.
        done_at = [total] if n == 1 else [playable + (total - playable) * i / (n - 1) for i in range(n)]
        failing = self.encoding_outcome(video) == "failed"
        statuses: list[str] = []
        for i in range(n):
            if elapsed >= done_at[i]:
                statuses.append("failed" if failing and i == n - 1 else "encoded")
            elif i == 0 or elapsed >= done_at[i - 1]:
                statuses.append("encoding")
            else:
                statuses.append("waiting")
        types = ["hls", "mp4"] if video.mp4_support else ["hls"]
        return [{"type": t, "quality": q, "status": s} for t in types for q, s in zip(names, statuses, strict=True)]

    def encoding_state(self, video: Video, now: float | None = None) -> dict[str, Any]:
        """The ``encoding`` object of ``/status``: playable once an HLS quality is encoded."""
        qualities = self.qualities(video, now)
        playable = any(q["type"] == "hls" and q["status"] == "encoded" for q in qualities)
        return {"playable": playable, "qualities": qualities, "metadata": dict.fromkeys(ENCODING_METADATA_KEYS)}

    def set_encoding_override(self, video_id: str, outcome: str) -> Video:
        if outcome not in ENCODING_OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(ENCODING_OUTCOMES)}")
        video = self.videos.get(video_id)
        if video is None:
            raise ApiVideoError.not_found("videoId", video_id)
        video.encoding_override = outcome
        return video

    # -- views ----------------------------------------------------------------------------------

    def ingest_state(self, video: Video) -> dict[str, Any]:
        """The ``ingest`` object of ``/status``."""
        upload = video.upload
        filesize = upload.filesize
        ranges = []
        for start, end in upload.received_ranges():
            entry: dict[str, int] = {"from": start, "to": end}
            if filesize is not None:  # the spec's ``total`` is not nullable: left out while unknown
                entry["total"] = filesize
            ranges.append(entry)
        ingest: dict[str, Any] = {
            "status": "uploaded" if video.uploaded else "uploading",
            "filesize": filesize,
            "receivedBytes": ranges,
        }
        if upload.mode == PART:
            ingest["receivedParts"] = {"parts": sorted(upload.pieces), "total": upload.total}
        return ingest

    def video_json(self, video: Video, base_url: str) -> dict[str, Any]:
        """The spec's ``video`` object; asset URLs point at the emulator itself."""
        vod = f"{base_url}/_emulator/apivideo/vod/{video.id}"
        player = f"{base_url}/_emulator/apivideo/embed/vod/{video.id}"
        assets = {
            "iframe": f'<iframe src="{player}" width="100%" height="100%" frameborder="0" scrolling="no" '
            'allowfullscreen=""></iframe>',
            "player": player,
            "hls": f"{vod}/hls/manifest.m3u8",
            "thumbnail": f"{vod}/thumbnail.jpg",
        }
        if video.mp4_support:
            assets["mp4"] = f"{vod}/mp4/source.mp4"
        body: dict[str, Any] = {
            "videoId": video.id,
            "createdAt": iso_time(video.created_at),
            "updatedAt": iso_time(video.updated_at),
            "publishedAt": iso_time(video.created_at),
            "title": video.title,
            "description": video.description,
            "language": video.language,
            "languageOrigin": "api" if video.language else None,
            "tags": list(video.tags),
            "metadata": [dict(m) for m in video.metadata],
            "public": video.public,
            "panoramic": video.panoramic,
            "mp4Support": video.mp4_support,
            "discarded": False,
            "discardedAt": None,
            "deletesAt": None,
            "source": {"uri": f"/videos/{video.id}/source"},
            "assets": assets,
        }
        if video.player_id is not None:
            body["playerId"] = video.player_id
        return body

    def inspect(self, video: Video) -> dict[str, Any]:
        """Everything a test wants to know about a video (not an api.video response)."""
        upload = video.upload
        qualities = self.qualities(video)
        statuses = {q["status"] for q in qualities}
        encoding = None
        if qualities:
            encoding = "failed" if "failed" in statuses else "encoded" if statuses == {"encoded"} else "encoding"
        return {
            "videoId": video.id,
            "title": video.title,
            "mode": upload.mode,
            "total_bytes": upload.filesize,
            "total_parts": upload.total if upload.mode == PART else None,
            "received_bytes": upload.received_bytes,
            "parts": sorted(upload.pieces) if upload.mode == PART else [],
            "ranges": [list(r) for r in upload.received_ranges()] if upload.mode != PART else [],
            "state": upload.state,
            "complete": video.uploaded,
            "size": video.size,
            "sha256": video.sha256,
            "path": str(video.path) if video.path and not video.deleted else None,
            "created_by_token": video.created_by_token,
            "deleted": video.deleted,
            "created_at": video.created_at,
            "completed_at": video.completed_at,
            "encoding": encoding,
            "encoding_outcome": self.encoding_outcome(video),
            "encoding_failure_injected": video.encoding_failure_injected,
        }

    def listing(self) -> list[dict[str, Any]]:
        """Short entries, newest first."""
        entries = sorted(self.videos.values(), key=lambda v: v.seq, reverse=True)
        keys = ("videoId", "title", "mode", "state", "complete", "deleted", "created_by_token", "created_at")
        return [{k: info[k] for k in keys} for info in map(self.inspect, entries)]

    def forget_all(self) -> None:
        """Drop every video and its files."""
        for video in self.videos.values():
            video.deleted = True  # an assembly still running discards its file when it ends
            self._discard_files(video)
        self.videos.clear()

"""X media uploads: the state shared by the v2 and v1.1 routes, and the rules they both follow.

Routes parse requests and render responses; this module decides. Everything here runs on the
server's event loop (one thread), so plain dicts need no locks; the only ``await`` inside an
operation is the assembly at FINALIZE, and the media is marked ``finalizing`` before it, so an
APPEND racing with FINALIZE is refused rather than lost.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread

from ..core.assembly import BackgroundAssembly
from ..core.sniff import SNIFF_BYTES, image_size
from ..core.storage import AssembledFile, SpoolFile, Storage
from .config import XEmulatorConfig

STORAGE_AREA = "x"

MEDIA_TYPES = (
    "video/mp4", "video/webm", "video/mp2t", "video/quicktime",
    "text/srt", "text/vtt",
    "image/jpeg", "image/gif", "image/bmp", "image/png", "image/webp", "image/pjpeg", "image/tiff",
    "model/gltf-binary", "model/vnd.usdz+zip",
)  # fmt: skip
MEDIA_CATEGORIES = (
    "amplify_video", "tweet_gif", "tweet_image", "tweet_video", "dm_gif", "dm_image", "dm_video", "subtitles",
)  # fmt: skip
IMAGE_CATEGORIES = frozenset({"tweet_image", "dm_image"})
GIF_CATEGORIES = frozenset({"tweet_gif", "dm_gif"})
VIDEO_CATEGORIES = frozenset({"tweet_video", "dm_video", "amplify_video"})
#: Categories X transcodes after FINALIZE (``processing_info`` appears).
PROCESSED_CATEGORIES = GIF_CATEGORIES | VIDEO_CATEGORIES
#: ``total_bytes`` maximum from X's spec (16 GiB).
MAX_TOTAL_BYTES = 17_179_869_184
MAX_SEGMENT_INDEX = 999
MAX_ADDITIONAL_OWNERS = 100
ID_PATTERN = re.compile(r"^[0-9]{1,19}$")
#: v1.1 refuses to finalize large unprocessed videos ("Large file can not be finalized
#: synchronously"); 15 MB is the old synchronous video limit.
V11_SYNC_VIDEO_LIMIT = 15 * 1024 * 1024
SEGMENTS_MISMATCH = "Segments do not add up to provided total file size."


class XMediaError(Exception):
    """A request X would refuse. Routes render it as a v2 problem or a v1.1 ``errors`` body.

    ``v11_code`` is the v1.1 error code: 38 for a missing parameter, 44 for an invalid one, 324
    for problems with the media itself.
    """

    def __init__(
        self,
        detail: str,
        *,
        parameter: str | None = None,
        value: Any = None,
        status: int = 400,
        v11_code: int = 324,
        resource_id: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.parameter = parameter
        self.value = value
        self.status = status
        self.v11_code = v11_code
        self.resource_id = resource_id

    @classmethod
    def missing(cls, parameter: str) -> XMediaError:
        return cls(f"{parameter} parameter is missing.", parameter=parameter, v11_code=38)

    @classmethod
    def invalid(cls, parameter: str, value: Any, why: str) -> XMediaError:
        return cls(f"Invalid {parameter}: {why}", parameter=parameter, value=value, v11_code=44)

    @classmethod
    def not_found(cls, media_id: str) -> XMediaError:
        return cls(
            f"Could not find media with id: [{media_id}].",
            parameter="id", value=media_id, status=404, resource_id=media_id,
        )  # fmt: skip


def category_for(media_type: str, media_category: str | None) -> str | None:
    """The category X applies: the one sent, else inferred from the media type's family."""
    if media_category:
        return media_category
    if media_type == "image/gif":
        return "tweet_gif"
    family = media_type.split("/", 1)[0]
    return {"image": "tweet_image", "video": "tweet_video", "text": "subtitles"}.get(family)


def media_key_prefix(category: str | None) -> str:
    """X's media key type prefix: 3 photo, 7 video, 13 amplify video, 16 animated GIF."""
    if category in GIF_CATEGORIES:
        return "16"
    if category == "amplify_video":
        return "13"
    if category in VIDEO_CATEGORIES:
        return "7"
    # Photos; X documents no prefix for subtitles or 3D models, so they share the photo one.
    return "3"


class SnowflakeIds:
    """19-digit, time-ordered, unique ids shaped like X's (Twitter epoch, worker, sequence)."""

    TWITTER_EPOCH_MS = 1_288_834_974_657

    def __init__(self) -> None:
        self._worker = random.randrange(1024)
        self._last_ms = 0
        self._sequence = 0

    def next_id(self) -> str:
        now_ms = int(time.time() * 1000)
        if now_ms <= self._last_ms:
            now_ms = self._last_ms
            self._sequence += 1
            if self._sequence >= 4096:
                now_ms += 1
                self._sequence = 0
        else:
            self._sequence = 0
        self._last_ms = now_ms
        return str(((now_ms - self.TWITTER_EPOCH_MS) << 22) | (self._worker << 12) | self._sequence)


@dataclass
class XMedia:
    """One upload, from INIT to (maybe) processed media."""

    id: str
    media_key: str
    media_type: str
    media_category: str | None
    category: str | None
    total_bytes: int
    shared: bool
    additional_owners: list[str]
    needs_processing: bool
    created_at: float
    expires_at: float
    segments: dict[int, int] = field(default_factory=dict)
    state: str = "uploading"  # uploading -> finalizing -> finalized
    finalized_at: float | None = None
    size: int | None = None
    sha256: str | None = None
    path: Path | None = None
    image_dimensions: tuple[int, int] | None = None
    processing_override: dict[str, Any] | None = None
    #: Drawn at FINALIZE from ``processing_failure_rate``.
    processing_failure_injected: bool = False
    assembly: BackgroundAssembly | None = field(default=None, repr=False)
    #: What ``POST /2/media/metadata`` (or v1.1 ``media/metadata/create``) last set, as sent.
    metadata: dict[str, Any] = field(default_factory=dict)
    #: Subtitle tracks of a video by language code: ``{media_id, language_code, display_name}``.
    subtitles: dict[str, dict[str, str]] = field(default_factory=dict)

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at

    def expires_after_secs(self, now: float | None = None) -> int:
        return max(math.ceil(self.expires_at - (time.time() if now is None else now)), 0)

    @property
    def received_bytes(self) -> int:
        return sum(self.segments.values())


class XMediaStore:
    """All X uploads of one emulator, keyed by media id."""

    def __init__(
        self,
        storage: Storage,
        config: Callable[[], XEmulatorConfig],
        chance: Callable[[float, str], bool] | None = None,
    ) -> None:
        self.storage = storage
        self._config = config
        #: ``FaultInjector.roll``: whether a fault happens at a rate, from the seeded sequence.
        self._chance = chance or (lambda rate, kind: False)
        self._ids = SnowflakeIds()
        self.media: dict[str, XMedia] = {}

    @property
    def config(self) -> XEmulatorConfig:
        return self._config()

    # -- INIT ---------------------------------------------------------------------------------

    def initialize(
        self,
        *,
        media_type: str,
        media_category: str | None,
        total_bytes: int,
        shared: bool = False,
        additional_owners: list[str] | None = None,
        processing_needs_category: bool = False,
    ) -> XMedia:
        """Validate INIT values and open an upload session.

        ``processing_needs_category`` is v1.1's rule: only uploads that sent ``media_category``
        are processed asynchronously; v2 processes every video and GIF.
        """
        if media_type not in MEDIA_TYPES:
            raise XMediaError.invalid("media_type", media_type, f"must be one of {', '.join(MEDIA_TYPES)}")
        if media_category is not None and media_category not in MEDIA_CATEGORIES:
            raise XMediaError.invalid("media_category", media_category, f"must be one of {', '.join(MEDIA_CATEGORIES)}")
        if not 0 <= total_bytes <= MAX_TOTAL_BYTES:
            raise XMediaError.invalid("total_bytes", total_bytes, f"must be between 0 and {MAX_TOTAL_BYTES}")
        owners = additional_owners or []
        for owner in owners:
            if not ID_PATTERN.match(owner):
                raise XMediaError.invalid("additional_owners", owner, "user ids must match ^[0-9]{1,19}$")
        if len(owners) > MAX_ADDITIONAL_OWNERS:
            raise XMediaError.invalid("additional_owners", len(owners), f"at most {MAX_ADDITIONAL_OWNERS} owners")
        category = category_for(media_type, media_category)
        config = self.config
        limit = config.size_limits.get(category or "")
        if config.enforce_size_limits and limit is not None and total_bytes > limit:
            raise XMediaError(
                f"File size exceeds {limit} bytes (the limit for {category}).",
                parameter="total_bytes", value=total_bytes,
            )  # fmt: skip
        processed = category in PROCESSED_CATEGORIES
        if processing_needs_category:
            processed = processed and media_category is not None
        media_id = self._ids.next_id()
        now = time.time()
        media = XMedia(
            id=media_id,
            media_key=f"{media_key_prefix(category)}_{media_id}",
            media_type=media_type,
            media_category=media_category,
            category=category,
            total_bytes=total_bytes,
            shared=shared,
            additional_owners=owners,
            needs_processing=processed,
            created_at=now,
            expires_at=now + config.expires_after_secs,
            assembly=BackgroundAssembly(self.storage, STORAGE_AREA, media_id),
        )
        self.media[media_id] = media
        return media

    # -- lookups ------------------------------------------------------------------------------

    def get(self, media_id: str) -> XMedia:
        if not ID_PATTERN.match(media_id):
            raise XMediaError.invalid("id", media_id, "must match ^[0-9]{1,19}$")
        media = self.media.get(media_id)
        if media is None:
            raise XMediaError.not_found(media_id)
        return media

    def get_open(self, media_id: str) -> XMedia:
        """The media if it still accepts segments or FINALIZE."""
        media = self.get(media_id)
        if media.expired():
            raise XMediaError(
                f"The upload session for media {media_id} expired; initialize a new upload.",
                parameter="id", value=media_id,
            )  # fmt: skip
        if media.state != "uploading":
            raise XMediaError(
                f"Media {media_id} is already finalized; it accepts no more segments or FINALIZE.",
                parameter="id", value=media_id,
            )  # fmt: skip
        return media

    def get_finalized(self, media_id: str) -> XMedia:
        media = self.get(media_id)
        if media.state != "finalized":
            raise XMediaError(
                f"Media {media_id} is not finalized yet; FINALIZE it before asking for its status.",
                parameter="media_id", value=media_id,
            )  # fmt: skip
        if media.expired():
            raise XMediaError(f"Media {media_id} expired.", parameter="media_id", value=media_id)
        return media

    # -- APPEND -------------------------------------------------------------------------------

    def check_segment_index(self, raw: Any) -> int:
        """``segment_index`` as an int in 0..999 (accepts a decimal string from a form)."""
        if isinstance(raw, bool):
            raise XMediaError.invalid("segment_index", raw, "must be an integer")
        if isinstance(raw, str):
            if not re.fullmatch(r"[0-9]{1,10}", raw.strip()):
                raise XMediaError.invalid("segment_index", raw, "must be an integer")
            raw = int(raw)
        if not isinstance(raw, int):
            raise XMediaError.invalid("segment_index", raw, "must be an integer")
        if not 0 <= raw <= MAX_SEGMENT_INDEX:
            raise XMediaError.invalid("segment_index", raw, f"must be between 0 and {MAX_SEGMENT_INDEX}")
        return raw

    def append(self, media_id: str, segment_index: int, spool: SpoolFile) -> XMedia:
        """Store a received segment as ``segment_index``, replacing an earlier copy."""
        limit = self.config.max_segment_bytes
        if spool.overflowed or spool.size > limit:
            raise XMediaError(
                f"Segment is {spool.size} bytes; the maximum is {limit} bytes.",
                parameter="media", value=str(spool.size),
            )  # fmt: skip
        if spool.size == 0:
            raise XMediaError("Segment is empty.", parameter="media", value="")
        # Checked again: the session may have expired or been finalized while the body arrived.
        media = self.get_open(media_id)
        media.segments[segment_index] = self.storage.commit_segment(spool, STORAGE_AREA, media_id, segment_index)
        if media.assembly is not None:
            media.assembly.committed(segment_index, media.segments)
        return media

    # -- FINALIZE -----------------------------------------------------------------------------

    async def finalize(self, media_id: str, sync_size_limit: int | None = None) -> XMedia:
        """Check the segments, join them into one file and start processing.

        ``sync_size_limit``: v1.1 refuses unprocessed videos larger than this.
        """
        media = self.get_open(media_id)
        indexes = sorted(media.segments)
        if indexes != list(range(len(indexes))) or media.received_bytes != media.total_bytes:
            raise XMediaError(SEGMENTS_MISMATCH, parameter="id", value=media_id)
        if (
            sync_size_limit is not None
            and not media.needs_processing
            and media.category in PROCESSED_CATEGORIES
            and media.total_bytes > sync_size_limit
        ):
            raise XMediaError("Large file can not be finalized synchronously.", parameter="media_id")
        media.state = "finalizing"
        try:
            assembly, media.assembly = media.assembly, None
            assembled = await assembly.result(len(indexes)) if assembly is not None else None
            if assembled is None:
                assembled = await anyio.to_thread.run_sync(self.storage.assemble, STORAGE_AREA, media.id, indexes)
            await anyio.to_thread.run_sync(self._after_assembly, media, assembled)
        except BaseException:
            media.state = "uploading"
            raise
        media.path, media.size, media.sha256 = assembled.path, assembled.size, assembled.sha256
        media.finalized_at = time.time()
        media.state = "finalized"
        if media.needs_processing and media.processing_override is None:
            rate = self.config.processing_failure_rate
            media.processing_failure_injected = self._chance(rate, "processing_failure")
        return media

    def _after_assembly(self, media: XMedia, assembled: AssembledFile) -> None:
        self.storage.discard_segments(STORAGE_AREA, media.id)
        if media.category in IMAGE_CATEGORIES:
            media.image_dimensions = image_size(self.storage.read_head(assembled.path, SNIFF_BYTES))

    # -- processing ---------------------------------------------------------------------------

    def processing_info(self, media: XMedia, now: float | None = None) -> dict[str, Any] | None:
        """``processing_info`` as of now; None for media that needs no processing."""
        if not media.needs_processing or media.finalized_at is None:
            return None
        config = self.config
        elapsed = (time.time() if now is None else now) - media.finalized_at
        duration = config.processing_seconds
        if duration > 0 and elapsed < duration / 4:
            return {"state": "pending", "check_after_secs": config.check_after_secs}
        if duration > 0 and elapsed < duration:
            percent = min(max(int(100 * elapsed / duration), 1), 99)
            return {"state": "in_progress", "check_after_secs": config.check_after_secs, "progress_percent": percent}
        override = media.processing_override or {}
        outcome = "failed" if media.processing_failure_injected else config.processing_outcome
        if override.get("outcome", outcome) == "failed":
            return {"state": "failed", "error": dict(override.get("error") or config.processing_error)}
        return {"state": "succeeded", "progress_percent": 100}

    def processing_state(self, media: XMedia) -> str | None:
        """The processing state for inspection: None before FINALIZE."""
        if media.state != "finalized":
            return None
        info = self.processing_info(media)
        return "succeeded" if info is None else info["state"]

    def media_details(self, media: XMedia) -> dict[str, Any]:
        """``video``/``image`` objects X adds to FINALIZE and STATUS responses."""
        if media.category in VIDEO_CATEGORIES:
            return {"video": {"video_type": media.media_type}}
        if media.category in GIF_CATEGORIES:
            # X turns animated GIFs into MP4 video.
            return {"video": {"video_type": "video/mp4"}}
        if media.category in IMAGE_CATEGORIES:
            image: dict[str, Any] = {"image_type": media.media_type}
            if media.image_dimensions:
                image["w"], image["h"] = media.image_dimensions
            return {"image": image}
        return {}

    # -- control ------------------------------------------------------------------------------

    def expire(self, media_id: str) -> XMedia:
        media = self.get(media_id)
        media.expires_at = time.time()
        return media

    def set_processing_override(self, media_id: str, outcome: str, error: dict[str, Any] | None) -> XMedia:
        if outcome not in ("succeeded", "failed"):
            raise XMediaError.invalid("outcome", outcome, "must be 'succeeded' or 'failed'")
        media = self.get(media_id)
        media.processing_override = {"outcome": outcome, "error": error}
        return media

    def forget_all(self) -> None:
        """Drop every upload and its files."""
        for media in self.media.values():
            if media.assembly is not None:
                media.assembly.valid = False  # stop a background copy at its next segment
            self.storage.discard_upload(STORAGE_AREA, media.id)
        self.media.clear()

    def inspect(self, media: XMedia) -> dict[str, Any]:
        """Everything a test wants to know about an upload (not an X response)."""
        return {
            "id": media.id,
            "media_key": media.media_key,
            "media_type": media.media_type,
            "media_category": media.media_category,
            "total_bytes": media.total_bytes,
            "received_bytes": media.received_bytes,
            "segments_received": len(media.segments),
            "segment_indexes": sorted(media.segments),
            "finalized": media.state == "finalized",
            "size": media.size,
            "sha256": media.sha256,
            "processing_state": self.processing_state(media),
            "processing_failure_injected": media.processing_failure_injected,
            "created_at": media.created_at,
            "finalized_at": media.finalized_at,
            "expires_at": media.expires_at,
            "expired": media.expired(),
            "path": str(media.path) if media.path else None,
            "alt_text": (media.metadata.get("alt_text") or {}).get("text"),
            "metadata": media.metadata,
            "subtitles": list(media.subtitles.values()),
        }

    def listing(self) -> list[dict[str, Any]]:
        """Short entries, newest first."""
        # Snowflake ids grow with time, so they order uploads even within one clock tick.
        entries = sorted(self.media.values(), key=lambda m: int(m.id), reverse=True)
        return [
            {
                "id": m.id,
                "media_key": m.media_key,
                "created_at": m.created_at,
                "finalized_at": m.finalized_at,
                "state": "expired" if m.expired() and m.state != "finalized" else m.state,
                "processing_state": self.processing_state(m),
            }
            for m in entries
        ]

"""TikTok's posts: the init request's rules (chunk plan, post_info), errors in TikTok's shape, status over time.

Sources: ``/work/shared/api/meta-tiktok-linkedin.md`` (section 4). The chunk rule is TikTok's, not chunkup's
``ChunkPlan``: ``total_chunk_count = floor(video_size / chunk_size)`` and the remainder is merged into the
**last** chunk.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

#: Chunk sizes TikTok takes ("5 MB" to "64 MB"; MB being undefined, the safe bounds).
MIN_CHUNK = 5 * 1024 * 1024
MAX_CHUNK = 64_000_000
#: The last chunk (chunk plus remainder) may reach "128 MB".
MAX_LAST_CHUNK = 128_000_000
MAX_CHUNKS = 1000
MAX_TITLE = 2200
#: The upload URL's accepted media types.
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
#: The fault kind drawn when the last chunk arrives (``failure_rate``).
FAILED_FAULT = "tiktok_failed"
POST_INFO_FLAGS = ("disable_duet", "disable_comment", "disable_stitch", "brand_content_toggle",
                   "brand_organic_toggle", "is_aigc")  # fmt: skip


def log_id() -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time())) + uuid.uuid4().hex[:18].upper()


def tiktok_json(data: dict[str, Any], status: int = 200, code: str = "ok", message: str = "") -> Response:
    body = {"data": data, "error": {"code": code, "message": message, "log_id": log_id()}}
    return Response(json.dumps(body, separators=(",", ":")), status_code=status,
                    media_type="application/json; charset=UTF-8")  # fmt: skip


class TikTokError(Exception):
    """A refusal in TikTok's shape: ``{"data": {}, "error": {"code", "message", "log_id"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> Response:
        return tiktok_json({}, self.status, self.code, self.message)

    @classmethod
    def invalid(cls, message: str) -> TikTokError:
        return cls(400, "invalid_params", message)

    @classmethod
    def rate_limited(cls) -> TikTokError:
        return cls(429, "rate_limit_exceeded", "The API rate limit was exceeded. Please try again later.")


@dataclass(frozen=True)
class ChunkPlan:
    """TikTok's chunks: ``count`` of ``chunk_size``, the remainder merged into the last."""

    video_size: int
    chunk_size: int
    count: int

    def bounds(self, index: int) -> tuple[int, int]:
        """Chunk ``index``'s first and last byte (inclusive)."""
        first = index * self.chunk_size
        last = self.video_size - 1 if index == self.count - 1 else first + self.chunk_size - 1
        return first, last

    def to_json(self) -> list[list[int]]:
        return [list(self.bounds(i)) for i in range(self.count)]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def chunk_plan(source_info: Any) -> ChunkPlan:
    """The plan of a ``source_info``, checked exactly by TikTok's rule (400 "The chunk size is invalid")."""
    if not isinstance(source_info, dict):
        raise TikTokError.invalid("source_info is required: an object with source FILE_UPLOAD, video_size, "
                                  "chunk_size and total_chunk_count.")  # fmt: skip
    if source_info.get("source") != "FILE_UPLOAD":
        raise TikTokError.invalid("source_info.source must be FILE_UPLOAD (PULL_FROM_URL is not emulated).")
    size, chunk, count = (_int(source_info.get(k)) for k in ("video_size", "chunk_size", "total_chunk_count"))
    if size is None or chunk is None or count is None or size <= 0:
        raise TikTokError.invalid("source_info needs video_size, chunk_size and total_chunk_count as positive "
                                  "integers.")  # fmt: skip
    if not _chunks_valid(size, chunk, count):
        raise TikTokError.invalid("The chunk size is invalid")
    return ChunkPlan(size, chunk, count)


def _chunks_valid(size: int, chunk: int, count: int) -> bool:
    if size < MIN_CHUNK:
        return chunk == size and count == 1
    if not MIN_CHUNK <= chunk <= MAX_CHUNK or chunk > size:
        return False
    if count != size // chunk or not 1 <= count <= MAX_CHUNKS:
        return False
    last = size - (count - 1) * chunk
    return last <= MAX_LAST_CHUNK and (count > 1 or size <= MAX_CHUNK)


def post_info(body: Any, options: list[str], audited: bool) -> dict[str, Any]:
    """A direct post's ``post_info``: title, privacy_level from the creator's options, the flags."""
    if not isinstance(body, dict):
        raise TikTokError.invalid("post_info is required for a direct post: an object with privacy_level.")
    title = body.get("title", "")
    if not isinstance(title, str) or len(title) > MAX_TITLE:
        raise TikTokError.invalid(f"post_info.title must be a string of at most {MAX_TITLE} characters.")
    for flag in POST_INFO_FLAGS:
        if flag in body and not isinstance(body[flag], bool):
            raise TikTokError.invalid(f"post_info.{flag} must be a boolean.")
    if "video_cover_timestamp_ms" in body and _int(body["video_cover_timestamp_ms"]) is None:
        raise TikTokError.invalid("post_info.video_cover_timestamp_ms must be an integer.")
    privacy = body.get("privacy_level")
    if not isinstance(privacy, str) or not privacy:
        raise TikTokError.invalid("post_info.privacy_level is required: one of creator_info's "
                                  "privacy_level_options.")  # fmt: skip
    if privacy not in options:
        raise TikTokError(403, "privacy_level_option_mismatch",
                          f"privacy_level {privacy} is not among the creator's options {options}.")
    if not audited and privacy != "SELF_ONLY":
        raise TikTokError(403, "unaudited_client_can_only_post_to_private_accounts",
                          "Unaudited clients can only post with privacy_level SELF_ONLY.")
    return dict(body)


@dataclass
class Post:
    """One init: its plan, its upload URL's token and expiry, the chunks received, then its processing."""

    publish_id: str
    token: str
    kind: str  # "direct" or "inbox"
    plan: ChunkPlan
    upload_token: str
    created_at: float
    expires_at: float
    post_info: dict[str, Any] | None = None
    chunks_received: int = 0
    uploaded_bytes: int = 0
    completed_at: float | None = None
    sha256: str | None = None
    failed: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def next_bounds(self) -> tuple[int, int] | None:
        return self.plan.bounds(self.chunks_received) if self.chunks_received < self.plan.count else None

    def status(self, processing_secs: float) -> str:
        if self.completed_at is None:
            return "PROCESSING_UPLOAD"
        if time.time() < self.completed_at + processing_secs:
            return "PROCESSING_DOWNLOAD"
        if self.failed:
            return "FAILED"
        return "PUBLISH_COMPLETE" if self.kind == "direct" else "SEND_TO_USER_INBOX"

    def status_json(self, processing_secs: float) -> dict[str, Any]:
        status = self.status(processing_secs)
        data: dict[str, Any] = {"status": status, "uploaded_bytes": self.uploaded_bytes}
        if status == "FAILED":
            data["fail_reason"] = "internal"
        if status == "PUBLISH_COMPLETE":
            data["publicaly_available_post_id"] = [int(self.publish_id.rsplit(".", 1)[-1])]
        return data

    def inspect(self, processing_secs: float) -> dict[str, Any]:
        return {
            "publish_id": self.publish_id, "kind": self.kind, "status": self.status(processing_secs),
            "post_info": self.post_info, "video_size": self.plan.video_size, "chunk_size": self.plan.chunk_size,
            "total_chunk_count": self.plan.count, "chunks": self.plan.to_json(),
            "chunks_received": self.chunks_received, "uploaded_bytes": self.uploaded_bytes, "sha256": self.sha256,
            "fail_reason": "internal" if self.failed else None, "upload_url_expires_at": self.expires_at,
        }  # fmt: skip

"""The small JSON-safe records that travel between steps, tasks (XCom) and the task state store.

They carry ids, sizes, names and checksums; never a secret of the connection. One exception is named by its
protocol: a session whose remote upload is addressed by a credential URL (Google's session URI,
``Capabilities.secret_session``) holds it, and such a session goes to the task state store only, never to XCom.
"""

from __future__ import annotations

import ast
import bisect
import copy
import dataclasses
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.protocols.chunking import (
    FIXED,
    MERGED,
    PLAN_KINDS,
    SERVER_PARTS,
    SHORT_TAIL,
    WINDOWS,
    ChunkPlan,
    Plan,
    SegmentPlan,
    ShortTailPlan,
    WindowPlan,
    plan_floor_merged,
)

T = TypeVar("T", bound="_Record")


class _Record:
    """to_dict/from_dict for the dataclasses below, tolerant of XCom's string renderings."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], value: Mapping[str, Any] | str | T) -> T:
        """Accept an instance, a dict, or the dict's JSON or ``repr`` (what Jinja renders)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            value = _parse_mapping(value, cls.__name__)
        if not isinstance(value, Mapping):
            raise ConfigurationError(
                f"Expected a {cls.__name__} dict (the previous task's XCom), got {type(value).__name__}."
            )
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        missing = [f.name for f in dataclasses.fields(cls)  # type: ignore[arg-type]
                   if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                   and f.name not in value]
        if missing:
            raise ConfigurationError(
                f"{cls.__name__} is missing {', '.join(missing)}: pass the XCom of the previous chunkup "
                "task unchanged."
            )
        # A copy: the record changes as the upload goes on, and the caller's dict (the XCom) must not.
        return cls(**{k: copy.deepcopy(v) for k, v in value.items() if k in names})


def _parse_mapping(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as e:
        raise ConfigurationError(
            f"Cannot read the {what} from {text[:80]!r}: pass the previous task's output (XComArg), "
            "or set render_template_as_native_obj=True on the DAG when templating it."
        ) from e


@dataclass
class UploadSpec(_Record):
    """What the caller wants uploaded; the protocol validates it before any request."""

    total_bytes: int
    media_type: str | None = None
    media_category: str | None = None
    chunk_size: int | None = None
    source: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """API-specific fields (X: ``shared``, ``additional_owners``; api.video: ``title``...)."""


@dataclass
class UploadSession(_Record):
    """A remote upload in progress: enough to append, finalize or resume it from another task."""

    api: str
    media_id: str
    total_bytes: int
    chunk_size: int
    conn_id: str | None = None
    source: str | None = None
    source_conn_id: str | None = None
    """The Airflow connection the source is read with (S3, HTTP...), so later tasks can read it too."""
    source_host: str | None = None
    """The worker that opened the upload, for a local-file source: a task on another worker that cannot
    find the file names it."""
    media_type: str | None = None
    media_category: str | None = None
    media_key: str | None = None
    expires_at: float | None = None
    """Epoch seconds after which the platform forgets the upload."""
    remote: dict[str, Any] = field(default_factory=dict)
    """Protocol-specific ids and flags (dialect, upload_id...); a credential only where the protocol's
    ``Capabilities.secret_session`` says so."""
    digests: dict[str, str] = field(default_factory=dict)
    """Whole-file checksums, once every segment was read in order."""
    range_digests: list[dict[str, Any]] = field(default_factory=list)
    """sha256 of byte ranges, for uploads split over tasks that each read part of the file (no task saw
    it whole): ``{"segments": "a:b", "offset", "length", "sha256"}`` per range, sorted by offset."""
    stored: list[list[int]] = field(default_factory=list)
    """Segments the platform acknowledged, as sorted half-open ``[start, stop)`` ranges: what a resumed
    task need not send again, for APIs that cannot say themselves (X)."""
    sent_bytes: int = 0
    transfer_seconds: float = 0.0
    plan_kind: str = FIXED
    """How the file is cut (``chunking.PLAN_KINDS``): ``fixed`` (also a session from before plan kinds),
    ``merged`` (remainder in the last chunk), ``server_parts`` (:attr:`parts`, from the server at init),
    ``windows`` (each answer names the next window; ``chunk_size`` is the largest window held in memory) or
    ``short_tail`` (fixed chunks, the last split so the final part is short: api.video)."""
    parts: list[list[int]] = field(default_factory=list)
    """``[offset, length]`` of each segment, in the server's order, for a ``server_parts`` plan."""
    committed_bytes: int = 0
    """For a ``windows`` plan: the bytes the server last said it holds (where a resumed task continues)."""

    @property
    def plan(self) -> Plan:
        """The chunk plan this session was opened with, rebuilt from its JSON-safe fields."""
        if self.plan_kind == FIXED:
            return ChunkPlan(self.total_bytes, self.chunk_size)
        if self.plan_kind == MERGED:
            return plan_floor_merged(self.total_bytes, self.chunk_size)
        if self.plan_kind == SERVER_PARTS:
            return SegmentPlan(self.total_bytes, tuple((int(o), int(n)) for o, n in self.parts), SERVER_PARTS)
        if self.plan_kind == WINDOWS:
            return WindowPlan(self.total_bytes, self.chunk_size)
        if self.plan_kind == SHORT_TAIL:
            return ShortTailPlan(self.total_bytes, self.chunk_size)
        raise ConfigurationError(
            f"Unknown chunk plan kind {self.plan_kind!r} (known: {', '.join(PLAN_KINDS)}): pass the XCom of the "
            "previous chunkup task unchanged."
        )

    def use_plan(self, plan: Plan) -> None:
        """Record ``plan`` in the session's fields (``chunk_size`` becomes its read buffer's size where it has none)."""
        self.plan_kind = plan.kind
        server = isinstance(plan, SegmentPlan) and plan.kind == SERVER_PARTS
        self.parts = [[offset, length] for offset, length in plan.parts] if isinstance(plan, SegmentPlan) and server \
            else []
        self.chunk_size = plan.chunk_size or plan.buffer_bytes

    @property
    def windowed(self) -> bool:
        """Whether the server dictates each window (progress is :attr:`committed_bytes`, not :attr:`stored`)."""
        return self.plan_kind == WINDOWS

    def layout(self) -> str:
        """How the bytes go, for logs: ``6 segments of 262144 bytes``, or what the server decides."""
        if self.plan_kind == WINDOWS:
            return f"windows the server dictates, up to {self.chunk_size} bytes each"
        if self.plan_kind == SERVER_PARTS:
            return f"the {self.segment_count} parts the server handed out"
        if self.plan_kind == MERGED:
            return f"{self.segment_count} chunks of {self.chunk_size} bytes, the remainder in the last"
        if self.plan_kind == SHORT_TAIL and self.segment_count > 1:
            tail = self.plan.segment(self.segment_count - 1).length
            return f"{self.segment_count} parts of up to {self.chunk_size} bytes, the last of {tail}"
        return f"{self.segment_count} segments of {self.chunk_size} bytes"

    def progress_text(self) -> str:
        """What the platform holds, for logs: ``2 of 6 segments``, or the server's position in bytes."""
        if self.windowed:
            return f"{self.committed_bytes} of {self.total_bytes} bytes"
        return f"{len(self.stored_segments())} of {self.segment_count} segments"

    def mark_stored(self, index: int) -> None:
        """Record segment ``index`` as acknowledged, merging it into :attr:`stored`'s ranges."""
        position = bisect.bisect_right(self.stored, [index, index + 1])
        ranges = [list(r) for r in self.stored]  # a new list: the old one may be shared with a checkpoint
        before = ranges[position - 1] if position else None
        after = ranges[position] if position < len(ranges) else None
        if (before is not None and before[1] > index) or (after is not None and after[0] <= index):
            return  # already recorded
        if before is not None and before[1] == index:
            before[1] = index + 1
            if after is not None and after[0] == index + 1:
                before[1] = after[1]
                del ranges[position]
        elif after is not None and after[0] == index + 1:
            after[0] = index
        else:
            ranges.insert(position, [index, index + 1])
        self.stored = ranges

    @property
    def acknowledged(self) -> int:
        """How many leading segments the platform holds (1 after an init that sent the first segment)."""
        return self.stored[0][1] if self.stored and self.stored[0][0] == 0 else 0

    def stored_segments(self) -> set[int]:
        return {i for start, stop in self.stored for i in range(start, stop)}

    @property
    def segment_count(self) -> int:
        return self.plan.segment_count

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and (now or time.time()) >= self.expires_at


@dataclass
class ProcessingStatus(_Record):
    """Where the platform is with processing an uploaded media.

    ``state`` is the platform's word (X: pending, in_progress, succeeded, failed); ``none`` means
    there is nothing to process and the media is ready.
    """

    state: str
    check_after_secs: float | None = None
    progress_percent: float | None = None
    error: dict[str, Any] | None = None

    TERMINAL_OK = ("succeeded", "none")

    @property
    def done(self) -> bool:
        return self.state in self.TERMINAL_OK

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    def reason(self) -> str:
        """The platform's own failure reason, verbatim."""
        if not self.error:
            return "no reason given"
        parts = [str(self.error.get(k)) for k in ("name", "code") if self.error.get(k) is not None]
        message = self.error.get("message") or self.error.get("detail") or json.dumps(self.error)
        return f"{' '.join(parts)}: {message}" if parts else str(message)


@dataclass
class UploadResult(_Record):
    """A finished upload: the ids to publish with, what was sent, and processing as first seen."""

    api: str
    media_id: str
    size: int
    conn_id: str | None = None
    media_key: str | None = None
    sha256: str | None = None
    md5: str | None = None
    processing: dict[str, Any] | None = None
    """A :class:`ProcessingStatus` dict, or ``None`` when there is nothing to process."""
    expires_after_secs: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    """Small platform facts (X: ``video``/``image``; api.video: asset URLs)."""
    transfer_seconds: float | None = None
    range_digests: list[dict[str, Any]] = field(default_factory=list)
    """When the upload was split over tasks (no whole-file ``sha256``): the sha256 of each byte range
    those tasks read, ``{"segments", "offset", "length", "sha256"}``, sorted by offset."""

    @property
    def processing_status(self) -> ProcessingStatus:
        if self.processing is None:
            return ProcessingStatus(state="none")
        return ProcessingStatus.from_dict(self.processing)

    @property
    def mib_per_second(self) -> float | None:
        if not self.transfer_seconds:
            return None
        return self.size / self.transfer_seconds / (1024 * 1024)


def file_name(source: str | None, default: str = "") -> str:
    """The file name a source ends with (its URL's last path segment, without a query), else ``default``."""
    return (source or "").split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or default

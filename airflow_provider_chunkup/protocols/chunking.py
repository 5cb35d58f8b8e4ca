"""Chunk planning within an API's limits, shared by every protocol."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from airflow_provider_chunkup.errors import PlanError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    """What one API accepts per request and per upload."""

    default_chunk_bytes: int
    max_chunk_bytes: int
    max_segments: int
    min_chunk_bytes: int = 1
    """Smallest chunk allowed for every chunk but the last."""


class SegmentOutOfRange(PlanError, IndexError):
    """A segment index the upload does not have (an ``IndexError`` too, for code that expects one)."""


@dataclass(frozen=True)
class Segment:
    """One chunk of the file: its index in the platform's words (``segment_index``, part N-1)."""

    index: int
    offset: int
    length: int

    @property
    def end(self) -> int:
        """Offset of the last byte, inclusive (as ``Content-Range`` counts)."""
        return self.offset + self.length - 1


@dataclass(frozen=True)
class ChunkPlan:
    """How a file of ``total_bytes`` is cut: fixed ``chunk_size`` chunks, the last one shorter."""

    total_bytes: int
    chunk_size: int

    kind = "fixed"  # FIXED

    @property
    def segment_count(self) -> int:
        return -(-self.total_bytes // self.chunk_size)

    @property
    def buffer_bytes(self) -> int:
        """What one read buffer must hold: a whole chunk."""
        return self.chunk_size

    def segment(self, index: int) -> Segment:
        if not 0 <= index < self.segment_count:
            last = self.segment_count - 1
            raise SegmentOutOfRange(
                f"Segment {index} does not exist: this upload has {self.segment_count} segments (0..{last}). "
                f"Pass segments within 0..{last} (for example \"0:{self.segment_count}\"), or leave segments unset "
                "to send them all."
            )
        offset = index * self.chunk_size
        return Segment(index, offset, min(self.chunk_size, self.total_bytes - offset))

    def segments(self, indexes: Iterable[int] | None = None) -> Iterator[Segment]:
        for index in range(self.segment_count) if indexes is None else indexes:
            yield self.segment(index)


def plan_chunks(total_bytes: int, limits: Limits, chunk_size: int | None = None, *,
                api: str = "the API") -> ChunkPlan:
    """Cut ``total_bytes`` into chunks the API accepts, or say why it cannot be done.

    Without ``chunk_size`` the API's default is used, raised (up to the maximum) when the file
    would otherwise need more segments than allowed. An explicit ``chunk_size`` is kept as given.
    """
    if total_bytes <= 0:
        raise PlanError(
            f"The source is empty (0 bytes); {api} cannot store an empty upload. Check that the task writing the "
            "file finished, and upload a file with content."
        )
    if chunk_size is not None:
        if not limits.min_chunk_bytes <= chunk_size <= limits.max_chunk_bytes:
            raise PlanError(
                f"chunk_size={chunk_size} is outside {api}'s bounds "
                f"({limits.min_chunk_bytes}..{limits.max_chunk_bytes} bytes). Set chunk_size within "
                "them, or leave it unset to use the default."
            )
        plan = ChunkPlan(total_bytes, chunk_size)
        if plan.segment_count > limits.max_segments:
            needed = -(-total_bytes // limits.max_segments)
            raise PlanError(
                f"chunk_size={chunk_size} cuts {total_bytes} bytes into {plan.segment_count} segments; "
                f"{api} takes at most {limits.max_segments}. Use chunk_size >= {needed}, or leave it "
                "unset."
            )
        return plan
    capacity = limits.max_chunk_bytes * limits.max_segments
    if total_bytes > capacity:
        raise PlanError(
            f"The source is {total_bytes} bytes; {api} takes at most {limits.max_segments} segments of "
            f"{limits.max_chunk_bytes} bytes ({capacity} bytes) in one upload. Split or re-encode the "
            "file to make it smaller."
        )
    size = max(limits.default_chunk_bytes, -(-total_bytes // limits.max_segments))
    return ChunkPlan(total_bytes, size)


FIXED = "fixed"
"""Plan kind: the client's ``chunk_size`` chunks, the last one shorter (:class:`ChunkPlan`)."""
MERGED = "merged"
"""Plan kind: ``floor(total / chunk_size)`` chunks, the remainder merged into the last (TikTok)."""
SERVER_PARTS = "server_parts"
"""Plan kind: the parts the server listed when the upload was opened (LinkedIn's upload instructions)."""
WINDOWS = "windows"
"""Plan kind: no plan up front; each answer names the next byte window to send (Meta Graph)."""
SHORT_TAIL = "short_tail"
"""Plan kind: the client's ``chunk_size`` chunks with a short last one (:class:`ShortTailPlan`, api.video)."""
PLAN_KINDS = (FIXED, MERGED, SERVER_PARTS, WINDOWS, SHORT_TAIL)

SHORT_TAIL_BYTES = 1 * MiB
"""The last part of a :class:`ShortTailPlan`."""
SHORT_TAIL_MIN_PART = 5 * MiB
"""What the part before the short tail keeps at least (api.video: every part but the last is 5 MiB or more)."""


@dataclass(frozen=True)
class ShortTailPlan:
    """Fixed ``chunk_size`` chunks, but the last one split so the final part is :data:`SHORT_TAIL_BYTES`.

    For APIs that complete the upload on the last part, which must therefore go alone once every other part
    is acknowledged (api.video): with parts in flight, a full-size last part would cross the network at one
    connection's pace after the others. 64 MiB at 16 MiB is three parts of 16 MiB, one of 15 MiB and one of
    1 MiB. Where the last chunk cannot keep :data:`SHORT_TAIL_MIN_PART` before the tail, or the file is one
    chunk, it is the fixed plan.
    """

    total_bytes: int
    chunk_size: int
    kind: str = SHORT_TAIL

    @property
    def _fixed(self) -> ChunkPlan:
        return ChunkPlan(self.total_bytes, self.chunk_size)

    @property
    def split(self) -> bool:
        """Whether the last chunk is split (else the plan is the fixed one)."""
        fixed = self._fixed
        count = fixed.segment_count
        return count > 1 and fixed.segment(count - 1).length - SHORT_TAIL_BYTES >= SHORT_TAIL_MIN_PART

    @property
    def segment_count(self) -> int:
        return self._fixed.segment_count + (1 if self.split else 0)

    @property
    def buffer_bytes(self) -> int:
        return self.chunk_size

    def segment(self, index: int) -> Segment:
        count = self.segment_count
        if not 0 <= index < count:
            raise SegmentOutOfRange(
                f"Segment {index} does not exist: this upload has {count} segments (0..{count - 1}). Pass segments "
                f"within 0..{count - 1}, or leave segments unset to send them all."
            )
        fixed = self._fixed
        if not self.split or index < fixed.segment_count - 1:
            return fixed.segment(index)
        last = fixed.segment(fixed.segment_count - 1)
        if index == last.index:
            return Segment(index, last.offset, last.length - SHORT_TAIL_BYTES)
        return Segment(index, self.total_bytes - SHORT_TAIL_BYTES, SHORT_TAIL_BYTES)

    def segments(self, indexes: Iterable[int] | None = None) -> Iterator[Segment]:
        for index in range(self.segment_count) if indexes is None else indexes:
            yield self.segment(index)


@dataclass(frozen=True)
class SegmentPlan:
    """An explicit list of segments: ``parts`` as ``(offset, length)`` pairs, contiguous from byte 0."""

    total_bytes: int
    parts: tuple[tuple[int, int], ...]
    kind: str = SERVER_PARTS
    chunk_size: int = 0
    """The nominal chunk size the plan was made with (0: the server chose); :attr:`buffer_bytes` bounds memory."""

    def __post_init__(self) -> None:
        expected = 0
        for number, (offset, length) in enumerate(self.parts):
            if offset != expected or length <= 0:
                raise PlanError(
                    f"The {self.kind} plan's part {number} is bytes {offset}+{length}, expected to start at byte "
                    f"{expected} with a positive length: parts must cover the file in order, without gap or overlap."
                    " The server's upload instructions do not fit this file: open a new upload."
                )
            expected = offset + length
        if expected != self.total_bytes or not self.parts:
            raise PlanError(
                f"The {self.kind} plan covers {expected} bytes of a {self.total_bytes}-byte file: its parts must "
                "cover it exactly. The server's upload instructions do not fit this file: open a new upload."
            )

    @property
    def segment_count(self) -> int:
        return len(self.parts)

    @property
    def buffer_bytes(self) -> int:
        """The longest segment: what one read buffer must hold."""
        return max(length for _, length in self.parts)

    def segment(self, index: int) -> Segment:
        if not 0 <= index < len(self.parts):
            last = len(self.parts) - 1
            raise SegmentOutOfRange(
                f"Segment {index} does not exist: this upload has {len(self.parts)} segments (0..{last}). "
                f"Pass segments within 0..{last}, or leave segments unset to send them all."
            )
        offset, length = self.parts[index]
        return Segment(index, offset, length)

    def segments(self, indexes: Iterable[int] | None = None) -> Iterator[Segment]:
        for index in range(len(self.parts)) if indexes is None else indexes:
            yield self.segment(index)


@dataclass(frozen=True)
class WindowPlan:
    """Windows the server dictates one answer at a time; ``max_window`` bytes at most (one buffer)."""

    total_bytes: int
    max_window: int
    kind: str = WINDOWS

    @property
    def chunk_size(self) -> int:
        return self.max_window

    @property
    def buffer_bytes(self) -> int:
        return self.max_window

    @property
    def segment_count(self) -> int:
        """The fewest windows the file can take; the real count is known only when the server says done."""
        return -(-self.total_bytes // self.max_window)

    def segment(self, index: int) -> Segment:
        raise PlanError(
            "This upload's windows are dictated by the server, one answer at a time: there is no segment "
            f"{index} to address. Send it whole (leave segments unset), in one task."
        )

    def segments(self, indexes: Iterable[int] | None = None) -> Iterator[Segment]:
        yield self.segment(0 if indexes is None else next(iter(indexes), 0))

    def check(self, window: Segment, api: str = "the API") -> None:
        """Raise unless ``window`` lies in the file and fits the buffer (memory stays bounded)."""
        if window.offset < 0 or window.length <= 0 or window.offset + window.length > self.total_bytes:
            raise PlanError(
                f"{api} asked for bytes {window.offset}+{window.length} of a {self.total_bytes}-byte file: no such "
                "window. The upload is out of step with the server: open a new upload."
            )
        if window.length > self.max_window:
            raise PlanError(
                f"{api} asked for a window of {window.length} bytes; chunk_size={self.max_window} bounds what is "
                f"held in memory. Set chunk_size to at least {window.length} (within {api}'s limits) and upload again."
            )


Plan = ChunkPlan | SegmentPlan | WindowPlan | ShortTailPlan
"""Any plan kind; each has ``total_bytes``, ``segment_count``, ``segment()``, ``segments()``, ``buffer_bytes``."""


def plan_floor_merged(total_bytes: int, chunk_size: int) -> SegmentPlan:
    """``floor(total / chunk_size)`` chunks (at least one), the remainder merged into the last (TikTok).

    50,000,123 bytes at 10,000,000: four of 10,000,000 and a last of 10,000,123; a file smaller than
    ``chunk_size`` is one chunk.
    """
    if total_bytes <= 0 or chunk_size <= 0:
        raise PlanError(f"Cannot plan {total_bytes} bytes in chunks of {chunk_size}: both must be positive.")
    count = max(1, total_bytes // chunk_size)
    parts = [(i * chunk_size, chunk_size) for i in range(count - 1)]
    parts.append(((count - 1) * chunk_size, total_bytes - (count - 1) * chunk_size))
    return SegmentPlan(total_bytes, tuple(parts), MERGED, chunk_size)


def plan_from_parts(total_bytes: int, parts: Iterable[tuple[int, int]]) -> SegmentPlan:
    """The parts the server gave, in its order, as ``(first_byte, last_byte)``, ``last_byte`` inclusive (LinkedIn)."""
    pairs = tuple((int(first), int(last) - int(first) + 1) for first, last in parts)
    return SegmentPlan(total_bytes, pairs, SERVER_PARTS)

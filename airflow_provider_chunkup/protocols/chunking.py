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

    @property
    def segment_count(self) -> int:
        return -(-self.total_bytes // self.chunk_size)

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

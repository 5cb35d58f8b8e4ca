import itertools

import pytest

from airflow_provider_chunkup.errors import PlanError
from airflow_provider_chunkup.protocols.chunking import (
    ChunkPlan,
    Limits,
    MiB,
    SegmentOutOfRange,
    ShortTailPlan,
    plan_chunks,
)

X = Limits(default_chunk_bytes=4 * MiB, max_chunk_bytes=5 * MiB, max_segments=1000)


def test_default_chunk_and_last_segment_shorter():
    plan = plan_chunks(10 * MiB + 1, X)
    assert plan.chunk_size == 4 * MiB
    assert plan.segment_count == 3
    assert plan.segment(2).length == 2 * MiB + 1
    assert plan.segment(2).end == 10 * MiB
    assert sum(s.length for s in plan.segments()) == 10 * MiB + 1


def test_chunk_grows_to_fit_max_segments():
    total = 4500 * MiB
    plan = plan_chunks(total, X)
    assert plan.segment_count <= 1000
    assert plan.chunk_size == -(-total // 1000)


def test_too_large_for_any_plan():
    with pytest.raises(PlanError, match="at most 1000 segments"):
        plan_chunks(5 * MiB * 1000 + 1, X, api="X")


def test_explicit_chunk_size_out_of_bounds():
    with pytest.raises(PlanError, match="outside X's bounds"):
        plan_chunks(100, X, chunk_size=6 * MiB, api="X")


def test_explicit_chunk_size_with_too_many_segments_names_the_fix():
    with pytest.raises(PlanError, match=r"Use chunk_size >= 1049"):
        plan_chunks(1000 * 1049, X, chunk_size=1000, api="X")


def test_empty_source():
    with pytest.raises(PlanError, match="empty"):
        plan_chunks(0, X)


def test_segment_out_of_range():
    with pytest.raises(IndexError):
        ChunkPlan(10, 4).segment(3)
    assert [s.index for s in ChunkPlan(10, 4).segments([2, 0])] == [2, 0]


@pytest.mark.parametrize(("total", "chunk", "expected"), [
    (64 * MiB, 16 * MiB, [16 * MiB, 16 * MiB, 16 * MiB, 15 * MiB, 1 * MiB]),  # the last chunk split
    (18 * MiB, 6 * MiB, [6 * MiB, 6 * MiB, 5 * MiB, 1 * MiB]),  # it keeps exactly the 5 MiB api.video needs
    (18 * MiB - 1, 6 * MiB, [6 * MiB, 6 * MiB, 6 * MiB - 1]),  # one byte short of that: not split
    (20 * MiB, 16 * MiB, [16 * MiB, 4 * MiB]),  # the last chunk is short already
    (10 * MiB, 16 * MiB, [10 * MiB]),  # one chunk: nothing goes after anything
])
def test_short_tail_plan(total: int, chunk: int, expected: list[int]) -> None:
    plan = ShortTailPlan(total, chunk)
    segments = list(plan.segments())
    assert [s.length for s in segments] == expected and plan.segment_count == len(expected)
    assert [s.index for s in segments] == list(range(len(expected)))
    assert all(a.offset + a.length == b.offset for a, b in itertools.pairwise(segments))
    assert segments[0].offset == 0 and segments[-1].end == total - 1
    assert plan.buffer_bytes == chunk >= max(expected)
    with pytest.raises(SegmentOutOfRange, match=rf"this upload has {len(expected)} segments"):
        plan.segment(len(expected))
    with pytest.raises(SegmentOutOfRange):
        plan.segment(-1)

"""The chunk plan kinds: fixed, remainder merged into the last, parts from the server, windows from the server."""

import json

import pytest

from airflow_provider_chunkup.errors import ConfigurationError, PlanError
from airflow_provider_chunkup.protocols.chunking import (
    ChunkPlan,
    Segment,
    SegmentPlan,
    WindowPlan,
    plan_floor_merged,
    plan_from_parts,
)
from airflow_provider_chunkup.protocols.session import UploadSession
from airflow_provider_chunkup.protocols.split import check_complete, missing_segments, segment_ranges

MB = 1_000_000


def lengths(plan) -> list[int]:
    return [s.length for s in plan.segments()]


def test_tiktok_remainder_goes_into_the_last_chunk():
    plan = plan_floor_merged(50_000_123, 10 * MB)
    assert lengths(plan) == [10 * MB] * 4 + [10_000_123]
    assert [s.offset for s in plan.segments()] == [0, 10 * MB, 20 * MB, 30 * MB, 40 * MB]
    assert plan.segment_count == 4 + 1 and plan.kind == "merged"
    assert plan.buffer_bytes == 10_000_123  # the read buffer holds the longest chunk


def test_tiktok_exact_multiple_has_no_extra_chunk():
    plan = plan_floor_merged(30 * MB, 10 * MB)
    assert lengths(plan) == [10 * MB] * 3


def test_tiktok_small_file_is_one_chunk():
    plan = plan_floor_merged(4 * MB + 7, 10 * MB)
    assert lengths(plan) == [4 * MB + 7]
    assert plan.segment(0) == Segment(0, 0, 4 * MB + 7)


def test_linkedin_parts_come_from_the_server_in_its_order():
    mib4 = 4 * 1024 * 1024
    total = 2 * mib4 + 1000
    plan = plan_from_parts(total, [(0, mib4 - 1), (mib4, 2 * mib4 - 1), (2 * mib4, total - 1)])
    assert lengths(plan) == [mib4, mib4, 1000]
    assert plan.segment(2).end == total - 1


@pytest.mark.parametrize("parts", [
    [(0, 99), (101, 199)],   # a gap
    [(0, 99), (50, 199)],    # an overlap
    [(0, 99)],               # too short
    [(100, 199), (0, 99)],   # out of order
])
def test_server_parts_that_do_not_cover_the_file_are_refused(parts):
    with pytest.raises(PlanError, match="cover"):
        plan_from_parts(200, parts)


def test_windows_have_no_segments_up_front():
    plan = WindowPlan(1000, 300)
    assert plan.segment_count == 4  # the fewest the file can take
    with pytest.raises(PlanError, match="dictated by the server"):
        plan.segment(0)
    plan.check(Segment(0, 700, 300))
    with pytest.raises(PlanError, match="chunk_size to at least 301"):
        plan.check(Segment(0, 0, 301))
    with pytest.raises(PlanError, match="no such window"):
        plan.check(Segment(0, 900, 200))


def session_with(plan) -> UploadSession:
    session = UploadSession(api="memory", media_id="m1", total_bytes=plan.total_bytes, chunk_size=1)
    session.use_plan(plan)
    return session


@pytest.mark.parametrize("plan", [
    ChunkPlan(1000, 300),
    plan_floor_merged(1000, 300),
    plan_from_parts(1000, [(0, 599), (600, 999)]),
    WindowPlan(1000, 400),
], ids=["fixed", "merged", "server_parts", "windows"])
def test_every_plan_kind_survives_json_and_repr(plan):
    session = session_with(plan)
    for text in (json.dumps(session.to_dict()), repr(session.to_dict())):  # XCom, and what Jinja renders
        again = UploadSession.from_dict(text)
        assert again.plan == plan
        assert again.plan_kind == plan.kind


def test_a_session_from_before_plan_kinds_reads_as_the_fixed_plan():
    old = {"api": "x", "media_id": "1", "total_bytes": 1000, "chunk_size": 300, "stored": [[0, 2]]}
    session = UploadSession.from_dict(old)
    assert session.plan == ChunkPlan(1000, 300)
    assert session.segment_count == 4 and session.stored_segments() == {0, 1}
    assert not session.windowed


def test_an_unknown_plan_kind_says_so():
    session = UploadSession.from_dict({"api": "x", "media_id": "1", "total_bytes": 10, "chunk_size": 5,
                                       "plan_kind": "spiral"})
    with pytest.raises(ConfigurationError, match="Unknown chunk plan kind 'spiral'"):
        session.plan  # noqa: B018


def test_planned_kinds_split_into_ranges():
    session = session_with(plan_floor_merged(50_000_123, 10 * MB))
    assert segment_ranges(session, 2) == ["0:3", "3:5"]
    assert isinstance(session.plan, SegmentPlan)


def test_windows_refuse_a_split_before_any_request():
    session = session_with(WindowPlan(1000, 400))
    with pytest.raises(ConfigurationError, match="cannot be split over parallel append tasks: the server names"):
        segment_ranges(session, 2)


def test_windows_are_complete_when_the_server_holds_every_byte():
    session = session_with(WindowPlan(1000, 400))
    session.committed_bytes = 600
    assert missing_segments(session) == [0]
    with pytest.raises(ConfigurationError, match="holds 600 of 1000 bytes"):
        check_complete(session, api="Memory")
    session.committed_bytes = 1000
    assert missing_segments(session) == []
    check_complete(session)

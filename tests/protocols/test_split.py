"""Splitting one upload over tasks: the ranges, the merge of their sessions, range checksums (no Airflow)."""

import hashlib
import json

import pytest

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.protocols.chunking import ChunkPlan
from airflow_provider_chunkup.protocols.session import UploadSession
from airflow_provider_chunkup.protocols.split import (
    RangeHasher,
    SegmentsMissing,
    check_complete,
    describe_indexes,
    merge_sessions,
    segment_ranges,
    session_list,
    verify_range_digests,
)


def session(total_bytes: int = 100, chunk_size: int = 10, **fields) -> UploadSession:
    return UploadSession(api="x", media_id="7", total_bytes=total_bytes, chunk_size=chunk_size, **fields)


def indexes(ranges: list[str]) -> list[int]:
    out: list[int] = []
    for r in ranges:
        start, stop = map(int, r.split(":"))
        assert stop > start, f"empty range {r}"
        out.extend(range(start, stop))
    return out


@pytest.mark.parametrize(("segments", "parts", "expected"), [
    (10, 4, ["0:3", "3:6", "6:8", "8:10"]),   # as even as possible, the longer ranges first
    (12, 4, ["0:3", "3:6", "6:9", "9:12"]),   # exact
    (3, 5, ["0:1", "1:2", "2:3"]),            # fewer segments than parts: one range per segment
    (1, 4, ["0:1"]),
    (7, 1, ["0:7"]),
])
def test_ranges_are_contiguous_even_and_never_empty(segments, parts, expected):
    ranges = segment_ranges(session(segments * 10 - 3), parts)
    assert ranges == expected
    assert indexes(ranges) == list(range(segments))


def test_ranges_leave_the_last_segment_to_finalize_where_it_completes_the_upload():
    assert segment_ranges(session(100), 3, hold_last=True) == ["0:3", "3:6", "6:9"]  # segment 9: finalize
    assert segment_ranges(session(20), 4, hold_last=True) == ["0:1"]
    assert segment_ranges(session(5), 4, hold_last=True) == ["0:1"]  # one segment: append sends it


def test_ranges_of_a_large_upload_stay_balanced():
    ranges = segment_ranges(session(10_000 * 10), 7)
    sizes = [int(b) - int(a) for a, b in (r.split(":") for r in ranges)]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 10_000


def test_ranges_accept_the_session_as_xcom_gives_it():
    s = session(95)
    assert segment_ranges(s.to_dict(), 2) == segment_ranges(json.dumps(s.to_dict()), 2) == ["0:5", "5:10"]


@pytest.mark.parametrize("parts", [0, -1, 2.5, "4", True, None])
def test_parts_must_be_a_positive_whole_number(parts):
    with pytest.raises(ConfigurationError, match="parts must be a whole number of at least 1"):
        segment_ranges(session(), parts)


def test_merge_unites_segments_digests_and_times():
    a = session(stored=[[0, 4]], sent_bytes=40, transfer_seconds=2.0,
                range_digests=[{"segments": "0:4", "offset": 0, "length": 40, "sha256": "aa"}])
    b = session(stored=[[4, 10]], sent_bytes=60, transfer_seconds=3.0, remote={"dialect": "v2"},
                range_digests=[{"segments": "4:10", "offset": 40, "length": 60, "sha256": "bb"}])
    merged = merge_sessions([b.to_dict(), json.dumps(a.to_dict())])
    assert merged.stored == [[0, 10]]
    assert merged.sent_bytes == 100 and merged.transfer_seconds == 3.0  # the tasks ran side by side
    assert [r["sha256"] for r in merged.range_digests] == ["aa", "bb"]  # by offset
    assert merged.remote == {"dialect": "v2"} and merged.digests == {}
    check_complete(merged)


def test_merging_sessions_of_different_uploads_is_refused():
    with pytest.raises(ConfigurationError, match=r"different uploads \(x '7' and x '8'\).*single init task"):
        merge_sessions([session(), UploadSession(api="x", media_id="8", total_bytes=100, chunk_size=10)])
    with pytest.raises(ConfigurationError, match="disagree on its size or chunk size"):
        merge_sessions([session(), session(chunk_size=20)])
    with pytest.raises(ConfigurationError, match=r"empty list of sessions.*skipped"):
        merge_sessions([])


def test_missing_segments_are_named():
    merged = merge_sessions([session(stored=[[0, 3]]), session(stored=[[6, 8]])])
    with pytest.raises(SegmentsMissing, match=r"lacks segments 3-5, 8-9 of 10.*mapped append failed or was skipped"):
        check_complete(merged, api="X")
    check_complete(session(stored=[[0, 9]]), hold=[9])  # the held-back last segment is finalize's
    with pytest.raises(SegmentsMissing, match="lacks segment 4 of 10: no append task sent it"):
        check_complete(session(stored=[[0, 4], [5, 9]]), hold=[9])


def test_describe_indexes_shortens_long_lists():
    assert describe_indexes([9, 1, 2, 3, 5]) == "1-3, 5, 9"
    assert describe_indexes(list(range(0, 40, 2)), most=3) == "0, 2, 4 and 17 more ranges"


@pytest.mark.parametrize(("value", "expected"), [
    ([{"a": 1}], [{"a": 1}]),
    (({"a": 1}, {"b": 2}), [{"a": 1}, {"b": 2}]),
    ('[{"a": 1}]', [{"a": 1}]),
    ("[{'a': 1}]", [{"a": 1}]),        # a template rendered the list's repr
    ({"a": 1}, None),                   # one session
    ('{"a": 1}', None),
    (session(), None),
])
def test_session_list_tells_a_list_from_one_session(value, expected):
    assert session_list(value) == expected


def test_session_list_of_unreadable_text_is_explained():
    with pytest.raises(ConfigurationError, match="render_template_as_native_obj"):
        session_list("[not python")


def test_range_hasher_hashes_each_run_of_consecutive_segments(tmp_path):
    data = bytes(range(256)) * 4  # 1024 bytes, segments of 100 (the last 24)
    plan = ChunkPlan(len(data), 100)
    hasher = RangeHasher(plan)
    for i in [0, 1, 2, 5, 6, 10]:
        seg = plan.segment(i)
        hasher.update(seg, data[seg.offset: seg.offset + seg.length])
    records = hasher.records()
    assert [(r["segments"], r["offset"], r["length"]) for r in records] == [("0:3", 0, 300), ("5:7", 500, 200),
                                                                            ("10:11", 1000, 24)]
    for r in records:
        assert r["sha256"] == hashlib.sha256(data[r["offset"]: r["offset"] + r["length"]]).hexdigest()
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert verify_range_digests(path, records, read_size=64) == []
    bad = {**records[1], "sha256": "0" * 64}
    assert verify_range_digests(path, [records[0], bad], read_size=64) == [
        {**bad, "actual": records[1]["sha256"]}]

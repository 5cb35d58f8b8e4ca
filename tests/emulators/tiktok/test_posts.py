"""TikTok's init rules on their own: the chunk plan (floor, remainder in the last chunk) and post_info."""

from __future__ import annotations

import pytest

from airflow_provider_chunkup.emulators.tiktok.posts import ChunkPlan, TikTokError, chunk_plan, post_info

from .helpers import MIB5, source

OPTIONS = ["PUBLIC_TO_EVERYONE", "SELF_ONLY"]


def test_the_notes_example_merges_the_remainder_into_the_last_chunk():
    plan = chunk_plan(source(50_000_123, 10_000_000))
    assert plan == ChunkPlan(50_000_123, 10_000_000, 5)  # 4 x 10,000,000 then 10,000,123
    assert plan.to_json() == [[0, 9_999_999], [10_000_000, 19_999_999], [20_000_000, 29_999_999],
                              [30_000_000, 39_999_999], [40_000_000, 50_000_122]]  # fmt: skip


@pytest.mark.parametrize(
    ("size", "chunk", "count"),
    [
        (1, 1, 1),  # the smallest video, one chunk
        (MIB5 - 1, MIB5 - 1, 1),  # under 5 MiB: one chunk of the whole size
        (MIB5, MIB5, 1),
        (64_000_000, 64_000_000, 1),  # the largest single chunk
        (64_000_000, MIB5, 12),
        (10 * MIB5, 2 * MIB5, 5),  # an exact multiple: no remainder
        (128_000_000, 64_000_000, 2),  # the last chunk at its largest
        (1000 * MIB5 + 7, MIB5, 1000),  # the most chunks
    ],
)
def test_plans_tiktok_accepts(size, chunk, count):
    assert chunk_plan(source(size, chunk, count)).count == count


@pytest.mark.parametrize(
    ("size", "chunk", "count"),
    [
        (MIB5 - 1, 1024, (MIB5 - 1) // 1024),  # under 5 MiB must be one chunk
        (MIB5 - 1, MIB5 - 1, 2),
        (100, 50, 2),
        (50_000_123, 10_000_000, 6),  # ceil instead of floor: the classic mistake
        (50_000_123, 10_000_000, 4),
        (30 * MIB5, MIB5 - 1, 31),  # chunk under 5 MiB
        (200_000_000, 64_000_001, 3),  # chunk over 64,000,000
        (70_000_000, 64_000_000, 1),  # over 64,000,000 must be chunked
        (10 * MIB5, 11 * MIB5, 0),  # chunk larger than the video
        (10 * MIB5, 11 * MIB5, 1),
        (1001 * MIB5, MIB5, 1001),  # over 1000 chunks
    ],
)
def test_plans_tiktok_refuses(size, chunk, count):
    with pytest.raises(TikTokError) as caught:
        chunk_plan(source(size, chunk, count))
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        400, "invalid_params", "The chunk size is invalid")


@pytest.mark.parametrize(
    ("info", "message"),
    [
        (None, "source_info is required"),
        ({"source": "PULL_FROM_URL", "video_url": "https://example.com/v.mp4"}, "FILE_UPLOAD"),
        ({"source": "FILE_UPLOAD", "video_size": "10", "chunk_size": 10, "total_chunk_count": 1}, "positive"),
        ({"source": "FILE_UPLOAD", "video_size": 0, "chunk_size": 0, "total_chunk_count": 1}, "positive"),
        ({"source": "FILE_UPLOAD", "video_size": True, "chunk_size": 1, "total_chunk_count": 1}, "positive"),
    ],
)
def test_source_info_must_be_a_file_upload(info, message):
    with pytest.raises(TikTokError) as caught:
        chunk_plan(info)
    assert caught.value.status == 400 and message in caught.value.message


def test_post_info_accepted_and_copied():
    body = {"title": "t" * 2200, "privacy_level": "SELF_ONLY", "disable_duet": False, "video_cover_timestamp_ms": 10}
    assert post_info(body, OPTIONS, audited=True) == body


@pytest.mark.parametrize(
    ("body", "audited", "status", "code"),
    [
        (None, True, 400, "invalid_params"),
        ({"privacy_level": "SELF_ONLY", "title": "t" * 2201}, True, 400, "invalid_params"),
        ({"privacy_level": "SELF_ONLY", "title": 5}, True, 400, "invalid_params"),
        ({"privacy_level": "SELF_ONLY", "disable_comment": "yes"}, True, 400, "invalid_params"),
        ({"privacy_level": "SELF_ONLY", "video_cover_timestamp_ms": 1.5}, True, 400, "invalid_params"),
        ({"title": "no privacy"}, True, 400, "invalid_params"),
        ({"privacy_level": "FOLLOWER_OF_CREATOR"}, True, 403, "privacy_level_option_mismatch"),
        ({"privacy_level": "PUBLIC_TO_EVERYONE"}, False, 403, "unaudited_client_can_only_post_to_private_accounts"),
    ],
)
def test_post_info_refused(body, audited, status, code):
    with pytest.raises(TikTokError) as caught:
        post_info(body, OPTIONS, audited)
    assert (caught.value.status, caught.value.code) == (status, code)

"""The YouTube section's config (defaults, validation, flags), inspection, stats and reset."""

from __future__ import annotations

import os

import pytest

from airflow_provider_chunkup.emulators.cli import build_parser, config_from_args
from airflow_provider_chunkup.emulators.youtube import YouTubeEmulatorConfig

from ..google_resumable.helpers import ALIGN, YT_CONTROL, put, sha256, upload_id, yt_session
from .helpers import uploaded


def test_defaults():
    config = YouTubeEmulatorConfig()
    assert config.access_tokens == ["youtube-token"] and config.access_token_secs == 3600
    client = config.oauth_clients["chunkup-client"]
    assert client == {"secret": "chunkup-secret", "refresh_tokens": ["chunkup-refresh"]}
    assert (config.insert_quota, config.units_quota, config.upload_limit) == (100, 10000, None)
    assert (config.completion_status, config.persist_partial, config.no_range_rate) == (201, True, 0.0)
    assert config.session_lifetime_secs == 7 * 86400 and config.thumbnail_max_bytes == 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("patch_body", "message"),
    [
        ({"access_tokens": [""]}, "youtube.access_tokens"),
        ({"oauth_clients": {"c": {"secret": 1}}}, "youtube.oauth_clients"),
        ({"access_token_secs": 0}, "youtube.access_token_secs"),
        ({"insert_quota": -1}, "youtube.insert_quota"),
        ({"upload_limit": -1}, "youtube.upload_limit"),
        ({"processing_secs": -1}, "youtube.processing_secs"),
        ({"failure_rate": 2}, "youtube.failure_rate"),
        ({"rejection_reason": "boredom"}, "youtube.rejection_reason"),
        ({"failure_reason": "x"}, "youtube.failure_reason"),
        ({"processing_failure_reason": "x"}, "youtube.processing_failure_reason"),
        ({"no_range_rate": 1.5}, "youtube.no_range_rate"),
        ({"short_persist_rate": -1}, "youtube.short_persist_rate"),
        ({"rate_limit_403_rate": 1.1}, "youtube.rate_limit_403_rate"),
        ({"session_lifetime_secs": 0}, "youtube.session_lifetime_secs"),
        ({"max_size": 0}, "youtube.max_size"),
        ({"completion_status": 204}, "youtube.completion_status"),
        ({"thumbnail_max_bytes": 0}, "youtube.thumbnail_max_bytes"),
    ],
)  # fmt: skip
def test_config_validation(anon, patch_body, message):
    response = anon.patch("/_emulator/config", json={"youtube": patch_body})
    assert response.status_code == 400 and message in response.json()["error"]
    assert anon.get("/_emulator/config").json()["youtube"]["completion_status"] == 201


def test_a_patch_takes_effect_on_the_next_request(anon, google):
    assert anon.patch("/_emulator/config", json={"youtube": {"insert_quota": 0}}).status_code == 200
    url_answer = google.post("/upload/youtube/v3/videos", params={"uploadType": "resumable", "part": "snippet"},
                             headers={"Authorization": "Bearer youtube-token"}, json={"snippet": {"title": "t"}})
    assert url_answer.status_code == 403


def test_cli_flags_map_to_config():
    args = build_parser().parse_args(
        ["--youtube-token", "a", "--youtube-processing-secs", "0.5", "--youtube-insert-quota", "3",
         "--youtube-upload-limit", "4", "--youtube-failure-rate", "0.25", "--youtube-access-token-secs", "30"]
    )  # fmt: skip
    config = config_from_args(args).youtube
    assert config.access_tokens == ["a"] and config.processing_secs == 0.5 and config.insert_quota == 3
    assert config.upload_limit == 4 and config.processing_failure_rate == 0.25 and config.access_token_secs == 30
    config.validate()
    assert config_from_args(build_parser().parse_args([])).youtube == YouTubeEmulatorConfig()


def test_inspection_of_sessions_and_videos(google):
    data = os.urandom(ALIGN + 5)
    url = yt_session(google, total=len(data))
    put(google, url, data[:ALIGN], 0, len(data))
    session = google.get(f"{YT_CONTROL}/sessions/{upload_id(url)}").json()
    assert session["state"] == "open" and session["persisted"] == ALIGN and session["total"] == len(data)
    assert session["title"] == "A clip" and session["video_id"] is None and session["sha256"] is None
    video = put(google, url, data[ALIGN:], ALIGN, len(data)).json()
    session = google.get(f"{YT_CONTROL}/sessions/{upload_id(url)}").json()
    assert session["state"] == "complete" and session["video_id"] == video["id"] and session["chunks"] == 2
    listed = google.get(f"{YT_CONTROL}/videos").json()
    assert [v["id"] for v in listed] == [video["id"]] and listed[0]["sha256"] == sha256(data)
    assert listed[0]["processingDetails"]["processingStatus"] == "processing"
    assert [s["upload_id"] for s in google.get(f"{YT_CONTROL}/sessions").json()] == [upload_id(url)]
    assert google.get(f"{YT_CONTROL}/videos/nope").status_code == 404
    assert google.post(f"{YT_CONTROL}/sessions/nope/kill").status_code == 404


def test_newest_first_and_reset_forgets_everything(google, emulator):
    first, second = uploaded(google), uploaded(google)
    assert [v["id"] for v in google.get(f"{YT_CONTROL}/videos").json()] == [second["id"], first["id"]]
    files = list((emulator.config.data_dir / "youtube").glob("*.bin"))
    assert len(files) == 2
    google.post("/_emulator/reset").raise_for_status()
    assert google.get(f"{YT_CONTROL}/videos").json() == [] and google.get(f"{YT_CONTROL}/sessions").json() == []
    assert not any(path.exists() for path in files)
    stats = google.get("/_emulator/stats").json()
    assert stats["youtube_videos"] == 0 and stats["youtube_sessions"] == 0 and stats["youtube_insert_quota_used"] == 0


def test_stats_count_inserts_sessions_chunks_and_the_protocols_events(google):
    data = os.urandom(ALIGN * 2)
    url = yt_session(google, total=len(data))
    put(google, url, data[:ALIGN + 10], 0, len(data))  # 10 bytes past the alignment are dropped
    put(google, url, data[2 * ALIGN - 100:], 2 * ALIGN - 100, len(data))  # a gap: 503
    put(google, url, data, 0, len(data))  # re-sends the first 256 KiB
    stats = google.get("/_emulator/stats").json()
    assert stats["youtube_inserts"] == 1 and stats["youtube_sessions"] == 1 and stats["youtube_chunks"] == 2
    assert stats["youtube_gaps"] == 1 and stats["youtube_bytes_dropped"] == 10
    assert stats["youtube_bytes_ignored"] == ALIGN and stats["youtube_videos_uploaded"] == 1
    assert stats["routes"]["PUT /upload/youtube/v3/videos"]["statuses"] == {"308": 1, "503": 1, "201": 1}

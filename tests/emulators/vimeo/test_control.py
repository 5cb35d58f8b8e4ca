"""The vimeo section (defaults, validation, flags, a moved prefix), inspection, reset and stats."""

from __future__ import annotations

import pytest

from airflow_provider_chunkup.emulators.cli import build_parser, config_from_args
from airflow_provider_chunkup.emulators.vimeo import VimeoEmulatorConfig

from .helpers import CONTROL, create, inspect, new_video, patch, sha256, video_id

INSPECTION_KEYS = {
    "id", "uri", "name", "description", "privacy", "size", "received_bytes", "sha256", "upload_status",
    "transcode_status", "status", "upload_id", "upload_link", "patches", "patching", "kept_from_broken", "expired",
    "upload_failed", "transcode_failed", "created_at", "completed_at", "deleted",
}  # fmt: skip


def test_defaults():
    config = VimeoEmulatorConfig()
    assert (config.prefix, config.tokens, config.max_size) == ("/vimeo", ["vimeo-token"], None)
    assert (config.transcode_secs, config.upload_failure_rate, config.transcode_failure_rate) == (1.0, 0.0, 0.0)
    assert (config.rate_limit, config.rate_limit_window_secs, config.upload_link_expiry_secs) == (250, 60.0, 86400)


@pytest.mark.parametrize(
    ("patch_body", "message"),
    [
        ({"prefix": "vimeo"}, "vimeo.prefix"),
        ({"prefix": "/vimeo/"}, "vimeo.prefix"),
        ({"prefix": "/_emulator/v"}, "vimeo.prefix"),
        ({"tokens": [""]}, "vimeo.tokens"),
        ({"max_size": 0}, "vimeo.max_size"),
        ({"transcode_failure_rate": 1.5}, "vimeo.transcode_failure_rate"),
        ({"upload_failure_rate": -0.1}, "vimeo.upload_failure_rate"),
        ({"transcode_secs": -1}, "vimeo.transcode_secs"),
        ({"upload_link_expiry_secs": 0}, "vimeo.upload_link_expiry_secs"),
        ({"rate_limit_window_secs": 0}, "vimeo.rate_limit_window_secs"),
    ],
)
def test_config_validation(anon, patch_body, message):
    response = anon.patch("/_emulator/config", json={"vimeo": patch_body})
    assert response.status_code == 400 and message in response.json()["error"]
    assert anon.get("/_emulator/config").json()["vimeo"]["prefix"] == "/vimeo"


def test_a_patched_prefix_moves_the_api_and_the_links(anon, emulator, link):
    assert anon.patch("/_emulator/config", json={"vimeo": {"prefix": "/v3"}}).status_code == 200
    headers = {"Authorization": "Bearer vimeo-token"}
    response = anon.post("/v3/me/videos", headers=headers, json={"upload": {"approach": "tus", "size": 3}})
    assert response.status_code == 200
    url = response.json()["upload"]["upload_link"]
    assert url.startswith(f"{emulator.url}/v3/upload/")
    assert patch(link, url, 0, b"abc").status_code == 204
    assert anon.post("/vimeo/me/videos", headers=headers, json={}).status_code == 404


def test_cli_flags_map_to_config():
    args = build_parser().parse_args(
        ["--vimeo-token", "a", "--vimeo-token", "b", "--vimeo-transcode-secs", "2.5",
         "--vimeo-transcode-failure-rate", "0.25", "--vimeo-max-size", "1000"]
    )  # fmt: skip
    config = config_from_args(args).vimeo
    assert config.tokens == ["a", "b"] and config.transcode_secs == 2.5
    assert config.transcode_failure_rate == 0.25 and config.max_size == 1000
    config.validate()
    assert config_from_args(build_parser().parse_args([])).vimeo == VimeoEmulatorConfig()


def test_inspection_of_a_video(vimeo, link, anon):
    video = new_video(vimeo, 6, name="clip", privacy={"view": "nobody"})
    vid = video_id(video)
    patch(link, video["upload"]["upload_link"], 0, b"abc")
    info = inspect(anon, vid)
    assert set(info) == INSPECTION_KEYS
    assert (info["id"], info["uri"], info["name"], info["size"], info["received_bytes"]) == (
        vid, video["uri"], "clip", 6, 3)
    assert info["privacy"]["view"] == "nobody" and info["sha256"] is None and info["deleted"] is False
    assert info["upload_link"] == f"/vimeo/upload/{info['upload_id']}"
    assert (info["upload_status"], info["transcode_status"], info["status"]) == ("in_progress", "in_progress",
                                                                                  "uploading")  # fmt: skip
    patch(link, video["upload"]["upload_link"], 3, b"def")
    assert inspect(anon, vid)["sha256"] == sha256(b"abcdef")


def test_listing_newest_first_and_unknown_404(vimeo, anon):
    first, second = new_video(vimeo, 1), new_video(vimeo, 2)
    assert [v["id"] for v in anon.get(f"{CONTROL}/videos").json()] == [video_id(second), video_id(first)]
    missing = anon.get(f"{CONTROL}/videos/1")
    assert missing.status_code == 404 and "error" in missing.json()
    assert anon.post(f"{CONTROL}/videos/1/expire").status_code == 404


def test_reset_forgets_videos_and_their_files(vimeo, link, anon, emulator):
    video = new_video(vimeo, 3)
    patch(link, video["upload"]["upload_link"], 0, b"abc")
    stats = anon.get("/_emulator/stats").json()
    assert (stats["vimeo_videos"], stats["vimeo_videos_created"], stats["vimeo_uploads_completed"]) == (1, 1, 1)
    assert anon.post("/_emulator/reset").status_code == 200
    assert anon.get(f"{CONTROL}/videos").json() == []
    assert link.head(video["upload"]["upload_link"]).status_code == 404
    assert not list((emulator.config.data_dir / "tus").glob("*"))
    stats = anon.get("/_emulator/stats").json()
    assert (stats["vimeo_videos"], stats["vimeo_videos_created"], stats["vimeo_videos_deleted"]) == (0, 0, 0)


def test_stats_key_routes_by_template(vimeo, link, anon):
    video = create(vimeo, 3).json()
    patch(link, video["upload"]["upload_link"], 0, b"abc")
    vimeo.delete(video["uri"])
    routes = anon.get("/_emulator/stats").json()["routes"]
    assert routes["PATCH /vimeo/upload/{upload_id}"] == {"requests": 1, "body_bytes": 3, "statuses": {"204": 1}}
    assert routes["DELETE /vimeo/videos/{video_id}"]["statuses"] == {"204": 1}
    assert anon.get("/_emulator/stats").json()["vimeo_videos_deleted"] == 1

"""The ``tiktok`` config section: validation through PATCH, and the CLI flags."""

from __future__ import annotations

import re

import pytest

from airflow_provider_chunkup.emulators.cli import build_parser, config_from_args
from airflow_provider_chunkup.emulators.tiktok import TikTokEmulator, TikTokEmulatorConfig


@pytest.mark.parametrize(
    ("patch_body", "message"),
    [
        ({"tokens": [""]}, "tiktok.tokens"),
        ({"scopes": [1]}, "tiktok.scopes"),
        ({"privacy_level_options": ["EVERYONE"]}, "tiktok.privacy_level_options"),
        ({"failure_rate": 1.5}, "tiktok.failure_rate"),
        ({"processing_secs": -1}, "tiktok.processing_secs"),
        ({"max_pending_shares": -1}, "tiktok.max_pending_shares"),
        ({"init_rate_limit": -1}, "tiktok.init_rate_limit"),
        ({"status_rate_limit": -1}, "tiktok.status_rate_limit"),
        ({"upload_url_expiry_secs": 0}, "tiktok.upload_url_expiry_secs"),
        ({"spam_window_secs": 0}, "tiktok.spam_window_secs"),
        ({"max_daily_posts": -1}, "tiktok.max_daily_posts"),
        ({"rate_limit_window_secs": 0}, "tiktok.rate_limit_window_secs"),
        ({"max_video_post_duration_sec": 0}, "tiktok.max_video_post_duration_sec"),
    ],
)
def test_config_validation(anon, patch_body, message):
    response = anon.patch("/_emulator/config", json={"tiktok": patch_body})
    assert response.status_code == 400 and message in response.json()["error"]
    assert anon.get("/_emulator/config").json()["tiktok"] == {
        k: v for k, v in TikTokEmulatorConfig().__dict__.items()}


def test_a_patch_applies_at_once(anon, tiktok):
    assert anon.patch("/_emulator/config", json={"tiktok": {"privacy_level_options": ["SELF_ONLY"]}}).status_code == 200
    answer = tiktok.post("/v2/post/publish/creator_info/query/").json()
    assert answer["data"]["privacy_level_options"] == ["SELF_ONLY"]


def test_cli_flags_map_to_config():
    args = build_parser().parse_args(
        ["--tiktok-token", "a", "--tiktok-token", "b", "--tiktok-processing-secs", "2.5",
         "--tiktok-failure-rate", "0.25", "--tiktok-unaudited"]
    )  # fmt: skip
    config = config_from_args(args).tiktok
    assert config.tokens == ["a", "b"] and config.processing_secs == 2.5
    assert config.failure_rate == 0.25 and config.audited is False
    config.validate()
    assert config_from_args(build_parser().parse_args([])).tiktok == TikTokEmulatorConfig()


def test_the_chunks_preset_targets_the_upload_url_only():
    (target,) = TikTokEmulator.chunk_targets(TikTokEmulatorConfig())
    assert re.fullmatch(target, "PUT /tiktok-upload/v_pub_file~v2-1.7?upload_token=abc")
    assert not re.fullmatch(target, "POST /v2/post/publish/video/init/")

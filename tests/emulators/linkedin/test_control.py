"""The ``linkedin`` config section: validation through PATCH, and the CLI flags."""

from __future__ import annotations

import re

import pytest

from airflow_provider_chunkup.emulators.cli import build_parser, config_from_args
from airflow_provider_chunkup.emulators.linkedin import LinkedInEmulator, LinkedInEmulatorConfig


@pytest.mark.parametrize(
    ("patch_body", "message"),
    [
        ({"tokens": [""]}, "linkedin.tokens"),
        ({"owners": "urn:li:person:1"}, "linkedin.owners"),
        ({"oldest_version": "2025-01"}, "linkedin.oldest_version"),
        ({"part_bytes": 0}, "linkedin.part_bytes"),
        ({"max_file_bytes": 0}, "linkedin.max_file_bytes"),
        ({"upload_url_expiry_secs": 0}, "linkedin.upload_url_expiry_secs"),
        ({"rate_limit_window_secs": 0}, "linkedin.rate_limit_window_secs"),
        ({"failure_rate": -0.5}, "linkedin.failure_rate"),
        ({"processing_secs": -1}, "linkedin.processing_secs"),
        ({"rate_limit": -1}, "linkedin.rate_limit"),
    ],
)
def test_config_validation(anon, patch_body, message):
    response = anon.patch("/_emulator/config", json={"linkedin": patch_body})
    assert response.status_code == 400 and message in response.json()["error"]
    assert anon.get("/_emulator/config").json()["linkedin"] == dict(LinkedInEmulatorConfig().__dict__)


def test_a_patched_oldest_version_applies_at_once(anon, linkedin):
    assert anon.patch("/_emulator/config", json={"linkedin": {"oldest_version": "202601"}}).status_code == 200
    response = linkedin.get("/rest/videos/urn%3Ali%3Avideo%3Anope")
    assert response.status_code == 426 and response.json()["code"] == "NONEXISTENT_VERSION"


def test_cli_flags_map_to_config():
    args = build_parser().parse_args(
        ["--linkedin-token", "a", "--linkedin-token", "b", "--linkedin-part-bytes", "1000",
         "--linkedin-processing-secs", "2.5", "--linkedin-failure-rate", "0.25"]
    )  # fmt: skip
    config = config_from_args(args).linkedin
    assert config.tokens == ["a", "b"] and config.part_bytes == 1000
    assert config.processing_secs == 2.5 and config.failure_rate == 0.25
    config.validate()
    assert config_from_args(build_parser().parse_args([])).linkedin == LinkedInEmulatorConfig()


def test_the_chunks_preset_targets_the_part_urls_only():
    (target,) = LinkedInEmulator.chunk_targets(LinkedInEmulatorConfig())
    assert re.fullmatch(target, "PUT /linkedin-upload/C5F10AQ000000001/3?sig=abc")
    assert not re.fullmatch(target, "PUT /linkedin-upload/C5F10AQ000000001/captions?sig=abc")
    assert not re.fullmatch(target, "POST /rest/videos?action=finalizeUpload")

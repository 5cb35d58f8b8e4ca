"""The GCS section's config (defaults, validation, flags), inspection, stats and reset."""

from __future__ import annotations

import os

import pytest

from airflow_provider_chunkup.emulators.cli import build_parser, config_from_args
from airflow_provider_chunkup.emulators.gcs import GcsEmulatorConfig

from ..google_resumable.helpers import ALIGN, GCS_CONTROL, gcs_session, put, upload_id


def test_defaults():
    config = GcsEmulatorConfig()
    assert config.access_tokens == ["gcs-token"] and config.buckets == [] and config.completion_status == 200
    assert config.persist_partial is True and config.max_size == 5 * 1024**4


@pytest.mark.parametrize(
    ("patch_body", "message"),
    [
        ({"access_tokens": []}, None),
        ({"access_tokens": [""]}, "gcs.access_tokens"),
        ({"buckets": [""]}, "gcs.buckets"),
        ({"completion_status": 308}, "gcs.completion_status"),
        ({"no_range_rate": 2}, "gcs.no_range_rate"),
        ({"session_lifetime_secs": -5}, "gcs.session_lifetime_secs"),
    ],
)  # fmt: skip
def test_config_validation(anon, patch_body, message):
    response = anon.patch("/_emulator/config", json={"gcs": patch_body})
    if message is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400 and message in response.json()["error"]
    assert anon.get("/_emulator/config").json()["gcs"]["completion_status"] == 200


def test_cli_flags_map_to_config():
    args = build_parser().parse_args(["--gcs-token", "t", "--gcs-bucket", "a", "--gcs-bucket", "b",
                                      "--gcs-no-partial-persist"])  # fmt: skip
    config = config_from_args(args).gcs
    assert config.access_tokens == ["t"] and config.buckets == ["a", "b"] and config.persist_partial is False
    config.validate()
    assert config_from_args(build_parser().parse_args([])).gcs == GcsEmulatorConfig()


def test_inspection_stats_and_reset(google, emulator):
    data = os.urandom(ALIGN * 2)
    url = gcs_session(google, "x.mp4", len(data))
    put(google, url, data[:ALIGN], 0, len(data))
    session = google.get(f"{GCS_CONTROL}/sessions/{upload_id(url)}").json()
    assert (session["bucket"], session["name"], session["persisted"], session["state"]) == ("media", "x.mp4", ALIGN,
                                                                                             "open")  # fmt: skip
    cancelled = gcs_session(google, "y.mp4", 10)
    google.delete(cancelled)
    put(google, url, data[ALIGN:], ALIGN, len(data))
    assert [s["name"] for s in google.get(f"{GCS_CONTROL}/sessions").json()] == ["y.mp4", "x.mp4"]
    stats = google.get("/_emulator/stats").json()
    assert stats["gcs_sessions"] == 2 and stats["gcs_chunks"] == 2 and stats["gcs_sessions_cancelled"] == 1
    assert stats["gcs_objects"] == 1 and stats["gcs_objects_created"] == 1
    assert google.get(f"{GCS_CONTROL}/objects/media/nope").status_code == 404
    google.post("/_emulator/reset").raise_for_status()
    assert google.get(f"{GCS_CONTROL}/objects").json() == [] and google.get(f"{GCS_CONTROL}/sessions").json() == []
    assert list((emulator.config.data_dir / "gcs").glob("*.bin")) == []

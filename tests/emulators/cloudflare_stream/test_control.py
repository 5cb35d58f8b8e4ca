"""The cloudflare_stream section (defaults, validation, flags), inspection, reset and stats."""

from __future__ import annotations

import os

import pytest

from airflow_provider_chunkup.emulators.cli import build_parser, config_from_args
from airflow_provider_chunkup.emulators.cloudflare_stream import CloudflareStreamEmulatorConfig

from .helpers import ACCOUNT, CONTROL, MIN_CHUNK, STREAM, b64, inspect, new_video, patch, sha256

INSPECTION_KEYS = {
    "uid", "account_id", "via", "location", "meta", "creator", "direct_user", "require_signed_urls", "allowed_origins",
    "scheduled_deletion", "thumbnail_pct", "watermark", "max_duration_seconds", "size", "received_bytes", "sha256",
    "state", "pct_complete", "failed", "patches", "patching", "created_at", "completed_at", "deleted",
}  # fmt: skip


def test_defaults_are_cloudflares_limits():
    config = CloudflareStreamEmulatorConfig()
    assert (config.tokens, config.account_ids, config.max_size) == (["cf-token"], None, 30_000_000_000)
    assert (config.chunk_multiple, config.min_chunk_bytes, config.max_chunk_bytes) == (262_144, 5_242_880,
                                                                                       209_715_200)  # fmt: skip
    assert config.basic_max_bytes == 209_715_200 and (config.rate_limit, config.rate_limit_window_secs) == (1200, 300)
    assert (config.queued_secs, config.encode_secs, config.encode_failure_rate) == (0.5, 2.0, 0.0)


@pytest.mark.parametrize(
    ("patch_body", "message"),
    [
        ({"tokens": [""]}, "cloudflare_stream.tokens"),
        ({"account_ids": [""]}, "cloudflare_stream.account_ids"),
        ({"max_size": 0}, "cloudflare_stream.max_size"),
        ({"chunk_multiple": 0}, "cloudflare_stream.chunk_multiple"),
        ({"min_chunk_bytes": 300_000_000}, "min_chunk_bytes"),
        ({"queued_secs": 3.0}, "cloudflare_stream.queued_secs"),
        ({"encode_failure_rate": 2}, "cloudflare_stream.encode_failure_rate"),
        ({"rate_limit_window_secs": 0}, "cloudflare_stream.rate_limit"),
        ({"upload_expiry_secs": 0}, "cloudflare_stream.upload_expiry_secs"),
    ],
)
def test_config_validation(anon, patch_body, message):
    response = anon.patch("/_emulator/config", json={"cloudflare_stream": patch_body})
    assert response.status_code == 400 and message in response.json()["error"]
    assert anon.get("/_emulator/config").json()["cloudflare_stream"]["tokens"] == ["cf-token"]


def test_cli_flags_map_to_config():
    args = build_parser().parse_args(
        ["--cloudflare-token", "a", "--cloudflare-encode-secs", "0.2", "--cloudflare-encode-failure-rate", "0.5",
         "--cloudflare-small-chunks"]
    )  # fmt: skip
    config = config_from_args(args).cloudflare_stream
    assert config.tokens == ["a"] and config.encode_secs == 0.2 and config.queued_secs == 0.2
    assert config.encode_failure_rate == 0.5
    assert (config.chunk_multiple, config.min_chunk_bytes, config.max_chunk_bytes) == (256, 5120, 204_800)
    config.validate()
    assert config_from_args(build_parser().parse_args([])).cloudflare_stream == CloudflareStreamEmulatorConfig()


def test_inspection_of_a_video(cf, anon):
    data = os.urandom(MIN_CHUNK + 5)
    uid, location = new_video(cf, len(data), f"name {b64('clip')}", Upload_Creator="c1")
    patch(cf, location, 0, data[:MIN_CHUNK])
    info = inspect(anon, uid)
    assert set(info) == INSPECTION_KEYS
    assert (info["uid"], info["account_id"], info["via"], info["creator"], info["direct_user"]) == (
        uid, ACCOUNT, "tus", "c1", False)
    assert info["location"] == f"/client/v4/accounts/{ACCOUNT}/media/{uid}" and info["meta"] == {"name": "clip"}
    assert (info["size"], info["received_bytes"], info["sha256"]) == (len(data), MIN_CHUNK, None)
    assert (info["state"], info["pct_complete"], info["failed"], info["deleted"]) == ("pendingupload", "0.000000",
                                                                                      False, False)  # fmt: skip
    patch(cf, location, MIN_CHUNK, data[MIN_CHUNK:])
    info = inspect(anon, uid)
    assert info["sha256"] == sha256(data) and info["state"] == "queued" and info["completed_at"]


def test_listing_newest_first_and_unknown_404(cf, anon):
    first, _ = new_video(cf, 1)
    second, _ = new_video(cf, 2)
    assert [v["uid"] for v in anon.get(f"{CONTROL}/videos").json()] == [second, first]
    missing = anon.get(f"{CONTROL}/videos/nosuch")
    assert missing.status_code == 404 and "error" in missing.json()
    assert anon.post(f"{CONTROL}/videos/nosuch/expire").status_code == 404


def test_reset_forgets_videos_and_their_files(cf, anon, emulator):
    uid, location = new_video(cf, 3)
    patch(cf, location, 0, b"abc")
    stats = anon.get("/_emulator/stats").json()
    assert (stats["cloudflare_stream_videos"], stats["cloudflare_stream_uploads_completed"]) == (1, 1)
    assert anon.post("/_emulator/reset").status_code == 200
    assert anon.get(f"{CONTROL}/videos").json() == []
    assert cf.get(f"{STREAM}/{uid}").status_code == 404
    assert not list((emulator.config.data_dir / "tus").glob("*"))
    assert anon.get("/_emulator/stats").json()["cloudflare_stream_videos_created"] == 0


def test_stats_key_routes_by_template(cf, anon):
    uid, location = new_video(cf, 3)
    patch(cf, location, 0, b"abc")
    cf.delete(f"{STREAM}/{uid}")
    stats = anon.get("/_emulator/stats").json()
    routes = stats["routes"]
    assert routes["POST /client/v4/accounts/{account_id}/stream"]["statuses"] == {"201": 1}
    assert routes["PATCH /client/v4/accounts/{account_id}/media/{upload_id}"]["statuses"] == {"204": 1}
    assert routes["DELETE /client/v4/accounts/{account_id}/stream/{uid}"]["statuses"] == {"200": 1}
    assert (stats["cloudflare_stream_videos"], stats["cloudflare_stream_videos_deleted"]) == (0, 1)

"""The tus section (defaults, validation, flags), its inspection endpoints, reset, stats and faults."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest

from airflow_provider_chunkup.emulators.cli import build_parser, config_from_args
from airflow_provider_chunkup.emulators.tus import TusEmulatorConfig

from .helpers import CONTROL, b64, inspect, new_upload, patch, sha256, upload_id

INSPECTION_KEYS = {
    "id", "url", "origin", "state", "length", "deferred_length", "offset", "size", "complete", "sha256", "metadata",
    "metadata_header", "concat", "parts", "patching", "patches", "kept_from_broken", "created_at", "expires_at",
    "expired", "terminated", "terminated_at",
}  # fmt: skip


def test_defaults():
    config = TusEmulatorConfig()
    assert config.path == "/files/" and config.absolute_location is False
    assert config.extensions == [
        "creation", "creation-with-upload", "creation-defer-length", "termination", "expiration", "checksum",
        "concatenation",
    ]  # fmt: skip
    assert config.checksum_algorithms == ["sha1", "sha256", "md5"]
    assert (config.max_size, config.max_chunk_bytes, config.expiry_secs) == (None, None, 86400)


@pytest.mark.parametrize(
    ("patch_body", "message"),
    [
        ({"path": "files"}, "tus.path"),
        ({"path": "/files"}, "tus.path"),
        ({"path": "/_emulator/tus/"}, "tus.path"),
        ({"extensions": ["creation", "resume"]}, "tus.extensions"),
        ({"extensions": ["creation-with-upload"]}, "needs creation"),
        ({"checksum_algorithms": ["crc32"]}, "tus.checksum_algorithms"),
        ({"checksum_algorithms": []}, "tus.checksum_algorithms"),
        ({"max_size": 0}, "tus.max_size"),
        ({"max_chunk_bytes": -1}, "tus.max_chunk_bytes"),
        ({"expiry_secs": 0}, "tus.expiry_secs"),
    ],
)
def test_config_validation(anon, patch_body, message):
    response = anon.patch("/_emulator/config", json={"tus": patch_body})
    assert response.status_code == 400 and message in response.json()["error"]
    assert anon.get("/_emulator/config").json()["tus"]["path"] == "/files/"


def test_config_patch_applies_at_once(anon, tus):
    response = anon.patch("/_emulator/config", json={"tus": {"extensions": ["creation"], "max_size": 10}})
    assert response.status_code == 200
    options = tus.options("/files/")
    assert options.headers["tus-extension"] == "creation" and options.headers["tus-max-size"] == "10"


def test_cli_flags_map_to_config():
    args = build_parser().parse_args(
        ["--tus-expiry-secs", "60", "--tus-extensions", "creation, termination", "--tus-max-size", "1000",
         "--tus-absolute-location"]
    )  # fmt: skip
    config = config_from_args(args)
    assert config.tus.expiry_secs == 60 and config.tus.extensions == ["creation", "termination"]
    assert config.tus.max_size == 1000 and config.tus.absolute_location is True
    config.tus.validate()
    defaults = config_from_args(build_parser().parse_args([]))
    assert defaults.tus == TusEmulatorConfig()
    assert config_from_args(build_parser().parse_args(["--tus-extensions", ""])).tus.extensions == []


def test_cli_refuses_an_unknown_extension(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--tus-extensions", "creation,resume"])
    assert "unknown tus extension(s) resume" in capsys.readouterr().err


def test_inspection_of_an_upload(tus, anon):
    metadata = f"filename {b64('clip.mp4')},flag"
    url = new_upload(tus, 6, Upload_Metadata=metadata)
    patch(tus, url, 0, b"abc")
    info = inspect(anon, url)
    assert set(info) == INSPECTION_KEYS
    assert info["id"] == upload_id(url) and info["url"] == url and info["origin"] == "tus"
    assert (info["length"], info["offset"], info["size"], info["patches"]) == (6, 3, 3, 1)
    assert info["state"] == "uploading" and info["complete"] is False and info["sha256"] is None
    assert info["metadata"] == {"filename": "clip.mp4", "flag": None} and info["metadata_header"] == metadata
    assert info["concat"] is None and info["parts"] == [] and info["deferred_length"] is False
    assert info["expires_at"] == pytest.approx(info["created_at"] + 86400)
    assert info["expired"] is info["terminated"] is False and info["terminated_at"] is None
    patch(tus, url, 3, b"def")
    done = inspect(anon, url)
    assert done["complete"] is True and done["sha256"] == sha256(b"abcdef") and done["expires_at"] is None


def test_listing_newest_first_and_unknown_404(tus, anon):
    first, second = new_upload(tus, 1), new_upload(tus, 2)
    listing = anon.get(f"{CONTROL}/uploads").json()
    assert [u["id"] for u in listing] == [upload_id(second), upload_id(first)]
    missing = anon.get(f"{CONTROL}/uploads/nosuch")
    assert missing.status_code == 404 and "error" in missing.json()


def test_expire_endpoint(tus, anon):
    url = new_upload(tus, 3)
    info = anon.post(f"{CONTROL}/uploads/{upload_id(url)}/expire").json()
    assert info["expired"] is True and info["state"] == "expired"
    assert tus.head(url).status_code == 410


def test_reset_forgets_uploads_and_files(tus, anon, emulator):
    url = new_upload(tus, 3)
    patch(tus, url, 0, b"abc")
    stats = anon.get("/_emulator/stats").json()
    assert stats["tus_uploads"] == 1 and stats["tus_uploads_created"] == 1
    assert anon.post("/_emulator/reset").status_code == 200
    assert anon.get(f"{CONTROL}/uploads").json() == []
    assert tus.head(url).status_code == 404
    assert not list((emulator.config.data_dir / "tus").glob("*"))
    stats = anon.get("/_emulator/stats").json()
    assert stats["tus_uploads"] == 0 and stats["tus_uploads_created"] == 0


def test_stats_keys_routes_by_template(tus, anon):
    url = new_upload(tus, 3)
    patch(tus, url, 0, b"abc")
    routes = anon.get("/_emulator/stats").json()["routes"]
    assert routes["POST /files/"]["statuses"] == {"201": 1}
    assert routes["PATCH /files/{upload_id}"] == {"requests": 1, "body_bytes": 3, "statuses": {"204": 1}}


def test_injected_429_as_tus_answers_it(tus, anon):
    rule = {"match": "^PATCH /files/", "action": "rate_limit", "retry_after_secs": 3}
    assert anon.post("/_emulator/faults", json=rule).status_code == 201
    url = new_upload(tus, 3)
    response = patch(tus, url, 0, b"abc")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3" and response.headers["tus-resumable"] == "1.0.0"
    assert tus.head(url).headers["upload-offset"] == "0"


def resuming_upload(tus: httpx.Client, url: str, data: bytes, chunk: int) -> int:
    """A client as the protocol wants one: after any failure, HEAD for the offset and go on from there."""
    offset, failures = 0, 0
    while offset < len(data):
        try:
            response = patch(tus, url, offset, data[offset:offset + chunk])
            if response.status_code == 204:
                offset = int(response.headers["upload-offset"])
                continue
        except httpx.TransportError:
            pass
        failures += 1
        assert failures < 100
        offset = int(tus.head(url).headers["upload-offset"])
    return failures


def test_chunks_preset_covers_tus_patches(tus, anon):
    preset = anon.post("/_emulator/faults", json={"preset": "chunks:0.1", "seed": 3})
    assert preset.status_code == 201
    assert all(r["match"].count("PATCH /files/") == 1 for r in preset.json()["rules"])
    data = os.urandom(200 * 1024)
    url = new_upload(tus, len(data))
    failures = resuming_upload(tus, url, data, 4 * 1024)
    injected = anon.get("/_emulator/faults").json()["injected"]
    assert injected["total"] > 0 and failures > 0
    info = inspect(anon, url)
    assert info["complete"] is True and info["sha256"] == hashlib.sha256(data).hexdigest()
    # Creation and HEAD are not chunk requests: never faulted.
    statuses = anon.get("/_emulator/stats").json()["routes"]
    assert statuses["POST /files/"]["statuses"] == {"201": 1}
    assert set(statuses["HEAD /files/{upload_id}"]["statuses"]) == {"200"}


def test_fault_drop_mid_body_stores_nothing_and_error_after_stores_the_chunk(tus, anon):
    url = new_upload(tus, 6)
    anon.post("/_emulator/faults", json={"match": "^PATCH /files/", "action": "drop", "when": "mid_body"})
    with pytest.raises(httpx.TransportError):
        patch(tus, url, 0, b"abc")
    assert tus.head(url).headers["upload-offset"] == "0"  # the handler never ran
    anon.post("/_emulator/faults", json={"match": "^PATCH /files/", "status": 503, "when": "after"})
    assert patch(tus, url, 0, b"abc").status_code == 503
    assert tus.head(url).headers["upload-offset"] == "3"  # stored, the answer lost: HEAD tells
    assert patch(tus, url, 3, b"def").status_code == 204
    assert inspect(anon, url)["sha256"] == sha256(b"abcdef")

"""Google's own clients, unmodified, upload objects through the GCS front door (the peers' venv, in a subprocess):
google-api-python-client's ``storage.v1`` objects.insert and google-resumable-media's ``ResumableUpload``."""

from __future__ import annotations

import os

import pytest

from ..google_resumable.helpers import GCS_CONTROL, crc32c_b64, sha256
from ..youtube.test_google_api_client import run_peer


@pytest.mark.parametrize(("mode", "chunk_size", "calls"),
                         [("storage", 256 * 1024, 4), ("storage", 300_000, 4), ("resumable-media", 256 * 1024, 4),
                          ("resumable-media", 512 * 1024, 2)])  # fmt: skip
def test_google_clients_upload_an_object_byte_exact(emulator, anon, tmp_path, mode, chunk_size, calls):
    data = os.urandom(900_000)
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    out = run_peer(mode, emulator.url, "gcs-token", source, chunk_size)
    assert out["name"] == "clips/peer.mp4" and out["size"] == str(len(data)) and out["crc32c"] == crc32c_b64(data)
    assert out["chunks"] == calls
    info = anon.get(f"{GCS_CONTROL}/objects/media/clips/peer.mp4").json()
    assert info["sha256"] == sha256(data) and info["size"] == len(data)
    routes = anon.get("/_emulator/stats").json()["routes"]
    assert routes["PUT /upload/storage/v1/b/{bucket}/o"]["statuses"] == {"308": calls - 1, "200": 1}


def test_a_token_from_the_oauth_endpoint_works_for_google_resumable_media(emulator, anon, tmp_path):
    token = anon.post("/token", data={"grant_type": "refresh_token", "client_id": "chunkup-client",
                                      "client_secret": "chunkup-secret", "refresh_token": "chunkup-refresh"})
    data = os.urandom(300_000)
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    out = run_peer("resumable-media", emulator.url, token.json()["access_token"], source, 256 * 1024)
    assert out["md5Hash"] and anon.get(f"{GCS_CONTROL}/objects/media/clips/peer.mp4").json()["sha256"] == sha256(data)

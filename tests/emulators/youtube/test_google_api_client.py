"""google-api-python-client 2.202.0 (Google's own client, unmodified) inserts a video through the emulator.

It runs in the peers' venv (``bench/.venv-peers``), built from its static discovery document with ``rootUrl`` and
``baseUrl`` patched to the emulator: ``MediaFileUpload(resumable=True)`` and the ``next_chunk()`` loop.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ..google_resumable.helpers import YT_CONTROL, sha256
from ..x.test_tweepy_posts import peers_python

SCRIPT = Path(__file__).parents[1] / "google_resumable" / "google_peers.py"


def run_peer(mode: str, root: str, token: str, source: Path, chunk_size: int, *more: str) -> dict:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    run = subprocess.run(
        [str(peers_python()), str(SCRIPT), mode, "--root", root, "--token", token, "--file", str(source),
         "--chunk-size", str(chunk_size), *more],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize(("chunk_size", "calls"), [(256 * 1024, 4), (300_000, 4)])
def test_videos_insert_with_media_file_upload_is_byte_exact(emulator, anon, tmp_path, chunk_size, calls):
    data = os.urandom(900_000)
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    out = run_peer("youtube", emulator.url, "youtube-token", source, chunk_size)
    assert out["snippet"]["title"] == "google-api-python-client was here"
    assert out["status"]["uploadStatus"] == "uploaded" and out["status"]["privacyStatus"] == "unlisted"
    assert out["chunks"] == calls
    assert out["listed"]["items"][0]["processingDetails"]["processingStatus"] in ("processing", "succeeded")
    info = anon.get(f"{YT_CONTROL}/videos/{out['id']}").json()
    assert info["sha256"] == sha256(data) and info["size"] == len(data) and info["notify_subscribers"] is False
    routes = anon.get("/_emulator/stats").json()["routes"]
    assert routes["POST /upload/youtube/v3/videos"]["statuses"] == {"200": 1}
    assert routes["PUT /upload/youtube/v3/videos"]["statuses"] == {"308": calls - 1, "201": 1}
    # 300,000-byte chunks are not 256 KiB multiples: the emulator kept the aligned prefix of each, the client
    # went on from the Range it was given.
    session = anon.get(f"{YT_CONTROL}/sessions").json()[0]
    assert session["dropped_bytes"] == (0 if chunk_size == 256 * 1024 else 3 * (300_000 - 256 * 1024))


def test_thumbnails_set_with_a_resumable_media_file_upload(emulator, anon, tmp_path):
    source, image = tmp_path / "clip.mp4", tmp_path / "thumb.png"
    source.write_bytes(os.urandom(1000))
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(300_000)
    image.write_bytes(png)
    out = run_peer("youtube", emulator.url, "youtube-token", source, 256 * 1024, "--thumbnail", str(image))
    assert out["thumbnail"]["kind"] == "youtube#thumbnailSetResponse" and out["thumbnail_chunks"] == 2
    thumbnail = anon.get(f"{YT_CONTROL}/videos/{out['id']}").json()["thumbnail"]
    assert thumbnail == {"content_type": "image/png", "size": len(png), "sha256": sha256(png)}

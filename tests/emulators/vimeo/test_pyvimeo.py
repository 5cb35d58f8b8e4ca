"""PyVimeo 1.1.2 (a client written by others, over tuspy) uploads through the emulator's Vimeo front door, unmodified.

It lives in the peers' venv (``bench/.venv-peers``); ``pyvimeo_upload.py`` runs there in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from ..x.test_tweepy_posts import peers_python
from .helpers import CONTROL, sha256, video_id

SCRIPT = Path(__file__).with_name("pyvimeo_upload.py")


def test_pyvimeo_uploads_a_file_byte_exact(emulator, anon, tmp_path):
    python = peers_python()
    data = os.urandom(300_000)
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    run = subprocess.run(
        [str(python), str(SCRIPT), "--api-root", f"{emulator.url}/vimeo", "--token", "vimeo-token",
         "--file", str(source), "--chunk-size", str(64 * 1024)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["status"] == {"uri": out["uri"], "name": "pyvimeo was here", "upload": {"status": "complete"}}
    info = anon.get(f"{CONTROL}/videos/{video_id(out)}").json()
    assert info["sha256"] == sha256(data) and info["size"] == len(data) and info["privacy"]["view"] == "unlisted"
    assert info["patches"] == 5  # 64 KiB chunks: tuspy sent the file in five PATCHes
    routes = anon.get("/_emulator/stats").json()["routes"]
    assert routes["POST /vimeo/me/videos"]["statuses"] == {"200": 1}
    assert routes["PATCH /vimeo/upload/{upload_id}"]["statuses"] == {"204": 5}

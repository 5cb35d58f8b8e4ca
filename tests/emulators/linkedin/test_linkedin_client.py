"""linkedin-api-client 0.3.0 (LinkedIn's own Rest.li client) talks to the emulator's LinkedIn front door, unmodified.

It lives in the peers' venv (``bench/.venv-peers``); ``linkedin_client_upload.py`` runs there in a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from ..x.test_tweepy_posts import peers_python
from .helpers import CONTROL, OWNER, TOKEN, VERSION, inspect

SCRIPT = Path(__file__).with_name("linkedin_client_upload.py")


def test_linkedin_api_client_uploads_a_file_byte_exact(emulator, anon, tmp_path, clock):
    emulator.config.linkedin.part_bytes = 64 * 1024
    python = peers_python()
    data = os.urandom(200_000)
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    run = subprocess.run(
        [str(python), str(SCRIPT), "--base", emulator.url, "--token", TOKEN, "--version", VERSION,
         "--owner", OWNER, "--file", str(source)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["parts"] == 4 and (out["finalize_status"], out["finalize_body"]) == (200, "")
    assert out["video"]["id"] == out["urn"] and out["video"]["status"] == "PROCESSING"  # the clock is paused
    info = inspect(anon, out["urn"])
    assert info["sha256"] == hashlib.sha256(data).hexdigest() and info["etags"] == out["etags"]
    routes = anon.get("/_emulator/stats").json()["routes"]
    assert routes["POST /rest/videos"]["statuses"] == {"200": 2}
    assert routes["GET /rest/videos/{urn}"]["statuses"] == {"200": 1}
    assert anon.get(f"{CONTROL}/videos").json()[0]["urn"] == out["urn"]

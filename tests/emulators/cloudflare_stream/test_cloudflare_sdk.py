"""The ``cloudflare`` Python SDK 5.9.0 (written by others) creates, reads and deletes a video on the emulator, and
tuspy uploads its bytes to the Location the creation answered; all unmodified.

Both live in the peers' venv (``bench/.venv-peers``); ``cloudflare_sdk.py`` runs there in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from ..x.test_tweepy_posts import peers_python
from .helpers import ACCOUNT, CONTROL, MIN_CHUNK, TOKEN, sha256

SCRIPT = Path(__file__).with_name("cloudflare_sdk.py")


def test_sdk_creates_reads_and_deletes_and_tuspy_uploads(cf, anon, emulator, tmp_path):
    python = peers_python()
    emulator.config.cloudflare_stream.queued_secs = emulator.config.cloudflare_stream.encode_secs = 0.0
    data = os.urandom(3 * MIN_CHUNK + 999)
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    run = subprocess.run(
        [str(python), str(SCRIPT), "--base-url", f"{emulator.url}/client/v4", "--token", TOKEN,
         "--account", ACCOUNT, "--file", str(source), "--size", str(len(data)), "--chunk-size", str(MIN_CHUNK)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    uid = out["uid"]
    assert out["status"] == 201 and out["location"] == f"{emulator.url}/client/v4/accounts/{ACCOUNT}/media/{uid}"
    assert out["before"] == {"uid": uid, "state": "pendingupload", "meta": {"name": "sdk clip"},
                             "creator": "sdk-user", "ready": False}  # fmt: skip
    assert out["after"]["state"] == "ready" and out["after"]["pct"] == "100.000000" and out["after"]["ready"] is True
    assert out["after"]["ready_at"] and out["after"]["size"] == len(data)
    assert out["stored_sha256"] == sha256(data)
    assert out["gone"] == {"status": 404, "error": "NotFoundError"}
    info = anon.get(f"{CONTROL}/videos/{uid}").json()
    assert info["patches"] == 4 and info["deleted"] is True and info["received_bytes"] == len(data)
    routes = anon.get("/_emulator/stats").json()["routes"]
    assert routes["PATCH /client/v4/accounts/{account_id}/media/{upload_id}"]["statuses"] == {"204": 4}

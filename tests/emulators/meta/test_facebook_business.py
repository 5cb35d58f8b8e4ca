"""facebook-business 26.0.3 (Meta's SDK) uploads through the emulator's Graph video front door, unmodified.

It lives in the peers' venv (``bench/.venv-peers``); ``facebook_business_upload.py`` runs ``AdVideo.remote_create()``
there in a subprocess, its Graph hosts rewritten to the emulator by an ``HTTPAdapter`` as the notes describe.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from ..x.test_tweepy_posts import peers_python
from .helpers import CONTROL, TOKEN, sha256

SCRIPT = Path(__file__).with_name("facebook_business_upload.py")
KIB = 1024


def remote_create(emulator: Any, source: Path, *extra: str) -> dict[str, Any]:
    python = peers_python()
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    run = subprocess.run(
        [str(python), str(SCRIPT), "--emulator", emulator.url, "--token", TOKEN, "--account", "4242",
         "--file", str(source), *extra],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_remote_create_uploads_every_window_byte_exact(emulator, anon, tmp_path):
    emulator.config.meta.window_bytes = 96 * KIB
    emulator.config.meta.window_variation = 0.5
    data = os.urandom(500 * KIB)
    source = tmp_path / "ad.mp4"
    source.write_bytes(data)
    out = remote_create(emulator, source)
    assert "error" not in out, out
    info = anon.get(f"{CONTROL}/videos/{out['id']}").json()
    assert info["sha256"] == sha256(data) and info["bytes"] == len(data) and info["finished"] is True
    assert info["kind"] == "advideo" and info["parent"] == "act_4242" and info["title"] == "ad.mp4"
    sizes = [end - start for start, end in info["windows"]]
    assert sizes == [96 * KIB, 48 * KIB, 72 * KIB, 96 * KIB, 48 * KIB, 72 * KIB, 68 * KIB]  # it followed the server
    routes = anon.get("/_emulator/stats").json()["routes"]
    phases = {phase: routes[f"POST /{{ver}}/{{node}}/advideos {phase}"]["statuses"]
              for phase in ("start", "transfer", "finish")}
    assert phases == {"start": {"200": 1}, "transfer": {"200": 7}, "finish": {"200": 1}}


def test_remote_create_recovers_from_a_1363037(emulator, anon, tmp_path):
    emulator.config.meta.window_bytes = 64 * KIB
    data = os.urandom(200 * KIB)
    source = tmp_path / "ad.mp4"
    source.write_bytes(data)
    anon.post(f"{CONTROL}/transfer-faults", json={"answers": ["wrong_offset"]})
    out = remote_create(emulator, source)
    assert "error" not in out, out
    info = anon.get(f"{CONTROL}/videos/{out['id']}").json()
    assert info["sha256"] == sha256(data) and info["transfers"] == 4
    statuses = anon.get("/_emulator/stats").json()["routes"]["POST /{ver}/{node}/advideos transfer"]["statuses"]
    assert statuses == {"200": 4, "400": 1}  # the first window answered 1363037 once, then resent
    assert anon.get("/_emulator/faults").json()["injected"]["meta_wrong_offset"] == 1


def test_remote_create_raises_on_a_lost_session(emulator, anon, tmp_path):
    emulator.config.meta.window_bytes = 64 * KIB
    source = tmp_path / "ad.mp4"
    source.write_bytes(os.urandom(200 * KIB))
    anon.post(f"{CONTROL}/transfer-faults", json={"answers": ["session_lost"]})
    out = remote_create(emulator, source)
    assert out["error"]["error"]["error_subcode"] == 1363030


def test_remote_create_waits_for_encoding_through_the_status(emulator, anon, tmp_path):
    emulator.config.meta.processing_secs = 0
    source = tmp_path / "ad.mp4"
    source.write_bytes(os.urandom(5000))
    out = remote_create(emulator, source, "--wait")
    assert "error" not in out and "failed" not in out, out
    routes = anon.get("/_emulator/stats").json()["routes"]
    assert routes["GET /{ver}/{object_id}"]["statuses"] == {"200": 1}  # one poll: ready at once
    emulator.config.meta.processing_failure_rate = 1.0
    assert remote_create(emulator, source, "--wait") == {"failed": "video encoding status: error"}

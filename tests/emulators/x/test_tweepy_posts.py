"""tweepy (a client written by others) against the emulator's posts, alt text and users routes.

tweepy pins oauthlib < 4, so it lives in the peers' venv (``bench/.venv-peers``, made by ``.ci/setup``
and ``bench/run``); ``bench/peers/tweepy_post.py`` runs there in a subprocess against an emulator
served over HTTPS on loopback (tweepy speaks https only) with a throwaway certificate.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from self_signed import self_signed_cert

from airflow_provider_chunkup.emulators import EmulatorServer

ROOT = Path(__file__).resolve().parents[3]
PEERS = ROOT / "bench" / ".venv-peers"
PEERS_PYTHON = PEERS / "bin" / "python"
SCRIPT = ROOT / "bench" / "peers" / "tweepy_post.py"


def peers_python() -> Path:
    """The peers' interpreter, made with uv as .ci/setup makes it when it is missing."""
    if PEERS_PYTHON.exists():
        return PEERS_PYTHON
    problem = "bench/.venv-peers is missing (bash .ci/setup makes it)"
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if Path(uv).exists():
        made = subprocess.run([uv, "venv", "--quiet", "--python", "python3.11", str(PEERS)], capture_output=True)
        if made.returncode != 0:
            made = subprocess.run([uv, "venv", "--quiet", str(PEERS)], capture_output=True)
        if made.returncode == 0:
            requirements = ROOT / "bench" / "peers" / "requirements.txt"
            made = subprocess.run([uv, "pip", "install", "--quiet", "--python", str(PEERS_PYTHON), "-r",
                                   str(requirements)], capture_output=True)  # fmt: skip
        if made.returncode == 0:
            return PEERS_PYTHON
        problem += f"; building it failed: {made.stderr.decode(errors='replace')[-500:]}"
    if os.environ.get("CI") == "true":
        pytest.fail(problem, pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="module")
def https_emulator(tmp_path_factory) -> Iterator[tuple[EmulatorServer, Path]]:
    cert_path, key_path = self_signed_cert(tmp_path_factory.mktemp("tls"))
    with EmulatorServer(tls_cert=cert_path, tls_key=key_path) as server:
        yield server, cert_path


def test_tweepy_uploads_describes_posts_and_reads_back(https_emulator):
    python = peers_python()
    server, cert = https_emulator
    server.reset()
    env = {**os.environ, "REQUESTS_CA_BUNDLE": str(cert), "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1"}
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(name, None)
    run = subprocess.run([str(python), str(SCRIPT), "--base-url", server.url, "--text", "tweepy was here"],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    media_id, post_id = out["media_id"], out["post"]["id"]
    assert out["me"] == {"id": "1843000000000000001", "username": "chunkup_emulator", "name": "chunkup emulator"}
    assert out["post"] == {"id": post_id, "text": "tweepy was here", "edit_history_tweet_ids": [post_id],
                           "edit_history_post_ids": [post_id]}  # fmt: skip
    assert out["duplicate"] == {"error": "Forbidden", "status": 403,
                                "messages": ["You are not allowed to create a Tweet with duplicate content."]}
    assert out["too_long"]["error"] == "BadRequest" and out["too_long"]["status"] == 400
    assert out["too_long"]["messages"][0].startswith("Your Tweet text is too long.")
    [listed] = out["timeline"]["data"]
    assert listed["id"] == post_id and listed["attachments"] == {"media_keys": [f"3_{media_id}"]}
    assert out["timeline"]["media"] == [{"media_key": f"3_{media_id}", "type": "photo", "alt_text": "A black square"}]
    assert out["timeline"]["meta"] == {"result_count": 1, "newest_id": post_id, "oldest_id": post_id}
    assert out["lookup"]["author_id"] == "1843000000000000001"

    verify = ssl.create_default_context(cafile=str(cert))
    [stored] = httpx.get(f"{server.url}/_emulator/x/posts", verify=verify).json()
    assert stored["id"] == post_id and stored["auth_kind"] == "bearer" and stored["media_ids"] == [media_id]
    assert stored["body"] == {"text": "tweepy was here", "media": {"media_ids": [media_id]}}
    media = httpx.get(f"{server.url}/_emulator/x/media/{media_id}", verify=verify).json()
    assert media["alt_text"] == "A black square" and media["finalized"]
    routes = httpx.get(f"{server.url}/_emulator/stats", verify=verify).json()["routes"]
    assert routes["POST /1.1/media/metadata/create.json"]["statuses"] == {"200": 1}
    assert routes["POST /2/tweets"]["statuses"] == {"201": 1, "403": 1, "400": 1}

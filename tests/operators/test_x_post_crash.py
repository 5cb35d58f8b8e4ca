"""An X post task killed with SIGKILL, then run again by Airflow, posts exactly once.

Each try is a real ``airflow tasks test`` process on one DAG run, with the real task state store in the
metadata DB. Two moments: after X answered (the post recorded, the task not yet returned), and while X's
answer is still on its way (X stored the post; the emulator holds the answer until the kill).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import httpx
import pytest
from airflow_tasks import AIRFLOW, airflow_cli

from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.protocols.chunking import MiB

pytestmark = pytest.mark.dag


def posts(emulator) -> list[dict]:
    return httpx.get(f"{emulator.url}/_emulator/x/posts").json()


def post_requests(emulator) -> int:
    return httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"].get("POST /2/tweets", {}).get("requests", 0)


def kill_when(env: dict[str, str], run_id: str, ready, what: str) -> None:
    """Start a try and SIGKILL it (task, event loop and all) as soon as ``ready()`` holds."""
    worker = subprocess.Popen([AIRFLOW, "tasks", "test", "chunkup_crash_post", "post", run_id], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    try:
        while not ready():
            assert worker.poll() is None, f"the try ended by itself (exit {worker.returncode}) before {what}"
            assert time.monotonic() < deadline, f"no {what} in 180 s"
            time.sleep(0.02)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL


@pytest.fixture
def post_run(crash_env, x_connection, media_file, emulator):
    """A DAG run of chunkup_crash_post for a processed video; returns (env, run_id, video result)."""
    x_connection()
    video = XMediaUploadHook().upload(media_file(MiB + 1), media_category="tweet_video").to_dict()
    env = {**crash_env, **{k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}}

    def start(run_id: str, text: str) -> tuple[dict[str, str], str]:
        conf = {"text": text, "media_id": video["media_id"], "alt_text": "A clip."}
        done = airflow_cli("dags", "trigger", "chunkup_crash_post", "--run-id", run_id, "--conf",
                           json.dumps(conf), env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        return env, run_id

    return start, video


def test_killed_after_x_answered_the_retry_returns_the_same_post(post_run, emulator, tmp_path):
    start, _ = post_run
    env, run_id = start("killed-after-answer", "Posted before the kill")
    posted = tmp_path / "posted"
    kill_when({**env, "CHUNKUP_PAUSE_AFTER_POST": str(posted)}, run_id, posted.exists, "post recorded")
    (stored,) = posts(emulator)
    assert posted.read_text() == stored["id"]

    retry = airflow_cli("tasks", "test", "chunkup_crash_post", "post", run_id, env=env)
    log = retry.stdout + retry.stderr
    assert retry.returncode == 0, log[-6000:]
    assert f"Post {stored['id']} was published by an earlier try" in log
    assert post_requests(emulator) == 1 and len(posts(emulator)) == 1


def test_killed_while_xs_answer_was_on_its_way_the_retry_finds_the_post(post_run, emulator):
    start, video = post_run
    env, run_id = start("killed-in-flight", "Posted, answer lost")
    # X stores the post, then its answer is held (far longer than the test needs) until the kill.
    httpx.post(f"{emulator.url}/_emulator/faults", json={"match": "^POST /2/tweets", "action": "delay",
                                                         "when": "after", "delay_secs": 600}).raise_for_status()
    kill_when(env, run_id, lambda: bool(posts(emulator)), "post stored by the emulator")
    (stored,) = posts(emulator)
    httpx.delete(f"{emulator.url}/_emulator/faults").raise_for_status()
    # The held request is counted only when it ends: count what the retry sends from here.
    httpx.post(f"{emulator.url}/_emulator/stats/reset").raise_for_status()

    retry = airflow_cli("tasks", "test", "chunkup_crash_post", "post", run_id, env=env)
    log = retry.stdout + retry.stderr
    assert retry.returncode == 0, log[-6000:]
    assert f"Found post {stored['id']}, made by an earlier attempt" in log
    assert post_requests(emulator) == 0 and len(posts(emulator)) == 1
    assert stored["media_ids"] == [video["media_id"]]

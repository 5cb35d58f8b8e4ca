"""A worker killed with SIGKILL mid-upload, then run again by Airflow, continues the same remote upload.

Each try is a real ``airflow tasks test`` process on one DAG run, so the task state store (Airflow
3.3+) is the real one in the metadata DB; the test kills the process (``kill -9``, the task and its
event loop with it) at points drawn from a seeded RNG while the emulator slows every chunk down.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import time

import httpx
import pytest
from airflow_tasks import AIRFLOW, airflow_cli

MiB = 1024 * 1024

pytestmark = pytest.mark.dag


def route_requests(emulator, route: str) -> int:
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    return routes.get(route, {}).get("requests", 0)


def run_until_killed(env: dict[str, str], run_id: str, emulator, route: str, kill_at: int) -> None:
    """Start a try, SIGKILL it once the emulator has answered ``kill_at`` requests on ``route``."""
    worker = subprocess.Popen([AIRFLOW, "tasks", "test", "chunkup_crash_upload", "upload", run_id], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while route_requests(emulator, route) < kill_at:
            assert worker.poll() is None, f"the try ended by itself (exit {worker.returncode}) before the kill"
            assert time.monotonic() < deadline, "the upload did not get far enough in 120 s"
            time.sleep(0.02)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL


def trigger(env: dict[str, str], run_id: str, conf: dict[str, str]) -> None:
    done = airflow_cli("dags", "trigger", "chunkup_crash_upload", "--run-id", run_id, "--conf", json.dumps(conf),
                       env=env)
    assert done.returncode == 0, done.stderr[-3000:]


APIS = {
    # api, connection, chunk, init route, chunk route, finalize route (None: the last part completes it)
    "x": ("chunkup_x_default", MiB, "POST /2/media/upload/initialize", "POST /2/media/upload/{id}/append",
          "POST /2/media/upload/{id}/finalize"),
    "apivideo": ("chunkup_apivideo_default", 5 * MiB, "POST /videos", "POST /videos/{videoId}/source", None),
}


@pytest.mark.parametrize("api", sorted(APIS))
def test_upload_survives_sigkill_at_random_points(api, crash_env, x_connection, apivideo_connection, emulator,
                                                  media_file, received):
    """Two tries killed at random chunks, a third completes: one remote media, at most the chunks in flight
    at each kill sent twice. X cannot report what it holds, so for X everything a resumed try skips comes
    from the task state store."""
    conn_id, chunk, init_route, chunk_route, finalize_route = APIS[api]
    x_connection(chunk_size=chunk)
    apivideo_connection(chunk_size=chunk)
    env = {**crash_env, **{k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}}
    segments = 24 if api == "x" else 12
    path = media_file(segments * chunk)
    httpx.post(f"{emulator.url}/_emulator/faults", json={"match": chunk_route.split(" ")[1].split("{")[0],
                                                         "action": "delay", "delay_secs": 0.15,
                                                         "times": 0}).raise_for_status()
    run_id = f"crash-{api}"
    trigger(env, run_id, {"source": str(path), "conn_id": conn_id})
    rng = random.Random(20261122)
    kills = sorted(rng.sample(range(2, segments - 2), 2))  # two kills, at chunks drawn from a fixed seed
    for kill_at in kills:
        run_until_killed(env, run_id, emulator, chunk_route, kill_at)

    last = airflow_cli("tasks", "test", "chunkup_crash_upload", "upload", run_id, env=env)
    log = last.stdout + last.stderr
    assert last.returncode == 0, log[-6000:]
    assert "from an earlier try" in log
    assert route_requests(emulator, init_route) == 1  # one remote upload across three tries
    sent = route_requests(emulator, chunk_route)
    assert segments <= sent <= segments + 3 * len(kills)  # at most the 3 in flight at each kill went twice
    print(f"\ncrash figures: {api}: killed at chunks {kills}, {sent} chunk requests for {segments} chunks")
    if finalize_route:
        assert route_requests(emulator, finalize_route) == 1
    media_ids = {line.split("Media ", 1)[1].split(" ", 1)[0] for line in log.splitlines()
                 if "Media " in line and "bytes, sha256" in line}
    assert len(media_ids) == 1
    media_id = media_ids.pop()
    stored = received(media_id) if api == "x" else httpx.get(
        f"{emulator.url}/_emulator/apivideo/videos/{media_id}").json()
    assert stored["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert stored["size"] == segments * chunk

"""Workers die: a whole worker SIGKILLed mid-append, and two tries of one append running at once.

Each test pins ``append`` to worker A (its queue ``worker-a``), slows the emulator's chunk answers so the
kill lands mid-append (it waits for the emulator to have answered some chunks, never for time), kills, then
lets worker B take the queue so the retry runs there. Afterwards worker A is started again.
"""

from __future__ import annotations

import contextlib
import os
import signal

import pytest
from cluster_client import wait_for

pytestmark = pytest.mark.cluster

MiB = 1024 * 1024
APPEND_ROUTE = {"x": "POST /2/media/upload/{id}/append", "apivideo": "POST /videos/{videoId}/source",
                "content_range": "POST /api/v2/media/upload/chunk/"}
APPEND_MATCH = {"x": "/append$", "apivideo": "^POST /videos/[^/]+/source$",
                "content_range": "^POST /api/v2/media/upload/chunk/$"}


def route_requests(cluster, route: str) -> int:
    return cluster.emulator_get("/_emulator/stats")["routes"].get(route, {}).get("requests", 0)


@pytest.fixture
def worker_b_takes_queue_a(cluster):
    """After the test: worker B stops consuming A's queue, and worker A runs again."""
    from celery import Celery

    app = Celery(broker=f"redis://127.0.0.1:{cluster.info['redis_port']}/0")
    names = {name.split("@")[0]: name for reply in app.control.ping(timeout=5) for name in reply}

    def take() -> None:
        app.control.add_consumer("worker-a", destination=[names["worker-b"]], reply=True)

    yield take
    app.control.cancel_consumer("worker-a", destination=[names["worker-b"]], reply=True)
    cluster.restart_worker("a")
    app.close()


def kill_session(cluster, component: str) -> list[dict]:
    """SIGKILL every process of a component's session: the Celery worker, its pool, its task processes."""
    procs = cluster.processes(component)
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc["pid"], signal.SIGKILL)
    return procs


def test_worker_killed_mid_append_resumes_on_the_other_worker(cluster, shared_file, worker_b_takes_queue_a):
    """SIGKILL the whole of worker A mid-append: the scheduler notices the missing heartbeat, the retry runs on
    worker B and continues the same remote upload from the task state store."""
    path, sha = shared_file(96 * MiB + 7)  # 25 segments of 4 MiB
    segments = 25
    route = APPEND_ROUTE["x"]
    before = cluster.emulator_get("/_emulator/stats")["routes"]
    cluster.emulator.post("/_emulator/faults", json={"match": APPEND_MATCH["x"], "action": "delay",
                                                     "delay_secs": 1.5, "times": 0}).raise_for_status()
    try:
        run_id = cluster.trigger("chunkup_cluster_x", {"source": str(path)})
        start = before.get(route, {}).get("requests", 0)
        wait_for("worker A to have sent 6 segments", lambda: route_requests(cluster, route) - start >= 6, 120, 0.1)
        kill_session(cluster, "worker-a")
    finally:
        cluster.emulator.delete("/_emulator/faults").raise_for_status()
    worker_b_takes_queue_a()
    cluster.expect_success("chunkup_cluster_x", run_id, timeout=300)

    tries = cluster.tries("chunkup_cluster_x", run_id, "append")
    assert tries[0]["hostname"] == "worker-a" and tries[-1]["hostname"] == "worker-b"
    assert tries[-1]["state"] == "success"
    result = cluster.xcom("chunkup_cluster_x", run_id, "finalize")
    media = cluster.emulator_get(f"/_emulator/x/media/{result['media_id']}")
    assert media["sha256"] == sha
    after = cluster.emulator_get("/_emulator/stats")["routes"]
    sent = after[route]["requests"] - before.get(route, {}).get("requests", 0)
    inits = (after["POST /2/media/upload/initialize"]["requests"]
             - before.get("POST /2/media/upload/initialize", {}).get("requests", 0))
    assert inits == 1  # one remote media
    assert segments <= sent <= segments + 3, f"{sent} append requests for {segments} segments (3 in flight)"

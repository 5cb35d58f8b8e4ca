"""Workers die: a whole worker SIGKILLed mid-append, and two tries of one append running at once.

Each test pins ``append`` to worker A (its queue ``worker-a``), slows the emulator's chunk answers so the
kill lands mid-append (it waits for the emulator to have answered some chunks, never for time), kills, then
lets worker B take the queue so the retry runs there. Afterwards worker A is started again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

import pytest
from cluster_client import wait_for
from processes import alive

pytestmark = pytest.mark.cluster

MiB = 1024 * 1024
APPEND_ROUTE = {"x": "POST /2/media/upload/{id}/append", "apivideo": "POST /videos/{videoId}/source",
                "content_range": "POST /api/v2/media/upload/chunk/"}
APPEND_MATCH = {"x": "/append$", "apivideo": "^POST /videos/[^/]+/source$",
                "content_range": "^POST /api/v2/media/upload/chunk/$"}


INSPECT = {"x": "/_emulator/x/media", "apivideo": "/_emulator/apivideo/videos",
           "content_range": "/_emulator/content-range/uploads"}


def remote_uploads(cluster, api: str) -> set[str]:
    """Ids of every remote upload the emulator holds for ``api`` (X media, api.video videos, chunked uploads)."""
    return {item.get("id") or item.get("videoId") or item.get("upload_id")
            for item in cluster.emulator_get(INSPECT[api])}


def new_upload(cluster, api: str, before: set[str]) -> dict:
    """The one remote upload made since ``before`` (fails when there are none or several)."""
    (new,) = remote_uploads(cluster, api) - before
    return cluster.emulator_get(f"{INSPECT[api]}/{new}")


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


def task_processes(cluster, component: str, ti_id: str) -> tuple[int, int] | None:
    """(supervisor pid, task process pid) of a running task instance on a worker, once its task process runs."""
    procs = cluster.processes(component)
    supervisors = [p["pid"] for p in procs if p["args"].startswith(f"airflow supervisor: {ti_id}")]
    for supervisor in supervisors:
        children = [p["pid"] for p in procs if p["ppid"] == supervisor and "<defunct>" not in p["args"]]
        if children:
            return supervisor, children[0]
    return None


# api: (file size, segments, append requests an init-time first segment adds, delay per chunk answer)
TWO_TRIES = {
    "x": (40 * MiB + 3, 11, 0, 1.5),
    "apivideo": (200 * MiB + 3, 5, 0, 2.0),  # 50 MiB parts: the longest requests a try can have in flight
    "content_range": (3 * MiB + 3, 16, 1, 0.5),  # one offset on the server, 204800-byte chunks strictly in order
}


@pytest.mark.parametrize("api", list(TWO_TRIES))
def test_two_tries_of_one_append_at_once(cluster, shared_file, worker_b_takes_queue_a, api):
    """Kill only the Celery pool process that supervises ``append``: Celery reports the task lost at once and
    the scheduler starts the next try while the old task process still has chunks in flight. The old process
    sees its supervisor gone and stops; the upload stays byte-exact, with one remote media."""
    size, segments, first, delay = TWO_TRIES[api]
    path, sha = shared_file(size)
    route = APPEND_ROUTE[api]
    dag_id = f"chunkup_cluster_{api}"
    before = route_requests(cluster, route)
    uploads_before = remote_uploads(cluster, api)
    worker_b_takes_queue_a()  # the retry may run on either worker
    cluster.emulator.post("/_emulator/faults", json={"match": APPEND_MATCH[api], "action": "delay",
                                                     "delay_secs": delay, "times": 0}).raise_for_status()
    try:
        run_id = cluster.trigger(dag_id, {"source": str(path)})
        ti = wait_for("append to start", lambda: cluster.running(dag_id, run_id, "append"), 120, 0.2)
        ti_id, worker = ti["id"], ti["hostname"]
        wait_for("a chunk of append to be answered", lambda: route_requests(cluster, route) - before > first + 1,
                 120, 0.1)
        supervisor, task = wait_for("append's task process", lambda: task_processes(cluster, worker, ti_id), 60, 0.1)
        os.kill(supervisor, signal.SIGKILL)
        killed = time.monotonic()
        wait_for("the orphaned task process to stop", lambda: not alive(task), 60, 0.05)
        stopped = time.monotonic() - killed
    finally:
        cluster.emulator.delete("/_emulator/faults").raise_for_status()
    cluster.expect_success(dag_id, run_id, timeout=300)

    tries = cluster.tries(dag_id, run_id, "append")
    assert len(tries) >= 2 and tries[-1]["state"] == "success"
    assert new_upload(cluster, api, uploads_before)["sha256"] == sha  # one remote upload, byte-exact
    sent = route_requests(cluster, route) - before
    in_flight = 1 if api == "content_range" else 3
    # Every segment once, plus what the killed try had in flight (cut mid-body, so stored by nobody).
    assert segments <= sent <= segments + in_flight + 1, f"{sent} chunk requests for {segments} segments"
    print(f"{api}: the orphan stopped {stopped:.2f} s after its supervisor was killed; {sent} chunk requests "
          f"for {segments} segments; append tries on {[t['hostname'] for t in tries]}")

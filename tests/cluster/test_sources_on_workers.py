"""A source on one worker's local disk, read by a task on the other: a clear error at once, no retries."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.cluster


def failed_once(cluster, dag_id: str, run_id: str, task_id: str) -> str:
    """The task failed on its first try (no retry storm); returns that try's log."""
    run = cluster.wait_run(dag_id, run_id, timeout=180)
    assert run["state"] == "failed"
    (ti,) = [ti for ti in cluster.task_instances(dag_id, run_id) if ti["task_id"] == task_id]
    assert ti["state"] == "failed" and ti["try_number"] == 1, ti  # retries=3, but none was attempted
    assert ti["hostname"] == "worker-b"
    return cluster.log(dag_id, run_id, task_id, 1)


def test_file_on_another_workers_disk_fails_naming_the_worker_and_the_fix(cluster):
    media_before = len(cluster.emulator_get("/_emulator/x/media"))
    run_id = cluster.trigger("chunkup_cluster_local_source")
    log = failed_once(cluster, "chunkup_cluster_local_source", run_id, "upload")
    assert "does not exist on worker-b, the worker running this task" in log
    assert "object store" in log and "volume mounted at the same path on every worker" in log
    assert len(cluster.emulator_get("/_emulator/x/media")) == media_before  # no remote upload was opened


def test_split_upload_names_the_worker_that_opened_it(cluster):
    run_id = cluster.trigger("chunkup_cluster_local_split")
    log = failed_once(cluster, "chunkup_cluster_local_split", run_id, "append")
    assert "does not exist on worker-b" in log and "the upload was opened on worker-a" in log
    assert "not retried" in log

"""The example DAGs on the real cluster: REST-triggered runs with a conf, deferral through the triggerer,
an Asset event starting a DAG through the scheduler."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.cluster

MiB = 1024 * 1024


def test_rest_triggered_x_upload_defers_in_the_triggerer(cluster, shared_file):
    """An external system starts the X example with a conf; the sensor's trigger runs in the triggerer (which
    looks the connection up itself), and the sensor resumes on a worker."""
    path, sha = shared_file(24 * MiB + 5)
    run_id = cluster.trigger("chunkup_x_upload", {"source": str(path), "media_category": "tweet_video"})
    cluster.expect_success("chunkup_x_upload", run_id)

    result = cluster.xcom("chunkup_x_upload", run_id, "finalize")
    assert result["sha256"] == sha
    media = cluster.emulator_get(f"/_emulator/x/media/{result['media_id']}")
    assert media["sha256"] == sha and media["processing_state"] == "succeeded"

    tis = {ti["task_id"]: ti for ti in cluster.task_instances("chunkup_x_upload", run_id)}
    assert {ti["hostname"] for ti in tis.values()} <= set(cluster.info["workers"])
    sensor = tis["wait_for_processing"]
    sensor_log = cluster.log("chunkup_x_upload", run_id, "wait_for_processing", sensor["try_number"])
    # Deferred on a worker, resumed on a worker from the trigger's event.
    assert sensor_log.index("Pausing task as DEFERRED") < sensor_log.index(f"Media {result['media_id']} is ready")
    # The trigger's own lines are written by the triggerer process into a log of their own beside the task's.
    (trigger_log,) = cluster.task_log_dir("chunkup_x_upload", run_id, "wait_for_processing").glob(
        f"attempt={sensor['try_number']}.log.trigger.*.log")
    lines = [json.loads(line) for line in trigger_log.read_text().splitlines()]
    assert {"filename": "triggerer_job_runner.py"}.items() <= lines[0].items()
    polls = [line for line in lines if line.get("logger", "").endswith("MediaProcessingTrigger")]
    assert polls and f"Media {result['media_id']} is in_progress" in polls[0]["event"]

"""The example DAGs on the real cluster: REST-triggered runs with a conf, deferral through the triggerer,
an Asset event starting a DAG through the scheduler."""

from __future__ import annotations

import hashlib
import json

import pytest
from cluster_client import wait_for

pytestmark = pytest.mark.cluster

MiB = 1024 * 1024


def test_rest_triggered_x_upload_defers_in_the_triggerer(cluster, shared_file):
    """An external system starts the X example with a conf; the sensor's trigger runs in the triggerer (which
    looks the connection up itself), the sensor resumes on a worker, and the post carries the video with its
    alt text and subtitle track."""
    path, sha = shared_file(24 * MiB + 5)
    subtitles, _ = shared_file(2000, f"{path.stem}.srt")
    run_id = cluster.trigger("chunkup_x_upload", {"source": str(path), "media_category": "tweet_video",
                                                  "subtitles": str(subtitles), "alt_text": "Cluster clip."})
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

    posted = cluster.xcom("chunkup_x_upload", run_id, "post")
    stored = cluster.emulator_get(f"/_emulator/x/posts/{posted['post_id']}")
    assert stored["media_ids"] == [result["media_id"]] and stored["text"] == posted["text"]
    track = cluster.xcom("chunkup_x_upload", run_id, "upload_subtitles")
    media = cluster.emulator_get(f"/_emulator/x/media/{result['media_id']}")
    assert media["alt_text"] == "Cluster clip."
    assert media["subtitles"] == [{"media_id": track["media_id"], "language_code": "EN", "display_name": "English"}]


def test_social_fanout_publishes_on_six_branches_across_both_workers(cluster, shared_file):
    """One video to Facebook (a Page video and a Reel), Instagram, TikTok, LinkedIn and X on the cluster: every
    upload byte-exact, every processing sensor done (through the triggerer where it had to wait), every publish
    step done."""
    dag = "chunkup_social_fanout"
    path, sha = shared_file(14 * MiB + 5)
    run_id = cluster.trigger(dag, {"source": str(path), "caption": "Cluster launch #chunkup"})
    cluster.expect_success(dag, run_id)
    tis = {ti["task_id"]: ti for ti in cluster.task_instances(dag, run_id)}
    assert len(tis) == 16 and {ti["state"] for ti in tis.values()} == {"success"}
    assert {ti["hostname"] for ti in tis.values()} <= set(cluster.info["workers"])

    stored = {"upload_to_facebook": "meta/videos", "upload_to_facebook_reel": "meta/videos",
              "upload_to_instagram": "meta/containers", "upload_to_tiktok": "tiktok/posts",
              "upload_to_linkedin": "linkedin/videos", "upload_to_x": "x/media"}
    for task, where in stored.items():
        result = cluster.xcom(dag, run_id, task)
        assert result["sha256"] == sha, task
        assert cluster.emulator_get(f"/_emulator/{where}/{result['media_id']}")["sha256"] == sha, task
    for task in (t for t in tis if t.startswith("wait_for_")):
        log = cluster.log(dag, run_id, task, tis[task]["try_number"])
        # Each sensor checks once, then defers to the triggerer (holding no worker slot) unless the platform
        # had processed the video already: which one depends on the scheduler's pace, so either is right.
        ready = log.index(" is ready")
        assert "Pausing task as DEFERRED" not in log or log.index("Pausing task as DEFERRED") < ready, task
    assert cluster.xcom(dag, run_id, "publish_to_instagram")["id"]
    assert cluster.xcom(dag, run_id, "post_to_linkedin")["post_urn"].startswith("urn:li:share:")
    assert cluster.xcom(dag, run_id, "post_to_x")["post_id"]


def dag_runs(cluster, dag_id: str) -> list[dict]:
    return cluster.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]


def test_asset_event_from_the_producer_starts_the_upload_dag(cluster):
    """The producer writes a video to S3 and emits the Asset event; the scheduler starts the upload DAG, which
    sends the object to api.video straight from S3."""
    producer, upload = "chunkup_s3_video_producer", "chunkup_s3_video_upload"
    earlier = {r["dag_run_id"] for r in dag_runs(cluster, upload)}
    cluster.api("PATCH", f"/dags/{upload}", json={"is_paused": False})
    try:
        # Unpausing the @daily producer may add its scheduled run to ours: each emits an event.
        cluster.expect_success(producer, cluster.trigger(producer))
        wait_for(f"every {producer} run to finish",
                 lambda: all(r["state"] in ("success", "failed") for r in dag_runs(cluster, producer)), 300)
        started = wait_for(f"{upload} to start by itself", lambda: [
            r for r in dag_runs(cluster, upload) if r["dag_run_id"] not in earlier], 120)
        assert {r["run_type"] for r in started} == {"asset_triggered"}
        runs = wait_for(f"{upload}'s runs to finish", lambda: (rs := [
            r for r in dag_runs(cluster, upload) if r["dag_run_id"] not in earlier]) and all(
            r["state"] in ("success", "failed") for r in rs) and rs, 300)
    finally:
        for dag_id in (producer, upload):
            cluster.api("PATCH", f"/dags/{dag_id}", json={"is_paused": True})
    assert {r["state"] for r in runs} == {"success"}, cluster.failure_report(upload, runs[-1]["dag_run_id"])

    latest = max(runs, key=lambda r: r["queued_at"] or "")
    result = cluster.xcom(upload, latest["dag_run_id"], "upload_from_s3")
    digest = hashlib.sha256()
    with cluster.s3().open("media/incoming/latest.mp4", "rb", block_size=8 * MiB) as f:
        while piece := f.read(8 * MiB):
            digest.update(piece)
    video = cluster.emulator_get(f"/_emulator/apivideo/videos/{result['media_id']}")
    assert video["sha256"] == result["sha256"] == digest.hexdigest()

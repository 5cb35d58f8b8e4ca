"""The example DAGs: they import cleanly, and the X upload DAG runs end to end with dag.test()."""

import hashlib
import json
import os
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


def load_dags():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_every_example_dag_imports():
    bag = load_dags()
    assert bag.import_errors == {}
    assert {"chunkup_x_upload", "chunkup_x_daily_clip", "chunkup_apivideo_upload", "chunkup_brochure_producer",
            "chunkup_brochure_upload", "chunkup_s3_video_producer", "chunkup_s3_video_upload"} <= set(bag.dag_ids)


@pytest.mark.dag
def test_x_upload_dag_end_to_end(airflow_db, x_connection, received, media_file, emulator):
    from airflow.utils.state import DagRunState

    x_connection()
    emulator.config.x.processing_seconds = 2.0
    path = media_file(12 * 1024 * 1024 + 5)
    dag = load_dags().get_dag("chunkup_x_upload")
    run = dag.test(run_conf={"source": str(path)})
    assert run.state == DagRunState.SUCCESS
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == {"init": "success", "append": "success", "finalize": "success",
                      "wait_for_processing": "success"}
    result = run.get_task_instance("finalize").xcom_pull(task_ids="finalize")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert result["sha256"] == sha
    assert received(result["media_id"])["sha256"] == sha
    assert received(result["media_id"])["processing_state"] == "succeeded"


@pytest.mark.dag
def test_apivideo_dag_end_to_end(airflow_db, apivideo_connection, media_file, emulator):
    import httpx
    from airflow.utils.state import DagRunState

    apivideo_connection()
    emulator.config.apivideo.encoding_seconds = 2.0
    emulator.config.apivideo.playable_after_secs = 1.0
    path = media_file(40 * 1024 * 1024 + 3)  # 3 parts of 16 MiB
    dag = load_dags().get_dag("chunkup_apivideo_upload")
    run = dag.test(run_conf={"source": str(path), "title": "from dag.test"})
    assert run.state == DagRunState.SUCCESS
    result = run.get_task_instance("upload_last_part").xcom_pull(task_ids="upload_last_part")
    got = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result['media_id']}").json()
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result["sha256"]
    assert got["title"] == "from dag.test"
    assert result["details"]["assets"]["hls"]


@pytest.mark.dag
def test_brochure_dags_end_to_end(airflow_db, content_range_connection, emulator, tmp_path, monkeypatch):
    import httpx
    from airflow.utils.state import DagRunState

    content_range_connection()
    monkeypatch.setenv("CHUNKUP_BROCHURE", str(tmp_path / "brochures" / "latest.pdf"))
    bag = load_dags()
    upload_dag = bag.get_dag("chunkup_brochure_upload")
    (asset,) = upload_dag.timetable.asset_condition.objects  # scheduled on the producer's Asset
    assert asset.name == "chunkup_latest_brochure"
    produced = bag.get_dag("chunkup_brochure_producer").test()
    assert produced.state == DagRunState.SUCCESS
    run = upload_dag.test()
    assert run.state == DagRunState.SUCCESS
    media = run.get_task_instance("complete_upload").xcom_pull(task_ids="complete_upload")
    path = tmp_path / "brochures" / "latest.pdf"
    got = httpx.get(f"{emulator.url}/_emulator/content-range/uploads/{media['details']['upload_id']}").json()
    assert got["complete"] and got["md5"] == hashlib.md5(path.read_bytes()).hexdigest() == media["md5"]
    assert media["details"]["type"] == "doc"


@pytest.mark.dag
def test_s3_asset_dags_end_to_end(airflow_db, s3_bucket, set_connection, apivideo_connection, emulator):
    import httpx
    from airflow.utils.state import DagRunState

    set_connection("chunkup_s3_source", **json.loads(os.environ[f"AIRFLOW_CONN_{s3_bucket.upper()}"]))
    apivideo_connection()
    emulator.config.apivideo.playable_after_secs = 0.5
    bag = load_dags()
    upload_dag = bag.get_dag("chunkup_s3_video_upload")
    (asset,) = upload_dag.timetable.asset_condition.objects
    assert asset.name == "chunkup_latest_video"
    assert bag.get_dag("chunkup_s3_video_producer").test().state == DagRunState.SUCCESS
    run = upload_dag.test()
    assert run.state == DagRunState.SUCCESS
    result = run.get_task_instance("upload_from_s3").xcom_pull(task_ids="upload_from_s3")
    got = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result['media_id']}").json()
    assert got["complete"] and got["sha256"] == result["sha256"] and got["size"] == 24 * 1024 * 1024

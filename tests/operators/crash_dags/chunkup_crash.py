"""A one-task upload whose worker the crash tests kill with SIGKILL, then run again."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag

from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator


@dag(dag_id="chunkup_crash_upload", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
     render_template_as_native_obj=True, default_args={"retries": 5})
def chunkup_crash_upload() -> None:
    ChunkedUploadOperator(task_id="upload", conn_id="{{ dag_run.conf['conn_id'] }}",
                          source="{{ dag_run.conf['source'] }}", media_type="video/mp4", max_in_flight=3,
                          progress_interval=0.5)


chunkup_crash_upload()

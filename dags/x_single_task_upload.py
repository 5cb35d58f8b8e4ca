"""Every day, upload that day's clip to X in one task, then wait for processing.

The common case in two tasks: ``ChunkedUploadOperator`` opens the upload, sends the chunks
(three in flight) and finalizes; the sensor waits in the triggerer, holding no worker slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag

from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator
from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor


@dag(
    dag_id="chunkup_x_daily_clip",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["chunkup", "x", "example"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
)
def chunkup_x_daily_clip() -> None:
    upload = ChunkedUploadOperator(
        task_id="upload",
        conn_id="chunkup_x_default",
        source="/data/clips/{{ ds }}.mp4",
        media_category="tweet_video",
        max_in_flight=3,
    )
    MediaProcessingSensor(task_id="wait_for_processing", upload=upload.output, deferrable=True,
                          timeout=timedelta(hours=1))


chunkup_x_daily_clip()

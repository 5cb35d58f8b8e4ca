"""A video lands in S3 upstream; an Asset triggers its upload to api.video, read straight from S3.

    chunkup_s3_video_producer:  render_video  --(Asset s3://media/incoming/latest.mp4)-->
    chunkup_s3_video_upload:    upload_from_s3 -> wait_until_playable

The upload DAG is scheduled on the Asset, so it runs whenever the producer writes a new video.
``upload_from_s3`` reads the object chunk by chunk (one ranged GET each, the next read while the
current part is sent) with the ``chunkup_s3_source`` connection: an ``aws``-style connection whose
``endpoint_url`` may point at MinIO, Ceph or any S3-compatible store; the amazon provider is not
needed. The object is never held whole, on disk or in memory.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task

from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator
from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor

VIDEO_URL = os.environ.get("CHUNKUP_S3_VIDEO", "s3://media/incoming/latest.mp4")
S3_CONN = "chunkup_s3_source"
latest_video = Asset(name="chunkup_latest_video", uri=VIDEO_URL)


@dag(dag_id="chunkup_s3_video_producer", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False,
     tags=["chunkup", "s3", "example"])
def chunkup_s3_video_producer() -> None:
    @task(outlets=[latest_video])
    def render_video() -> str:
        """Stands in for a real render: writes 24 MiB to S3 in 8 MiB pieces."""
        import fsspec

        from airflow_provider_chunkup.hooks.sources import storage_options

        fs, path = fsspec.core.url_to_fs(VIDEO_URL, **storage_options(VIDEO_URL, S3_CONN))
        with fs.open(path, "wb") as f:
            for _ in range(3):
                f.write(os.urandom(8 * 1024 * 1024))
        return VIDEO_URL

    render_video()


@dag(dag_id="chunkup_s3_video_upload", schedule=[latest_video], start_date=datetime(2026, 1, 1), catchup=False,
     tags=["chunkup", "s3", "apivideo", "example"], default_args={"retries": 2, "retry_delay": timedelta(seconds=30)})
def chunkup_s3_video_upload() -> None:
    video = ChunkedUploadOperator(
        task_id="upload_from_s3",
        conn_id="chunkup_apivideo_default",
        source=VIDEO_URL,
        source_conn_id=S3_CONN,
        chunk_size=8 * 1024 * 1024,
        upload_options={"title": "latest render", "tags": ["s3"]},
        max_in_flight=3,
    )
    MediaProcessingSensor(task_id="wait_until_playable", upload=video.output, deferrable=True,
                          timeout=timedelta(hours=1))


chunkup_s3_video_producer()
chunkup_s3_video_upload()

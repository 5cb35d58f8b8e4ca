"""Upload a local video to api.video with parts in parallel, then wait until it is playable.

    create_video -> upload_parts -> upload_last_part -> wait_until_playable

``create_video`` creates the container (title, tags, metadata from the params); ``upload_parts``
sends every part but the last, several at a time (``Content-Range: part N/M``); the last part,
sent by ``upload_last_part``, completes the upload and returns the Video with its player and HLS
URLs. A retried ``upload_parts`` asks api.video which parts it already has and sends only the rest.
The ``chunkup_apivideo_default`` connection holds the API key (or points at the local emulator).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from airflow_provider_chunkup.operators.upload import (
    ChunkUploadAppendOperator,
    ChunkUploadFinalizeOperator,
    ChunkUploadInitOperator,
)
from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor


@dag(
    dag_id="chunkup_apivideo_upload",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["chunkup", "apivideo", "example"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
    params={
        "source": Param(os.environ.get("CHUNKUP_DEMO_SOURCE", "/tmp/chunkup-demo.mp4"), type="string",
                        description="Local path or fsspec URL of the video."),
        "title": Param("chunkup example upload", type="string"),
    },
)
def chunkup_apivideo_upload() -> None:
    create = ChunkUploadInitOperator(
        task_id="create_video",
        conn_id="chunkup_apivideo_default",
        source="{{ params.source }}",
        chunk_size=16 * 1024 * 1024,
        upload_options={"title": "{{ params.title }}", "tags": ["chunkup"], "metadata": {"dag": "{{ dag.dag_id }}"}},
    )
    parts = ChunkUploadAppendOperator(task_id="upload_parts", session=create.output, max_in_flight=4)
    video = ChunkUploadFinalizeOperator(task_id="upload_last_part", session=parts.output)
    MediaProcessingSensor(
        task_id="wait_until_playable",
        upload=video.output,
        until="playable",
        deferrable=True,
        poke_interval=5,
        timeout=timedelta(hours=2),
    )


chunkup_apivideo_upload()

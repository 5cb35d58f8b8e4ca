"""Upload a local video to X in chunks, one task per step, then wait for X to process it.

    init -> append -> finalize -> wait_for_processing

The session travels between the tasks as a small XCom dict (ids, sizes, checksums; no secret).
The ``chunkup_x_default`` connection decides where the bytes go: X itself, or the local emulator
(``chunkup-emulator``) when its host is ``http://127.0.0.1:<port>``. Trigger with
``{"source": "/path/to/video.mp4"}`` as conf to upload another file.
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
    dag_id="chunkup_x_upload",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["chunkup", "x", "example"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
    params={
        "source": Param(os.environ.get("CHUNKUP_DEMO_SOURCE", "/tmp/chunkup-demo.mp4"), type="string",
                        description="Local path or fsspec URL of the video."),
        "media_category": Param("tweet_video", enum=["tweet_video", "amplify_video", "dm_video"]),
    },
)
def chunkup_x_upload() -> None:
    init = ChunkUploadInitOperator(
        task_id="init",
        conn_id="chunkup_x_default",
        source="{{ params.source }}",
        media_type="video/mp4",
        media_category="{{ params.media_category }}",
    )
    append = ChunkUploadAppendOperator(task_id="append", session=init.output, max_in_flight=3)
    finalize = ChunkUploadFinalizeOperator(task_id="finalize", session=append.output)
    MediaProcessingSensor(
        task_id="wait_for_processing",
        upload=finalize.output,
        deferrable=True,
        poke_interval=2,
        timeout=timedelta(minutes=30),
    )


chunkup_x_upload()

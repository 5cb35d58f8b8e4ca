"""Upload a local video to X in chunks, one task per step, wait for X to process it, then post it.

    init -> append -> finalize -> wait_for_processing ---------> post
    has_subtitles -> upload_subtitles ----------------------/

The session travels between the tasks as a small XCom dict (ids, sizes, checksums; no secret).
The subtitle file (SRT or VTT), when the run names one, is uploaded in one task with
``media_category=subtitles``; the post task attaches it to the video as a track, gives the video
its alt text, and publishes the post (without a track when the subtitle upload was skipped).
The ``chunkup_x_default`` connection decides where the bytes go: X itself, or the local emulator
(``chunkup-emulator``) when its host is ``http://127.0.0.1:<port>``. Trigger with
``{"source": "/path/to/video.mp4", "subtitles": "/path/to/video.srt"}`` as conf to post another file
(``subtitles`` may be left out).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk import Param, dag

from airflow_provider_chunkup.operators.upload import (
    ChunkedUploadOperator,
    ChunkUploadAppendOperator,
    ChunkUploadFinalizeOperator,
    ChunkUploadInitOperator,
)
from airflow_provider_chunkup.operators.x_post import XCreatePostOperator
from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor


def _named(path: str) -> bool:
    """Whether the run names a subtitle file (else its upload is skipped)."""
    return bool(path.strip())


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
        "subtitles": Param("", type="string",
                           description="SRT or VTT file of the video's English subtitles (empty: none)."),
        "media_category": Param("tweet_video", enum=["tweet_video", "amplify_video"]),
        "text": Param("New video, uploaded by chunkup", type="string", maxLength=25000),
        "alt_text": Param("A short test clip: random frames, no sound.", type="string", maxLength=1000),
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
    processed = MediaProcessingSensor(
        task_id="wait_for_processing",
        upload=finalize.output,
        deferrable=True,
        poke_interval=2,
        timeout=timedelta(minutes=30),
    )
    has_subtitles = ShortCircuitOperator(task_id="has_subtitles", python_callable=_named,
                                         op_args=["{{ params.subtitles }}"], ignore_downstream_trigger_rules=False)
    subtitles = ChunkedUploadOperator(
        task_id="upload_subtitles",
        conn_id="chunkup_x_default",
        source="{{ params.subtitles }}",
        media_category="subtitles",
    )
    post = XCreatePostOperator(
        task_id="post",
        # X refuses a text the account posted recently: the run id keeps each run's post its own.
        text="{{ params.text }} ({{ run_id }})",
        media=finalize.output,
        alt_text="{{ params.alt_text }}",
        subtitles={"media": subtitles.output, "language_code": "EN", "display_name": "English"},
        made_with_ai=False,
        trigger_rule="none_failed",  # a skipped subtitle upload leaves the track out, not the post
    )
    processed >> post
    has_subtitles >> subtitles


chunkup_x_upload()

"""One large video, one remote upload, sent by several workers at once.

    init -> split -> append (mapped: one task per range of segments) -> finalize -> wait_for_processing

``init`` opens the upload once; ``split`` cuts its segments into ``parts`` contiguous ranges (no
request); each mapped ``append`` sends one range, on whichever worker picks it up, and records the
sha256 of its own bytes; ``finalize`` merges what the appends stored, refuses (naming them) if a
segment is missing, and closes the upload: its result carries ``range_digests`` instead of a
whole-file sha256, since no task read the whole file. Only for APIs that take segments in any order:
X, and api.video with ``upload_mode=part`` (api.video's last part is sent by finalize); the split
fails at once, saying so, for the others.

Every input comes from the run's params (trigger with conf to change them); the defaults are
placeholders. A retried append resumes from its task state store and sends only what it had not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from airflow_provider_chunkup.operators.split import ChunkUploadSplitOperator
from airflow_provider_chunkup.operators.upload import (
    ChunkUploadAppendOperator,
    ChunkUploadFinalizeOperator,
    ChunkUploadInitOperator,
)
from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor


@dag(
    dag_id="chunkup_split_upload",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["chunkup", "x", "apivideo", "example"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
    params={
        "source": Param("s3://media/big/clip.mp4", type="string",
                        description="Local path (on every worker) or fsspec URL of the video."),
        "conn_id": Param("chunkup_x_default", type="string",
                         description="An X connection, or an api.video connection with upload_mode=part."),
        "source_conn_id": Param("chunkup_s3_source", type=["null", "string"],
                                description="Connection to read the source with (aws-style for s3://); null for a "
                                            "local path."),
        "chunk_size": Param(None, type=["null", "integer"], minimum=1,
                            description="Bytes per segment; null for the connection's or the API's default."),
        "parts": Param(4, type="integer", minimum=1, description="How many append tasks share the upload."),
    },
)
def chunkup_split_upload() -> None:
    init = ChunkUploadInitOperator(
        task_id="init",
        conn_id="{{ params.conn_id }}",
        source="{{ params.source }}",
        # Rendered as text (no native rendering: it would read ids such as X's 7_2128... as numbers); the
        # operators read "" as unset and a number's text as the number.
        source_conn_id="{{ params.source_conn_id or '' }}",
        chunk_size="{{ params.chunk_size or '' }}",
    )
    split = ChunkUploadSplitOperator(task_id="split", session=init.output, parts="{{ params.parts }}")
    append = ChunkUploadAppendOperator.partial(task_id="append", max_in_flight=2).expand_kwargs(split.output)
    finalize = ChunkUploadFinalizeOperator(task_id="finalize", session=append.output)
    MediaProcessingSensor(
        task_id="wait_for_processing",
        upload=finalize.output,
        deferrable=True,
        poke_interval=5,
        timeout=timedelta(hours=2),
    )


chunkup_split_upload()

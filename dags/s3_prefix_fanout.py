"""Upload every video under an S3 prefix, one mapped task per object, within the platform's rate limits.

    list_objects -> upload (mapped: one task per object) -> wait_until_playable (mapped)

``list_objects`` lists the prefix through the same ``aws``-style connection the uploads read with
(``endpoint_url`` for MinIO, Ceph or any S3-compatible store), leaving out zero-byte folder markers.
``upload`` is ``ChunkedUploadOperator`` expanded over the URLs: each object is read chunk by chunk,
never held whole, and uploaded in one task on whichever worker is free. The uploads run in the pool
``chunkup_apivideo`` so that, however many workers there are, only its slots' worth of uploads talk
to the platform at once (create it first: ``airflow pools set chunkup_apivideo 4 "api.video uploads"``;
a task in a pool that does not exist is never scheduled). See docs/operators.md, "Pools".

An empty prefix fails ``list_objects`` with the prefix and connection named: a fan-out that uploads
nothing usually means a wrong prefix or bucket, and a green run would hide it (``allow_empty=True``
makes it a run whose uploads are skipped). Every input comes from the run's params; the defaults are
placeholders.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from airflow_provider_chunkup.operators.listing import ListSourcesOperator
from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator
from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor

POOL = "chunkup_apivideo"
"""One pool per upload connection: its slots cap the uploads to that platform across every worker."""


@dag(
    dag_id="chunkup_s3_fanout",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["chunkup", "s3", "apivideo", "example"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    params={
        "prefix": Param("s3://media/batch/", type="string", description="Folder URL whose objects are uploaded."),
        "source_conn_id": Param("chunkup_s3_source", type="string",
                                description="aws-style connection to list and read the objects with."),
        "conn_id": Param("chunkup_apivideo_default", type="string", description="The upload connection."),
        "chunk_size": Param(None, type=["null", "integer"], minimum=1,
                            description="Bytes per chunk; null for the connection's or the API's default."),
    },
)
def chunkup_s3_fanout() -> None:
    listed = ListSourcesOperator(task_id="list_objects", prefix="{{ params.prefix }}",
                                 source_conn_id="{{ params.source_conn_id }}")
    uploads = ChunkedUploadOperator.partial(
        task_id="upload",
        conn_id="{{ params.conn_id }}",
        source_conn_id="{{ params.source_conn_id }}",
        chunk_size="{{ params.chunk_size or '' }}",
        max_in_flight=2,
        pool=POOL,
        map_index_template="{{ task.source }}",  # the UI lists mapped uploads by object, not by number
    ).expand(source=listed.output)
    MediaProcessingSensor.partial(task_id="wait_until_playable", deferrable=True, poke_interval=5,
                                  timeout=timedelta(hours=1)).expand(upload=uploads.output)


chunkup_s3_fanout()

"""Cluster-test DAGs: a source written on worker A's local disk, read by a task on worker B.

``chunkup_cluster_local_source``: write on A, upload in one task on B.
``chunkup_cluster_local_split``: write on A, init on A (it can read the file), append on B.
Each worker's ``$CHUNKUP_CLUSTER_DIR/worker-local`` is a disk of its own (see .ci/cluster).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import dag, task

from airflow_provider_chunkup.operators.upload import (
    ChunkedUploadOperator,
    ChunkUploadAppendOperator,
    ChunkUploadFinalizeOperator,
    ChunkUploadInitOperator,
)

ARGS = {"retries": 3, "retry_delay": timedelta(seconds=1)}


@task(queue="worker-a")
def write_on_worker_a() -> str:
    """Stands in for a render step that leaves its output on the worker's own disk."""
    path = os.path.join(os.environ["CHUNKUP_CLUSTER_DIR"], "worker-local", f"clip-{os.getpid()}.mp4")
    with open(path, "wb") as f:
        for _ in range(4):
            f.write(os.urandom(2 * 1024 * 1024))
    return path


@dag(dag_id="chunkup_cluster_local_source", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
     tags=["chunkup", "cluster-test"], default_args=ARGS)
def local_source() -> None:
    ChunkedUploadOperator(task_id="upload", queue="worker-b", conn_id="chunkup_x_default",
                          source=write_on_worker_a())


@dag(dag_id="chunkup_cluster_local_split", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
     tags=["chunkup", "cluster-test"], default_args=ARGS)
def local_split() -> None:
    init = ChunkUploadInitOperator(task_id="init", queue="worker-a", conn_id="chunkup_x_default",
                                   source=write_on_worker_a())
    append = ChunkUploadAppendOperator(task_id="append", queue="worker-b", session=init.output)
    ChunkUploadFinalizeOperator(task_id="finalize", session=append.output)


local_source()
local_split()

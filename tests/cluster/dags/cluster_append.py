"""Cluster-test DAGs: one upload per API as init -> append -> finalize, the append pinned to worker A.

The cluster tests kill worker A (or only its task's supervisor) in the middle of ``append`` and watch the
retry continue the same remote upload on worker B. ``conf``: ``source``, a path every worker sees.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from airflow_provider_chunkup.operators.upload import (
    ChunkUploadAppendOperator,
    ChunkUploadFinalizeOperator,
    ChunkUploadInitOperator,
)

MiB = 1024 * 1024
APIS = {  # api: (connection, chunk size)
    "x": ("chunkup_x_default", 4 * MiB),
    "apivideo": ("chunkup_apivideo_default", 50 * MiB),
    "content_range": ("chunkup_content_range_default", 204800),
}


def upload_dag(api: str, conn_id: str, chunk_size: int) -> None:
    @dag(dag_id=f"chunkup_cluster_{api}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
         tags=["chunkup", "cluster-test"], params={"source": Param("", type="string")})
    def build() -> None:
        init = ChunkUploadInitOperator(task_id="init", conn_id=conn_id, source="{{ params.source }}",
                                       chunk_size=chunk_size)
        append = ChunkUploadAppendOperator(
            task_id="append", session=init.output, queue="worker-a", retries=3, retry_delay=timedelta(seconds=1),
            max_in_flight=3, progress_interval=1)
        ChunkUploadFinalizeOperator(task_id="finalize", session=append.output, retries=2)

    build()


for _api, (_conn_id, _chunk_size) in APIS.items():
    upload_dag(_api, _conn_id, _chunk_size)

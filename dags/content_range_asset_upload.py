"""A brochure produced upstream is uploaded to a SelfCommunity-style community when it changes.

    chunkup_brochure_producer:  render_brochure  --(Asset)-->
    chunkup_brochure_upload:    start_upload -> upload_chunks -> complete_upload

The upload DAG is scheduled on the Asset the producer updates, so it runs whenever new data is
there. ``start_upload`` sends the first 204800-byte chunk (its answer names the ``upload_id``),
``upload_chunks`` sends the rest in order and computes the md5, ``complete_upload`` completes the
upload with that md5 and returns the community's Media object. A retried ``upload_chunks``
continues from the server's offset. The ``chunkup_content_range_default`` connection holds the
site's URL and Bearer token (or points at the local emulator).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import Asset, dag, task

from airflow_provider_chunkup.operators.upload import (
    ChunkUploadAppendOperator,
    ChunkUploadFinalizeOperator,
    ChunkUploadInitOperator,
)

BROCHURE = Path(os.environ.get("CHUNKUP_BROCHURE", "/tmp/chunkup-brochures/latest.pdf"))
brochure = Asset(name="chunkup_latest_brochure", uri=BROCHURE.as_uri())


@dag(dag_id="chunkup_brochure_producer", schedule="@weekly", start_date=datetime(2026, 1, 1), catchup=False,
     tags=["chunkup", "content-range", "example"])
def chunkup_brochure_producer() -> None:
    @task(outlets=[brochure])
    def render_brochure() -> str:
        """Stands in for a real renderer: writes a few MB of 'PDF' in bounded pieces."""
        BROCHURE.parent.mkdir(parents=True, exist_ok=True)
        with open(BROCHURE, "wb") as f:
            f.write(b"%PDF-1.7\n")
            for _ in range(12):
                f.write(os.urandom(256 * 1024))
        return str(BROCHURE)

    render_brochure()


@dag(dag_id="chunkup_brochure_upload", schedule=[brochure], start_date=datetime(2026, 1, 1), catchup=False,
     tags=["chunkup", "content-range", "example"],
     default_args={"retries": 3, "retry_delay": timedelta(seconds=15)})
def chunkup_brochure_upload() -> None:
    start = ChunkUploadInitOperator(
        task_id="start_upload",
        conn_id="chunkup_content_range_default",
        source=str(BROCHURE),
        media_type="application/pdf",
        media_category="document",
    )
    chunks = ChunkUploadAppendOperator(task_id="upload_chunks", session=start.output)
    ChunkUploadFinalizeOperator(task_id="complete_upload", session=chunks.output)


chunkup_brochure_producer()
chunkup_brochure_upload()

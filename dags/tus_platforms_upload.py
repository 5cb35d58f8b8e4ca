"""Publish one video to Vimeo and to Cloudflare Stream, both over tus, and wait until each has encoded it.

    upload_to_vimeo -> wait_for_vimeo_transcode
    upload_to_stream -> wait_until_stream_ready

Vimeo: ``upload_to_vimeo`` creates the video (name, privacy from the params) and PATCHes its upload link
(which carries its own authority: no token goes there, and the link is masked in logs); the deferrable
sensor polls ``transcode.status`` until Vimeo has transcoded it. Cloudflare Stream: ``upload_to_stream``
creates the upload by tus on the account's ``/stream`` endpoint (name, a duration cap and your own ``meta``
in ``Upload-Metadata``), in 50 MiB chunks; the sensor waits until Stream's state is ``ready``. A retried
upload resumes from the offset the server reports, and each upload's state survives a killed worker in the
task state store; a failed upload deletes its video. Connections: ``chunkup_vimeo_default`` and
``chunkup_cloudflare_stream_default``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator
from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor


@dag(
    dag_id="chunkup_tus_platforms_upload",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["chunkup", "vimeo", "cloudflare", "tus", "example"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
    params={
        "source": Param("/tmp/chunkup-demo.mp4", type="string", description="Local path of the video."),
        "name": Param("chunkup example upload", type="string", maxLength=128),
        "privacy": Param("unlisted", enum=["anybody", "nobody", "unlisted", "disable"],
                         description="Vimeo's privacy.view."),
    },
)
def chunkup_tus_platforms_upload() -> None:
    vimeo = ChunkedUploadOperator(
        task_id="upload_to_vimeo",
        conn_id="chunkup_vimeo_default",
        source="{{ params.source }}",
        chunk_size=16 * 1024 * 1024,
        upload_options={"name": "{{ params.name }}", "privacy": "{{ params.privacy }}"},
    )
    MediaProcessingSensor(task_id="wait_for_vimeo_transcode", upload=vimeo.output, deferrable=True,
                          poke_interval=10, timeout=timedelta(hours=2))

    stream = ChunkedUploadOperator(
        task_id="upload_to_stream",
        conn_id="chunkup_cloudflare_stream_default",
        source="{{ params.source }}",
        chunk_size=50 * 1024 * 1024,  # Stream's rule: a multiple of 256 KiB from 5 MiB to 200 MiB
        upload_options={"name": "{{ params.name }}", "maxdurationseconds": 3600, "meta": {"dag": "{{ dag.dag_id }}"}},
    )
    MediaProcessingSensor(task_id="wait_until_stream_ready", upload=stream.output,
                          deferrable=True, poke_interval=5,
                          timeout=timedelta(hours=2))


chunkup_tus_platforms_upload()

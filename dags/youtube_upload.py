"""Upload a video to YouTube as private, wait until YouTube has processed it, then set its thumbnail.

    upload_video -> wait_for_processing -> set_thumbnail
                                       \\-> add_captions (when a caption file is given)

``upload_video`` sends the file with a resumable ``videos.insert`` in one task: the session URI (a credential)
stays in the task state store, so a retried task resumes the same session instead of inserting a second video
(and spending a second insert of the day's quota). The deferrable sensor polls ``videos.list`` for
``processingDetails`` and ``status`` and fails with YouTube's own reason (``rejected: duplicate``...). The
``chunkup_youtube_default`` connection holds the OAuth client and the channel owner's refresh token (scopes
``youtube.upload`` and ``youtube.readonly``, plus ``youtube.force-ssl`` for captions).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator
from airflow_provider_chunkup.operators.youtube import YouTubeCaptionOperator, YouTubeThumbnailOperator
from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor


@dag(
    dag_id="chunkup_youtube_upload",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["chunkup", "youtube", "example"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    params={
        "source": Param("/tmp/chunkup-demo.mp4", type="string", description="Local path or fsspec URL of the video."),
        "thumbnail": Param("/tmp/chunkup-demo.jpg", type="string", description="JPEG or PNG, at most 2 MB."),
        "captions": Param("", type="string", description="An SRT or WebVTT file; empty for none."),
        "title": Param("chunkup example upload", type="string", maxLength=100),
        "category_id": Param("22", type="string", description="YouTube's category number (22: People & Blogs)."),
    },
)
def chunkup_youtube_upload() -> None:
    video = ChunkedUploadOperator(
        task_id="upload_video",
        conn_id="chunkup_youtube_default",
        source="{{ params.source }}",
        chunk_size=16 * 1024 * 1024,
        upload_options={"title": "{{ params.title }}", "category_id": "{{ params.category_id }}",
                        "privacy_status": "private", "made_for_kids": False, "notify_subscribers": False},
    )
    processed = MediaProcessingSensor(task_id="wait_for_processing", upload=video.output, deferrable=True,
                                      poke_interval=30, timeout=timedelta(hours=6))
    thumbnail = YouTubeThumbnailOperator(task_id="set_thumbnail", video=video.output, source="{{ params.thumbnail }}")

    @task.short_circuit
    def has_captions(captions: str) -> bool:
        return bool(captions)

    captions = YouTubeCaptionOperator(task_id="add_captions", video=video.output, source="{{ params.captions }}",
                                      language="en", name="English")
    wants_captions = has_captions("{{ params.captions }}")
    processed >> [thumbnail, wants_captions]
    wants_captions >> captions


chunkup_youtube_upload()

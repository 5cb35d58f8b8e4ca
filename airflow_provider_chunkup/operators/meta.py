"""Meta's publish steps, each its own task after the upload (and the processing sensor).

Instagram separates upload from publishing (``media_publish``); a Facebook Page Reel uploaded with
``{"publish": false}`` is published by its finish (``video_state``). Both read the state first, so a retried
task never publishes twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.facebook_reels import FacebookReelsHook
from airflow_provider_chunkup.hooks.instagram import InstagramHook
from airflow_provider_chunkup.operators.resume import failing_for_good


def media_id_of(media: Any, api: str, what: str) -> str:
    """An id, or the result of the upload task (its ``media_id``), which must be an ``api`` upload."""
    if isinstance(media, Mapping):
        if media.get("api") not in (None, api):
            raise ConfigurationError(f"This is the result of a {media.get('api')} upload, not a {api} one.")
        media = media.get("media_id")
    if not isinstance(media, str) or not media.strip():
        raise ConfigurationError(f"{what} must be an id or the upload task's result, got {media!r}.")
    return media.strip()


class InstagramPublishOperator(BaseOperator):
    """Publishes an Instagram container once it is FINISHED (``POST /{ig-user-id}/media_publish``).

    Put it after ``MediaProcessingSensor(api="instagram")``. A container already PUBLISHED (a retried task) is
    not published again. XCom: ``{"id": <IG media id, None if already published>, "container_id",
    "already_published"}``.

    :param container: the upload task's result (``upload.output``) or a container id. Templated.
    :param conn_id: a ``chunkup_instagram`` connection. Templated.
    """

    template_fields: Sequence[str] = ("container", "conn_id")
    ui_color = "#f8c8dc"

    def __init__(self, *, container: Any, conn_id: str = InstagramHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.container = container
        self.conn_id = conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            return InstagramHook(self.conn_id).publish(media_id_of(self.container, "instagram", "container"))
        except Exception as e:
            if (final := failing_for_good(e)) is None:
                raise
            raise final from e


class FacebookReelsPublishOperator(BaseOperator):
    """Sends the finish of a Page Reel uploaded with ``upload_options={"publish": false}``: its ``video_state``.

    A Reel whose finish was sent already is left as it is. XCom: ``{"video_id", "finished": bool}``.

    :param video: the upload task's result or a video id. Templated.
    :param video_state: ``PUBLISHED``, ``DRAFT`` or ``SCHEDULED`` (with ``scheduled_publish_time``). Templated.
    :param description: the Reel's description. Templated.
    """

    template_fields: Sequence[str] = ("video", "conn_id", "video_state", "description")
    ui_color = "#c8d8f8"

    def __init__(self, *, video: Any, video_state: str = "PUBLISHED", description: str | None = None,
                 title: str | None = None, scheduled_publish_time: int | None = None,
                 conn_id: str = FacebookReelsHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.video = video
        self.video_state = video_state
        self.description = description
        self.title = title
        self.scheduled_publish_time = scheduled_publish_time
        self.conn_id = conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        options = {"video_state": self.video_state, "description": self.description, "title": self.title,
                   "scheduled_publish_time": self.scheduled_publish_time}
        try:
            return FacebookReelsHook(self.conn_id).publish(media_id_of(self.video, "facebook_reels", "video"),
                                                           {k: v for k, v in options.items() if v is not None})
        except Exception as e:
            if (final := failing_for_good(e)) is None:
                raise
            raise final from e

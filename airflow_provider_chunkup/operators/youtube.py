"""After a YouTube upload: the video's thumbnail and caption tracks, each its own task."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.youtube import YouTubeHook
from airflow_provider_chunkup.operators.resume import failing_for_good


def video_id_of(video: Any) -> str:
    """A video id, or the result of the upload task (its ``media_id``)."""
    if isinstance(video, Mapping):
        if video.get("api") not in (None, "youtube"):
            raise ConfigurationError(f"This is the result of a {video.get('api')} upload, not a YouTube one.")
        video = video.get("media_id")
    if not isinstance(video, str) or not video.strip():
        raise ConfigurationError(f"video must be a YouTube video id or the upload task's result, got {video!r}.")
    return video.strip()


class _YouTubeVideoOperator(BaseOperator):
    template_fields: Sequence[str] = ("video", "source", "conn_id")
    ui_color = "#f5b7b1"

    def __init__(self, *, video: Any, source: Any, conn_id: str = YouTubeHook.default_conn_name,
                 storage_options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.video = video
        self.source = source
        self.conn_id = conn_id
        self.storage_options = storage_options

    def _run(self, step: Any) -> dict[str, Any]:
        try:
            return step(YouTubeHook(self.conn_id), video_id_of(self.video))
        except Exception as e:
            if (final := failing_for_good(e)) is None:
                raise
            raise final from e


class YouTubeThumbnailOperator(_YouTubeVideoOperator):
    """Sets a video's custom thumbnail (``thumbnails.set``: JPEG or PNG, up to 2 MB; the channel must be verified).

    XCom: YouTube's answer (the thumbnail URLs). Costs 50 quota units.

    :param video: the upload task's result (``upload.output``) or a video id. Templated.
    :param source: the image: a local path or fsspec URL. Templated.
    """

    def execute(self, context: Context) -> dict[str, Any]:
        return self._run(lambda hook, video_id: hook.set_thumbnail(video_id, self.source,
                                                                    storage_options=self.storage_options))


class YouTubeCaptionOperator(_YouTubeVideoOperator):
    """Adds a caption track to a video (``captions.insert``: SRT, WebVTT, SBV..., up to 100 MB).

    Needs the ``youtube.force-ssl`` scope; costs 400 quota units. XCom: the caption resource (its ``id``).

    :param language: the track's language (BCP-47: ``en``, ``pt-BR``). Templated.
    :param name: the track's name as viewers see it. Templated.
    :param draft: keep the track unpublished.
    """

    template_fields: Sequence[str] = (*_YouTubeVideoOperator.template_fields, "language", "name")

    def __init__(self, *, language: str, name: str = "", draft: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.language = language
        self.name = name
        self.draft = draft

    def execute(self, context: Context) -> dict[str, Any]:
        return self._run(lambda hook, video_id: hook.insert_caption(
            video_id, self.source, language=self.language, name=self.name, draft=self.draft,
            storage_options=self.storage_options))

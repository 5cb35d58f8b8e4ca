"""The last step of the LinkedIn flow: publish the post that carries the uploaded video (Posts API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from airflow_provider_chunkup.hooks.linkedin import LinkedInHook, video_of
from airflow_provider_chunkup.operators.resume import failing_for_good
from airflow_provider_chunkup.operators.upload import is_session_data


class LinkedInPostOperator(BaseOperator):
    """Publishes a LinkedIn post carrying an uploaded video (``POST /rest/posts``), once it is ``AVAILABLE``.

    Put it after ``MediaProcessingSensor(api="linkedin")``: LinkedIn refuses a video still processing. The
    request is checked before it is sent (commentary of at most 3000 characters once escaped, visibility, URNs).
    A retried task never posts twice: the post goes to the task state store as soon as LinkedIn answers, and a
    retry returns it. XCom: ``{"post_urn", "url", "video_urn", "author", "commentary"}``.

    :param video: the upload task's result (``upload.output``; its owner is the author) or a video URN. Templated.
    :param commentary: the post's text. Templated. Plain text, escaped for LinkedIn's little text format (its
        reserved characters ``\\ | { } @ [ ] ( ) < > # * _ ~`` would otherwise cut the text).
    :param raw_commentary: send ``commentary`` as written: it is little text already (mentions, hashtags).
    :param visibility: ``PUBLIC``, ``CONNECTIONS``, ``LOGGED_IN`` or ``CONTAINER``. Templated.
    :param title: the video's title in the post. Templated.
    :param feed: show the post in the main feed (``MAIN_FEED``); ``False``: ``NONE``.
    :param author: the post's author, instead of the video's owner. Templated.
    :param conn_id: the ``chunkup_linkedin`` connection; by default the upload's, else the default one. Templated.
    """

    template_fields: Sequence[str] = ("video", "commentary", "visibility", "title", "author", "conn_id")
    ui_color = "#cfe2f3"

    def __init__(self, *, video: Any, commentary: str = "", raw_commentary: bool = False,
                 visibility: str = "PUBLIC", title: str | None = None, feed: bool = True, author: str | None = None,
                 conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.video = video
        self.commentary = commentary
        self.raw_commentary = raw_commentary
        self.visibility = visibility
        self.title = title
        self.feed = feed
        self.author = author
        self.conn_id = conn_id

    def render_template(self, content: Any, context: Context, jinja_env: Any = None,
                        seen_oids: set[int] | None = None) -> Any:
        """Upload results (an upstream task's XCom) are data, not templates: kept as they are."""
        if is_session_data(content):
            return content
        return super().render_template(content, context, jinja_env, seen_oids)

    def _conn_id(self) -> str:
        if self.conn_id:
            return self.conn_id
        found = self.video.get("conn_id") if isinstance(self.video, Mapping) else None
        return found if isinstance(found, str) and found else LinkedInHook.default_conn_name

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            video_of(self.video)  # another API's result is refused before the connection is read
            return LinkedInHook(self._conn_id()).create_post(
                self.video, commentary=self.commentary, visibility=self.visibility, title=self.title,
                feed=self.feed, author=self.author, raw_commentary=self.raw_commentary,
                record_store=context.get("task_state_store"))
        except Exception as e:
            if (final := failing_for_good(e)) is None:
                raise
            raise final from e

"""The last step of the X flow: publish the post that carries the uploaded media."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.links import POST_URL_ATTRIBUTE, PublishedPostLink
from airflow_provider_chunkup.operators.resume import failing_for_good
from airflow_provider_chunkup.operators.upload import is_session_data
from airflow_provider_chunkup.protocols.links import post_url
from airflow_provider_chunkup.protocols.x_posts import as_media_id


def _post_id(value: Any, what: str) -> str | None:
    """A post id, or the XCom of an earlier XCreatePostOperator (its ``post_id``)."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        value = value.get("post_id")
    return as_media_id(value, what)


class XCreatePostOperator(BaseOperator):
    """Publishes an X post with uploaded media: alt text and subtitle tracks first, then the post.

    Everything X would refuse is refused before any request. A retried task never posts twice: the post
    goes to the task state store as soon as X answers, and a retry returns it (one whose answer was lost is
    found among the account's recent posts). XCom: ``post_id``, ``url``, ``text``, ``media_ids``.

    :param text: the post's text (templated). X counts it weighted (links 23, emoji 2) against 280, or the
        connection's ``max_post_length``.
    :param media: what to attach: an upload task's result (``finalize.output``), a list of them, or media ids.
        At most 4 images, or 1 video, or 1 GIF. Each must have finished processing on X (one status request
        each; put a :class:`~airflow_provider_chunkup.sensors.processing.MediaProcessingSensor` first).
    :param alt_text: one text (one media), a list (one per media, ``None`` to skip) or ``{media_id: text}``.
    :param subtitles: ``{"media": <subtitle upload result or id>, "language_code": "EN", "display_name":
        "English"}`` or a list of them, attached to the post's video.
    :param reply_to: the post to reply to: its id, or an earlier XCreatePostOperator's output.
    :param quote_tweet_id: a post to quote (id or an earlier XCreatePostOperator's output).
    :param reply_settings: who may reply: ``following``, ``mentionedUsers``, ``subscribers`` or ``verified``.
    :param made_with_ai: disclose AI-generated media.
    :param paid_partnership: disclose a paid partnership.
    :param fields: any other field of X's ``CreatePostsRequest`` (``nullcast``, ``media.tagged_user_ids``...).
    :param conn_id: the ``chunkup_x`` connection; by default the one the media was uploaded with.
    :param max_post_length: the weighted length X allows this account, over the connection's (280 by default).
    :param retry: this task's retry policy for each request, over the connection's: ``max_attempts``,
        ``backoff_initial``, ``backoff_max``, ``max_elapsed`` (seconds).
    """

    template_fields: Sequence[str] = ("text", "media", "alt_text", "subtitles", "reply_to", "quote_tweet_id",
                                      "reply_settings", "fields", "conn_id")
    template_fields_renderers = {"fields": "json"}
    operator_extra_links = (PublishedPostLink(),)
    ui_color = "#d6eaf8"

    def __init__(self, *, text: str = "", media: Any = None, alt_text: Any = None, subtitles: Any = None,
                 reply_to: Any = None, quote_tweet_id: Any = None, reply_settings: str | None = None,
                 made_with_ai: bool | None = None, paid_partnership: bool | None = None,
                 fields: Mapping[str, Any] | None = None, conn_id: str | None = None,
                 max_post_length: int | None = None, retry: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = text
        self.media = media
        self.alt_text = alt_text
        self.subtitles = subtitles
        self.reply_to = reply_to
        self.quote_tweet_id = quote_tweet_id
        self.reply_settings = reply_settings
        self.made_with_ai = made_with_ai
        self.paid_partnership = paid_partnership
        self.fields = fields
        self.conn_id = conn_id
        self.max_post_length = max_post_length
        self.retry = retry

    def render_template(self, content: Any, context: Context, jinja_env: Any = None,
                        seen_oids: set[int] | None = None) -> Any:
        """Upload results (an upstream task's XCom) are data, not templates: kept as they are."""
        if is_session_data(content):
            return content
        return super().render_template(content, context, jinja_env, seen_oids)

    def post_fields(self) -> dict[str, Any]:
        """The post's fields besides text and media, as X's API names them."""
        fields = dict(self.fields or {})
        reply = _post_id(self.reply_to, "reply_to")
        named = {
            "reply": {"in_reply_to_tweet_id": reply} if reply else None,
            "quote_tweet_id": _post_id(self.quote_tweet_id, "quote_tweet_id"),
            "reply_settings": self.reply_settings or None,
            "made_with_ai": self.made_with_ai,
            "paid_partnership": self.paid_partnership,
        }
        for name, value in named.items():
            if value is None:
                continue
            if name in fields:
                raise ConfigurationError(f"{name} is given twice: as an argument and in fields. Keep one.")
            fields[name] = value
        return fields

    def _conn_id(self) -> str | None:
        if self.conn_id:
            return self.conn_id
        items = self.media if isinstance(self.media, (list, tuple)) else [self.media]
        ids = {i.get("conn_id") for i in items if isinstance(i, Mapping) and i.get("conn_id")}
        return ids.pop() if len(ids) == 1 else None

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            hook = XMediaUploadHook(self._conn_id() or XMediaUploadHook.default_conn_name).with_retry(self.retry)
            post = hook.publish(self.text, self.media, alt_text=self.alt_text, subtitles=self.subtitles,
                                fields=self.post_fields(), max_post_length=self.max_post_length,
                                record_store=context.get("task_state_store"))
        except Exception as e:
            if (final := failing_for_good(e)) is None:
                raise
            raise final from e
        url = post_url(post.id, hook.api_base_url())
        setattr(self, POST_URL_ATTRIBUTE, url)
        self.log.info("Post %s: %s", post.id, url)
        return {"post_id": post.id, "url": url, "text": post.text, "media_ids": post.media_ids}

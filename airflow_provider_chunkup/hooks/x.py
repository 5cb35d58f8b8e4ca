"""Airflow hook for X media upload (v2, or the legacy v1.1 flow) on a ``chunkup_x`` connection.

Connection fields:

- host: X's API host; empty means ``api.x.com`` (v2) or ``upload.twitter.com`` (v1.1). A URL such
  as ``http://127.0.0.1:8787`` points at the local emulator.
- OAuth 2.0 user context (``auth_type=oauth2_user``, the default): the user access token (scope
  ``media.write``) in the password.
- OAuth 1.0a user context (``auth_type=oauth1_user``): consumer (API) key in login, consumer secret
  in password, ``access_token`` and ``access_token_secret`` in the extra.
- extra: ``api_version`` (``v2`` or ``v1.1``), ``chunk_size``, ``max_in_flight``, ``timeout``,
  ``size_limits`` (JSON, bytes per ``image``/``gif``/``video``), ``max_post_length`` (280, or up to
  25000 for X Premium accounts), ``retry_*``, ``allow_insecure_http``.

Besides the upload, the hook publishes: :meth:`~XMediaUploadHook.create_post`,
:meth:`~XMediaUploadHook.set_alt_text`, :meth:`~XMediaUploadHook.attach_subtitles`, and
:meth:`~XMediaUploadHook.publish`, which does all three after checking the media is ready.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ChunkupError,
    ConfigurationError,
    MediaNotReady,
    ProcessingFailed,
    RemoteRejected,
)
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import (
    ConnectionOptions,
    base_url,
    require_safe_transport,
)
from airflow_provider_chunkup.protocols.auth import BearerAuth, OAuth1Auth
from airflow_provider_chunkup.protocols.http import ApiClient
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.x import DEFAULT_BASE_URLS, DIALECTS, V2, MediaInfo, XMediaUpload
from airflow_provider_chunkup.protocols.x_posts import (
    PostMedia,
    SubtitleTrack,
    alt_texts,
    as_language_code,
    as_media_id,
    build_post,
    check_alt_text,
    check_media,
    max_post_length,
    media_kind,
    post_media,
    subtitle_tracks,
)
from airflow_provider_chunkup.protocols.x_publish import PostRecord, PublishedPost, XPublisher, post_error

AUTH_TYPES = ("oauth2_user", "oauth1_user")


class XMediaUploadHook(ChunkUploadHook):
    """Uploads media to X in chunks.

    ```python
    result = XMediaUploadHook().upload("/data/clip.mp4", media_category="tweet_video")
    result.media_id, result.sha256
    ```

    :param x_conn_id: a ``chunkup_x`` connection (default ``chunkup_x_default``).
    """

    api: ClassVar[str] = "x"
    conn_name_attr = "x_conn_id"
    default_conn_name = "chunkup_x_default"
    conn_type = "chunkup_x"
    hook_name = "chunkup: X media upload"
    default_max_in_flight: ClassVar[int] = 3

    def __init__(self, x_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=x_conn_id, **kwargs)

    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> XMediaUpload:
        dialect = options.get_str("api_version", V2) or V2
        if dialect not in DIALECTS:
            raise ConfigurationError(
                f"Connection {self.conn_id!r}: api_version must be one of {', '.join(DIALECTS)}, "
                f"got {dialect!r}."
            )
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, DEFAULT_BASE_URLS[dialect])
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        size_limits = {k: int(v) for k, v in options.get_mapping("size_limits").items()}
        return XMediaUpload(auth=self._auth(conn, options), dialect=dialect, base_url=url, size_limits=size_limits,
                            transport=transport, **_client_settings(options))

    def test_connection(self) -> tuple[bool, str]:
        """Check the credentials with a STATUS call for a media id that cannot exist.

        X authenticates before it looks the media up: 401/403 means the credentials are wrong,
        a 4xx about the media means they work. Nothing is uploaded.
        """
        try:
            protocol = self.get_conn()
            protocol.client.retry = RetryPolicy(max_attempts=1)
            run_sync(self._using(protocol, lambda p: p.status("1")))
        except AuthenticationFailed as e:
            return False, str(e)
        except RemoteRejected as e:
            return True, f"Authenticated to X ({self.options.get_str('api_version', V2)}); probe answered {e.status}."
        except ChunkupError as e:
            return False, str(e)
        return True, f"Authenticated to X ({self.options.get_str('api_version', V2)})."

    def _auth(self, conn: Connection, options: ConnectionOptions) -> httpx.Auth:
        token = options.get_str("access_token")
        token_secret = options.get_str("access_token_secret")
        auth_type = options.get_str("auth_type") or ("oauth1_user" if token_secret else "oauth2_user")
        if auth_type not in AUTH_TYPES:
            raise ConfigurationError(
                f"Connection {self.conn_id!r}: auth_type must be one of {', '.join(AUTH_TYPES)}, "
                f"got {auth_type!r}."
            )
        if auth_type == "oauth2_user":
            if not conn.password:
                raise ConfigurationError(
                    f"Connection {self.conn_id!r} has no password: put the OAuth 2.0 user access token "
                    "(scope media.write) in the password, or set auth_type=oauth1_user with OAuth 1.0a keys."
                )
            return BearerAuth(conn.password)
        missing = [name for name, value in (("login (consumer key)", conn.login),
                                            ("password (consumer secret)", conn.password),
                                            ("extra access_token", token),
                                            ("extra access_token_secret", token_secret)) if not value]
        if missing:
            raise ConfigurationError(
                f"Connection {self.conn_id!r} uses OAuth 1.0a but lacks {', '.join(missing)}. Set all four: "
                "consumer key and secret from the X app, access token and secret of the user."
            )
        return OAuth1Auth(conn.login, conn.password, token, token_secret)  # type: ignore[arg-type]

    # -- after the upload: posts, alt text, subtitles ----------------------------------------------

    def get_publisher(self) -> XPublisher:
        """A client for posts, alt text and subtitles on this connection (use it as ``async with``).

        Posts go to API v2 whatever the upload dialect: the connection's host, else ``api.x.com``.
        """
        upload = self.get_conn()
        assert self._conn is not None
        conn, options = self._conn, self.options
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, DEFAULT_BASE_URLS[V2])
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        client = ApiClient(url, auth=self._auth(conn, options), error_factory=post_error, **_client_settings(options))
        return XPublisher(client, upload)

    async def aget_publisher(self) -> XPublisher:
        """:meth:`get_publisher` for async callers: no blocking connection lookup."""
        await self.aget_conn()
        return self.get_publisher()

    def post_limit(self, override: int | None = None) -> int:
        """The weighted length a post may have: ``override``, else the connection's ``max_post_length``, else 280."""
        return max_post_length(override if override is not None else self.options.get_int("max_post_length"))

    async def acreate_post(self, text: str | None = None, media_ids: Any = None, *,
                           max_post_length: int | None = None, earlier_attempt_at: float | None = None,
                           **fields: Any) -> PublishedPost:
        """Publish a post carrying ``media_ids`` (ids or upload results); ``fields`` are the spec's others
        (``reply``, ``quote_tweet_id``, ``reply_settings``, ``made_with_ai``, ``paid_partnership``...).

        Everything X would refuse is refused before any request. A lost answer never leads to a second post
        (see :class:`~airflow_provider_chunkup.protocols.x_publish.XPublisher`).
        """
        async with await self.aget_publisher() as publisher:
            body = build_post(text, post_media(media_ids), fields=fields, max_length=self.post_limit(max_post_length))
            return await publisher.create_post(body, earlier_attempt_at=earlier_attempt_at)

    def create_post(self, text: str | None = None, media_ids: Any = None, *, max_post_length: int | None = None,
                    earlier_attempt_at: float | None = None, **fields: Any) -> PublishedPost:
        """Synchronous :meth:`acreate_post`."""
        return run_sync(self.acreate_post(text, media_ids, max_post_length=max_post_length,
                                          earlier_attempt_at=earlier_attempt_at, **fields))

    async def aset_alt_text(self, media_id: str | int, text: str) -> None:
        """Give an uploaded image, GIF or video its alt text (at most 1000 characters; replaces earlier text)."""
        target, text = as_media_id(media_id), check_alt_text(text)
        async with await self.aget_publisher() as publisher:
            await publisher.set_alt_text(target, text)

    def set_alt_text(self, media_id: str | int, text: str) -> None:
        """Synchronous :meth:`aset_alt_text`."""
        run_sync(self.aset_alt_text(media_id, text))

    async def aattach_subtitles(self, video_media_id: str | int, subtitle_media_id: str | int, language_code: str,
                                display_name: str, *, video_category: str | None = None) -> dict[str, Any]:
        """Attach a subtitle upload (``media_category=subtitles``) to a video as the track of one language.

        ``language_code`` is two letters (``EN``); ``video_category`` is ``amplify_video`` for Amplify videos.
        """
        video = as_media_id(video_media_id, "video media id")
        track = as_media_id(subtitle_media_id, "subtitle media id")
        code = as_language_code(language_code)
        if not isinstance(display_name, str) or not display_name.strip():
            raise ConfigurationError("display_name must name the language as viewers read it (such as English).")
        async with await self.aget_publisher() as publisher:
            return await publisher.attach_subtitles(video, track, code, display_name.strip(), video_category)

    def attach_subtitles(self, video_media_id: str | int, subtitle_media_id: str | int, language_code: str,
                         display_name: str, *, video_category: str | None = None) -> dict[str, Any]:
        """Synchronous :meth:`aattach_subtitles`."""
        return run_sync(self.aattach_subtitles(video_media_id, subtitle_media_id, language_code, display_name,
                                               video_category=video_category))

    async def apublish(self, text: str | None, media: Any = None, *, alt_text: Any = None, subtitles: Any = None,
                       fields: Mapping[str, Any] | None = None, max_post_length: int | None = None,
                       record_store: Any = None) -> PublishedPost:
        """The last step of the X flow: check the media is ready, set alt text, attach subtitles, post.

        ``media``: upload results (or their XCom dicts) or media ids; ``alt_text``: one text, a list (one per
        media) or ``{media_id: text}``; ``subtitles``: ``{"media": <subtitle upload>, "language_code": "EN",
        "display_name": "English"}`` or a list of them, attached to the post's video. Everything X would refuse
        is refused before any request; then one STATUS per media (processing must have succeeded). With a
        ``record_store`` (the task state store), a retry returns the post an earlier try made.
        """
        async with await self.aget_publisher() as publisher:
            items = post_media(media)
            alts = alt_texts(alt_text, items)
            tracks = subtitle_tracks(subtitles)
            body = build_post(text, items, fields=fields, max_length=self.post_limit(max_post_length))
            _check_tracks(tracks, items)
            record = PostRecord(record_store, body) if record_store is not None else None
            if record is not None and (earlier := record.post()) is not None:
                self.log.info("Post %s was published by an earlier try; not posting again.", earlier.id)
                return earlier
            items = [await self._ready(publisher, m) for m in items]
            check_media(items)
            _check_tracks(tracks, items)
            for target, description in alts.items():
                await publisher.set_alt_text(target, description)
                self.log.info("Alt text set on media %s (%d characters).", target, len(description))
            video = next((m for m in items if m.kind == "video"), None)
            for track in tracks:
                assert video is not None  # _check_tracks
                category = "amplify_video" if (video.media_key or "").startswith("13_") else "tweet_video"
                await publisher.attach_subtitles(video.media_id, track.media_id, track.language_code,
                                                 track.display_name, category)
                self.log.info("Subtitles %s (%s) attached to video %s.", track.language_code, track.display_name,
                              video.media_id)
            earlier_at = record.attempt_at() if record is not None else None
            if record is not None:
                record.save_attempt(earlier_at or time.time())
            post = await publisher.create_post(body, earlier_attempt_at=earlier_at)
            if record is not None:
                record.save_post(post)
        if post.recovered:
            self.log.info("Found post %s, made by an earlier attempt whose answer was lost; not posting again.",
                          post.id)
        else:
            self.log.info("Published post %s with %d media.", post.id, len(post.media_ids))
        return post

    def publish(self, text: str | None, media: Any = None, **kwargs: Any) -> PublishedPost:
        """Synchronous :meth:`apublish`."""
        return run_sync(self.apublish(text, media, **kwargs))

    async def _ready(self, publisher: XPublisher, media: PostMedia) -> PostMedia:
        """The media with its kind, after one STATUS: refused unless X finished processing it."""
        info: MediaInfo = await publisher.upload.describe(media.media_id)
        state = info.status.state
        if state == "failed":
            raise ProcessingFailed(
                f"X failed to process media {media.media_id}: {info.status.error or 'no reason given'}. It cannot be "
                "posted: upload a file X can process (check its format and encoding)."
            )
        if state != "succeeded":
            progress = f", {info.status.progress_percent}%" if info.status.progress_percent is not None else ""
            raise MediaNotReady(
                f"Media {media.media_id} is still processing on X ({state}{progress}); X refuses to post it until "
                "processing succeeded. Put a MediaProcessingSensor on the upload's result before this task."
            )
        kind = media.kind or media_kind(info.media_key)
        return PostMedia(media.media_id, kind, media.media_key or info.media_key)


def _client_settings(options: ConnectionOptions) -> dict[str, Any]:
    """The connection's retry policy and timeout, for the upload client and the posts client alike."""
    return {"retry": RetryPolicy.from_options(options.retry_options()),
            "timeout": options.get_float("timeout", 120.0) or 120.0}


def _check_tracks(tracks: Sequence[SubtitleTrack], media: Sequence[PostMedia]) -> None:
    """Subtitle tracks need a video in the post (checked again once STATUS told each media's kind)."""
    if not tracks:
        return
    kinds = [m.kind for m in media]
    if not media or (None not in kinds and "video" not in kinds):
        raise ConfigurationError(
            "Subtitle tracks attach to a video, but the post has "
            f"{', '.join(k or 'unknown' for k in kinds) or 'no media'}. Post the video upload with them."
        )

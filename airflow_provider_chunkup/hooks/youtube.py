"""Airflow hook for YouTube uploads on a ``chunkup_youtube`` connection.

Connection fields:

- host: the API base URL; empty for ``https://www.googleapis.com`` (the emulator: ``http://127.0.0.1:PORT``).
- login / password: the OAuth 2.0 client id and client secret.
- extra: ``refresh_token`` (the channel owner's consent, exchanged for access tokens at ``oauth_endpoint``, default
  ``https://oauth2.googleapis.com/token``, renewed when they expire mid-upload), or ``access_token`` alone
  (about an hour of life: for short jobs and tests); ``chunk_size`` (default 16 MiB, a multiple of 256 KiB),
  ``restart_expired``, ``timeout``, ``retry_*``, ``allow_insecure_http``.

Scopes: ``youtube.upload`` inserts; the sensor's ``videos.list`` also needs ``youtube.readonly`` (or
``youtube``); captions need ``youtube.force-ssl``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.base import ChunkUploadHook, guess_media_type
from airflow_provider_chunkup.hooks.connection import ConnectionOptions, base_url, require_safe_transport
from airflow_provider_chunkup.hooks.probe import probe_missing_resource
from airflow_provider_chunkup.hooks.sources.worker import open_source
from airflow_provider_chunkup.protocols.auth import BearerAuth
from airflow_provider_chunkup.protocols.google_auth import GOOGLE_TOKEN_URI, GoogleOAuth
from airflow_provider_chunkup.protocols.google_resumable import DEFAULT_CHUNK, MAX_CHUNK
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.youtube import VIDEOS_PATH, YouTubeUpload
from airflow_provider_chunkup.sources import SourceLike

GOOGLE_APIS = "https://www.googleapis.com"
PIECE = 256 * 1024


def _mask(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class YouTubeHook(ChunkUploadHook):
    """Uploads videos to YouTube (resumable ``videos.insert``); sets thumbnails and caption tracks.

    ```python
    hook = YouTubeHook()
    result = hook.upload("/data/clip.mp4", options={"title": "Launch", "privacy_status": "private"})
    hook.set_thumbnail(result.media_id, "/data/clip.jpg")
    ```

    :param youtube_conn_id: a ``chunkup_youtube`` connection (default ``chunkup_youtube_default``).
    """

    api: ClassVar[str] = "youtube"
    conn_name_attr = "youtube_conn_id"
    default_conn_name = "chunkup_youtube_default"
    conn_type = "chunkup_youtube"
    hook_name = "chunkup: YouTube"

    def __init__(self, youtube_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=youtube_conn_id, **kwargs)

    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> YouTubeUpload:
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, GOOGLE_APIS)
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        return YouTubeUpload(
            api_base=url, auth=google_user_auth(self.conn_id, conn, options),
            default_chunk_bytes=options.get_int("chunk_size", DEFAULT_CHUNK) or DEFAULT_CHUNK,
            max_chunk_bytes=MAX_CHUNK, retry=RetryPolicy.from_options(options.retry_options()),
            timeout=options.get_float("timeout", 120.0) or 120.0, transport=transport, on_secret=_mask,
        )

    def set_thumbnail(self, video_id: str, source: SourceLike, media_type: str | None = None,
                      storage_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Set the video's thumbnail from an image (local path or fsspec URL), streamed; returns YouTube's answer."""
        with open_source(source, storage_options) as src:
            kind = media_type or guess_media_type(src.url) or "application/octet-stream"
            size = src.size
            return run_sync(self._using(self.get_conn(), lambda p: p.set_thumbnail(
                video_id, _Pieces(src), size, kind)))

    def insert_caption(self, video_id: str, source: SourceLike, *, language: str, name: str = "",
                       draft: bool = False, storage_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Add a caption track (SRT, WebVTT, SBV...) to the video, streamed; returns the caption resource."""
        with open_source(source, storage_options) as src:
            size = src.size
            return run_sync(self._using(self.get_conn(), lambda p: p.insert_caption(
                video_id, _Pieces(src), size, language=language, name=name, draft=draft)))

    def test_connection(self) -> tuple[bool, str]:
        """List a video that does not exist: 200 with no items means the credentials (and videos.list's scope) work.
        Creates nothing and costs one quota unit."""
        ok, message = probe_missing_resource(self, "YouTube", VIDEOS_PATH, params={"part": "id", "id": "0" * 11},
                                             found_ok=True)
        return ok, message


class _Pieces:
    """A source read in bounded pieces, from the start again each time it is iterated (a retry)."""

    def __init__(self, src: Any) -> None:
        self._src = src

    async def __aiter__(self) -> AsyncIterator[bytes]:
        import asyncio

        for offset in range(0, self._src.size, PIECE):
            yield await asyncio.to_thread(self._src.read, offset, min(PIECE, self._src.size - offset))


def google_user_auth(conn_id: str, conn: Connection, options: ConnectionOptions) -> httpx.Auth:
    """OAuth 2.0 for a user's account: a refresh token with the client id and secret, or an access token alone."""
    refresh, access = options.get_str("refresh_token"), options.get_str("access_token")
    if refresh:
        if not (conn.login and conn.password):
            raise ConfigurationError(f"Connection {conn_id!r} has a refresh_token but not the OAuth client's id and "
                                     "secret: put them in the login and password.")
        return GoogleOAuth(client_id=conn.login, client_secret=conn.password, refresh_token=refresh,
                           token_uri=options.get_str("oauth_endpoint") or GOOGLE_TOKEN_URI, on_token=_mask)
    if access:
        return BearerAuth(access)
    raise ConfigurationError(f"Connection {conn_id!r} has no credentials: set the extra refresh_token (with the "
                             "OAuth client id and secret in login and password), or access_token.")

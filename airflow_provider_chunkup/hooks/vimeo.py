"""Airflow hook for Vimeo uploads on a ``chunkup_vimeo`` connection.

Connection fields:

- host: the API base URL; empty for ``https://api.vimeo.com`` (the emulator: ``http://127.0.0.1:PORT/vimeo``).
- password: an access token with the ``upload`` scope (and ``delete``, so a failed upload's video is removed).
- extra: ``chunk_size`` (default 64 MiB), ``max_chunk_size`` (default 1 GiB), ``restart_expired``,
  ``timeout``, ``retry_*``, ``allow_insecure_http``.

The video's name, description and privacy come from the operators' ``upload_options``
(``{"name": ..., "description": ..., "privacy": "unlisted"}``). The upload link Vimeo answers with is a
secret (it takes bytes without a token): it is masked in task logs.
"""

from __future__ import annotations

from typing import ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import ConnectionOptions, base_url, require_safe_transport
from airflow_provider_chunkup.hooks.probe import probe_missing_resource
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.vimeo import DEFAULT_BASE, DEFAULT_CHUNK, MAX_CHUNK, VimeoUpload


def _mask(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class VimeoUploadHook(ChunkUploadHook):
    """Uploads videos to Vimeo over tus; the sensor waits for the transcode.

    ```python
    result = VimeoUploadHook().upload("/data/clip.mp4", options={"name": "Launch", "privacy": "unlisted"})
    result.media_id, result.details["url"]  # the video's page
    ```

    :param vimeo_conn_id: a ``chunkup_vimeo`` connection (default ``chunkup_vimeo_default``).
    """

    api: ClassVar[str] = "vimeo"
    conn_name_attr = "vimeo_conn_id"
    default_conn_name = "chunkup_vimeo_default"
    conn_type = "chunkup_vimeo"
    hook_name = "chunkup: Vimeo"

    def __init__(self, vimeo_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=vimeo_conn_id, **kwargs)

    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> VimeoUpload:
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, DEFAULT_BASE)
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        max_chunk = options.get_int("max_chunk_size", MAX_CHUNK) or MAX_CHUNK
        return VimeoUpload(
            api_base=url, token=conn.password or "", default_chunk_bytes=min(DEFAULT_CHUNK, max_chunk),
            max_chunk_bytes=max_chunk, retry=RetryPolicy.from_options(options.retry_options()),
            timeout=options.get_float("timeout", 120.0) or 120.0, transport=transport, on_secret=_mask,
        )

    def test_connection(self) -> tuple[bool, str]:
        """Read a video that does not exist: Vimeo checks the token first, so its 404 means the token works.

        Creates nothing. Returns ``(ok, message)``; the message never holds the token.
        """
        return probe_missing_resource(self, "Vimeo", "/videos/0", params={"fields": "uri"})

"""Airflow hook for Cloudflare Stream uploads on a ``chunkup_cloudflare_stream`` connection.

Connection fields:

- host: the API base URL; empty for ``https://api.cloudflare.com/client/v4`` (the emulator:
  ``http://127.0.0.1:PORT/client/v4``).
- login: the account id.
- password: an API token with the Stream Edit permission. It may be empty on a connection that only
  sends bytes to direct creator upload URLs (``upload_options={"upload_url": ...}``): those need no token,
  but status (the sensor) and abort do.
- extra: ``chunk_size`` (default 50 MiB; a multiple of 256 KiB from 5 MiB to 200 MiB), ``until``
  (``ready`` or ``playable``), ``restart_expired``, ``timeout``, ``retry_*``, ``allow_insecure_http``.

The video's settings come from the operators' ``upload_options``: ``name``, ``requiresignedurls``,
``maxdurationseconds``, ``scheduleddeletion``, ``allowedorigins``, ``thumbnailtimestamppct``, ``watermark``,
and ``meta`` for your own keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import ConnectionOptions, base_url, require_safe_transport
from airflow_provider_chunkup.hooks.probe import probe_missing_resource
from airflow_provider_chunkup.protocols.cloudflare_stream import (
    DEFAULT_BASE,
    DEFAULT_CHUNK,
    UNTIL,
    CloudflareStreamUpload,
)
from airflow_provider_chunkup.protocols.retry import RetryPolicy

#: A well-formed video uid (32 hex digits) no video has: the Test button reads it.
PROBE_UID = "0" * 32


def _mask(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class CloudflareStreamHook(ChunkUploadHook):
    """Uploads videos to Cloudflare Stream over tus; the sensor waits for the encode.

    ```python
    result = CloudflareStreamHook().upload("/data/clip.mp4", options={"name": "Launch", "requiresignedurls": True})
    result.media_id  # the video's uid
    ```

    :param cloudflare_conn_id: a ``chunkup_cloudflare_stream`` connection (default
        ``chunkup_cloudflare_stream_default``).
    """

    api: ClassVar[str] = "cloudflare_stream"
    conn_name_attr = "cloudflare_conn_id"
    default_conn_name = "chunkup_cloudflare_stream_default"
    conn_type = "chunkup_cloudflare_stream"
    hook_name = "chunkup: Cloudflare Stream"

    def __init__(self, cloudflare_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=cloudflare_conn_id, **kwargs)

    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> CloudflareStreamUpload:
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, DEFAULT_BASE)
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        if not conn.login:
            raise ConfigurationError(f"Connection {self.conn_id!r} has no login: set the Cloudflare account id (the "
                                     "32-hex id in the dashboard's URL).")
        until = options.get_str("until", "ready") or "ready"
        if until not in UNTIL:
            raise ConfigurationError(f"Connection {self.conn_id!r}: until must be one of {', '.join(UNTIL)}, got "
                                     f"{until!r}.")
        return CloudflareStreamUpload(
            account_id=conn.login.strip(), token=conn.password or None, api_base=url,
            default_chunk_bytes=options.get_int("chunk_size", DEFAULT_CHUNK) or DEFAULT_CHUNK, until=until,
            retry=RetryPolicy.from_options(options.retry_options()),
            timeout=options.get_float("timeout", 120.0) or 120.0, transport=transport, on_secret=_mask,
        )

    def create_direct_upload(self, total_bytes: int, options: Mapping[str, Any] | None = None,
                             creator: str | None = None) -> dict[str, str]:
        """A one-time upload URL for an uploader without the token (``?direct_user=true``): ``{uid, upload_url}``.

        ``upload_url`` is a secret until used: hand it to the uploader, not to logs.
        """
        protocol = self.get_conn()
        return run_sync(self._using(protocol, lambda p: p.create_direct_upload(total_bytes, options, creator)))

    def test_connection(self) -> tuple[bool, str]:
        """Read a video that does not exist (under the account's ``/stream``): Stream checks the token first, so its
        404 means the token works."""
        return probe_missing_resource(self, "Cloudflare Stream", f"/{PROBE_UID}")

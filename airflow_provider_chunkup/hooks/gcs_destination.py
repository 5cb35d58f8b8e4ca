"""Airflow hook for writing objects to Cloud Storage on a ``chunkup_gcs`` connection.

Connection fields (a ``google_cloud_platform``-style connection, as the ``gs://`` sources read it):

- host: the API base URL; empty for ``https://storage.googleapis.com`` (an emulator: ``http://127.0.0.1:PORT``).
- extra: ``bucket`` (required), ``prefix`` (put before the source's file name), ``create_only`` (never overwrite:
  ``ifGenerationMatch=0``); credentials: ``keyfile_dict`` or ``key_path`` (a service-account key; google-auth
  signs for tokens, from the ``[gcs]`` extra), or ``access_token`` (or the password) for a token you renew
  yourself; ``chunk_size`` (default 16 MiB, a multiple of 256 KiB), ``restart_expired``, ``timeout``,
  ``retry_*``, ``allow_insecure_http``.
"""

from __future__ import annotations

import json
from typing import ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import ConnectionOptions, base_url, require_safe_transport
from airflow_provider_chunkup.hooks.probe import probe_missing_resource
from airflow_provider_chunkup.protocols.auth import BearerAuth
from airflow_provider_chunkup.protocols.gcs_destination import GcsObjectUpload
from airflow_provider_chunkup.protocols.google_auth import ServiceAccountAuth
from airflow_provider_chunkup.protocols.google_resumable import DEFAULT_CHUNK, MAX_CHUNK
from airflow_provider_chunkup.protocols.retry import RetryPolicy

STORAGE = "https://storage.googleapis.com"
_PREFIX = "extra__google_cloud_platform__"


def _mask(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class GcsDestinationHook(ChunkUploadHook):
    """Writes files to a Cloud Storage bucket with resumable uploads, md5 and CRC32C checked at the end.

    ```python
    result = GcsDestinationHook().upload("/data/clip.mp4", options={"metadata": {"campaign": "launch"}})
    result.details["url"]  # gs://bucket/clip.mp4
    ```

    :param gcs_conn_id: a ``chunkup_gcs`` connection (default ``chunkup_gcs_default``).
    """

    api: ClassVar[str] = "gcs"
    conn_name_attr = "gcs_conn_id"
    default_conn_name = "chunkup_gcs_default"
    conn_type = "chunkup_gcs"
    hook_name = "chunkup: Cloud Storage (destination)"

    def __init__(self, gcs_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=gcs_conn_id, **kwargs)

    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> GcsObjectUpload:
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, STORAGE)
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        bucket = options.get_str("bucket")
        if not bucket:
            raise ConfigurationError(f"Connection {self.conn_id!r} has no bucket: set the extra bucket to the bucket "
                                     "objects are written to.")
        return GcsObjectUpload(
            bucket=bucket, prefix=options.get_str("prefix") or "", create_only=options.get_bool("create_only"),
            api_base=url, auth=self._auth(conn, options),
            default_chunk_bytes=options.get_int("chunk_size", DEFAULT_CHUNK) or DEFAULT_CHUNK,
            max_chunk_bytes=MAX_CHUNK, retry=RetryPolicy.from_options(options.retry_options()),
            timeout=options.get_float("timeout", 120.0) or 120.0, transport=transport, on_secret=_mask,
        )

    def _auth(self, conn: Connection, options: ConnectionOptions) -> httpx.Auth:
        keyfile = options.raw("keyfile_dict") or options.raw(_PREFIX + "keyfile_dict")
        key_path = options.get_str("key_path") or options.get_str(_PREFIX + "key_path")
        token = options.get_str("access_token") or conn.password
        if sum(bool(x) for x in (keyfile, key_path, token)) > 1:
            raise ConfigurationError(f"Connection {self.conn_id!r} sets more than one of keyfile_dict, key_path and "
                                     "access_token (or password): keep only one.")
        if keyfile:
            if isinstance(keyfile, str):
                try:
                    keyfile = json.loads(keyfile)
                except json.JSONDecodeError as e:
                    raise ConfigurationError(f"Connection {self.conn_id!r}: keyfile_dict is not valid JSON "
                                             f"({e.msg}).") from None
            if not isinstance(keyfile, dict):
                raise ConfigurationError(f"Connection {self.conn_id!r}: keyfile_dict must be a JSON object.")
            return ServiceAccountAuth(info=keyfile, on_token=_mask)
        if key_path:
            return ServiceAccountAuth(path=key_path, on_token=_mask)
        if token:
            return BearerAuth(token)
        raise ConfigurationError(f"Connection {self.conn_id!r} has no credentials: set keyfile_dict or key_path (a "
                                 "service-account key), or access_token.")

    def test_connection(self) -> tuple[bool, str]:
        """Read an object that does not exist in the bucket: 404 means the credentials reach the bucket."""
        bucket = self.options.get_str("bucket") or "?"
        return probe_missing_resource(self, "Cloud Storage", f"/storage/v1/b/{bucket}/o/chunkup-connection-test")

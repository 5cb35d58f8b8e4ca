"""Airflow hook for ``Content-Range`` + ``upload_id`` chunk APIs on a ``chunkup_content_range`` connection.

SelfCommunity's media upload by default; stock django-chunked-upload sites by setting the paths and
``file_field=file``. Connection fields:

- host: the site's base URL, e.g. ``https://community.example.com`` (required).
- password: the Bearer token.
- extra: ``chunk_path`` (default ``/api/v2/media/upload/chunk/``), ``complete_path`` (default
  ``/api/v2/media/upload/complete/``), ``file_field`` (``image``/``document`` by the media's kind,
  or ``file``), ``complete_type`` (``image``, ``doc``, ``eimage``), ``chunk_size`` and
  ``max_chunk_size`` (204800 bytes), ``size_limits`` (JSON bytes per kind: ``image`` 5 MB,
  ``document`` 50 MB), ``restart_expired``, ``timeout``, ``retry_*``, ``allow_insecure_http``.
"""

from __future__ import annotations

from typing import ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import ConnectionOptions, base_url, require_safe_transport
from airflow_provider_chunkup.protocols.auth import BearerAuth
from airflow_provider_chunkup.protocols.content_range import (
    CHUNK_PATH,
    COMPLETE_PATH,
    SELFCOMMUNITY_CHUNK,
    ContentRangeUpload,
)
from airflow_provider_chunkup.protocols.retry import RetryPolicy

COMPLETE_TYPES = ("image", "doc", "eimage")


class ContentRangeUploadHook(ChunkUploadHook):
    """Uploads images and documents in ``Content-Range`` chunks, completed with the file's md5.

    :param content_range_conn_id: a ``chunkup_content_range`` connection
        (default ``chunkup_content_range_default``).

    >>> result = ContentRangeUploadHook().upload("/data/brochure.pdf")
    >>> result.media_id, result.details["url"]
    """

    api: ClassVar[str] = "content_range"
    conn_name_attr = "content_range_conn_id"
    default_conn_name = "chunkup_content_range_default"
    conn_type = "chunkup_content_range"
    hook_name = "chunkup: Content-Range chunk upload (SelfCommunity, django-chunked-upload)"

    def __init__(self, content_range_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=content_range_conn_id, **kwargs)

    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> ContentRangeUpload:
        if not conn.host:
            raise ConfigurationError(
                f"Connection {self.conn_id!r} has no host: set the site's base URL, e.g. https://community.example.com."
            )
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, "")
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        if not conn.password:
            raise ConfigurationError(f"Connection {self.conn_id!r} has no password: put the Bearer token there.")
        complete_type = options.get_str("complete_type")
        if complete_type is not None and complete_type not in COMPLETE_TYPES:
            raise ConfigurationError(
                f"Connection {self.conn_id!r}: complete_type must be one of {', '.join(COMPLETE_TYPES)}, "
                f"got {complete_type!r}."
            )
        max_chunk = options.get_int("max_chunk_size", SELFCOMMUNITY_CHUNK) or SELFCOMMUNITY_CHUNK
        return ContentRangeUpload(
            auth=BearerAuth(conn.password), base_url=url,
            chunk_path=_path(options.get_str("chunk_path", CHUNK_PATH)),
            complete_path=_path(options.get_str("complete_path", COMPLETE_PATH)),
            file_field=options.get_str("file_field"), complete_type=complete_type,
            size_limits={k: (None if v is None else int(v)) for k, v in options.get_mapping("size_limits").items()},
            max_chunk_bytes=max_chunk, default_chunk_bytes=min(SELFCOMMUNITY_CHUNK, max_chunk),
            retry=RetryPolicy.from_options(options.retry_options()),
            timeout=options.get_float("timeout", 120.0) or 120.0, transport=transport,
        )


def _path(value: str | None) -> str:
    path = value or "/"
    return path if path.startswith("/") else f"/{path}"

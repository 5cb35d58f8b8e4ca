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

The Airflow UI's Test button calls :meth:`ContentRangeUploadHook.test_connection`: a chunk request without
a file, which the server refuses once it accepted the token, before it creates anything.
"""

from __future__ import annotations

import json
from typing import ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ChunkupError,
    ConfigurationError,
    RemoteRejected,
    RetryExhausted,
)
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import (
    ConnectionOptions,
    base_url,
    cannot_reach,
    require_safe_transport,
    scrub,
)
from airflow_provider_chunkup.protocols.auth import BearerAuth
from airflow_provider_chunkup.protocols.content_range import (
    CHUNK_PATH,
    COMPLETE_PATH,
    SELFCOMMUNITY_CHUNK,
    ContentRangeUpload,
)
from airflow_provider_chunkup.protocols.http import NOT_THE_API
from airflow_provider_chunkup.protocols.retry import RetryPolicy

COMPLETE_TYPES = ("image", "doc", "eimage")


class ContentRangeUploadHook(ChunkUploadHook):
    """Uploads images and documents in ``Content-Range`` chunks, completed with the file's md5.

    ```python
    result = ContentRangeUploadHook().upload("/data/brochure.pdf")
    result.media_id, result.details["url"]
    ```

    :param content_range_conn_id: a ``chunkup_content_range`` connection
        (default ``chunkup_content_range_default``).
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

    def test_connection(self) -> tuple[bool, str]:
        """Check the token with a chunk request that carries no file (the Airflow UI's Test button).

        These APIs have no read-only endpoint. django-chunked-upload checks the user first (403, or
        Django REST framework's 401 for a wrong token), then the chunk: no file is a 400 ``No chunk
        file was submitted``, answered before any upload is created. So a 400 from the chunk path
        means the token was accepted and nothing was stored. Returns ``(ok, message)``; the message
        never holds the token.
        """
        try:
            protocol = self.get_conn()
        except ChunkupError as e:
            return False, self._scrub(str(e))
        protocol.client.retry = RetryPolicy(max_attempts=1)  # the Test button waits: answer, don't retry
        where = protocol.client.base_url.rstrip("/")
        path = protocol.chunk_path
        step = f"Content-Range connection test (POST {path} without a file)"
        try:
            response = run_sync(self._using(protocol, lambda p: p.client.request("POST", path, step=step)))
        except AuthenticationFailed as e:
            return False, self._scrub(str(e))
        except RemoteRejected as e:
            if e.status == 400 and isinstance(e.body, dict):  # the view's own answer (a JSON object), past the auth
                said = e.body.get("detail") or json.dumps(e.body)[:200]
                return True, self._scrub(
                    f"Authenticated to the Content-Range upload API ({where}): {path} accepted the token and refused "
                    f"a chunk request without a file (HTTP 400: {said}), so nothing was uploaded.")
            if e.status in (404, 405):
                return False, self._scrub(
                    f"{where} has no chunk endpoint at {path} (HTTP {e.status} to POST). Check the connection's host "
                    f"and chunk_path (SelfCommunity: {CHUNK_PATH}; a django-chunked-upload site: its own URL).")
            excerpt = (e.body if isinstance(e.body, str) else json.dumps(e.body))[:200]
            return False, self._scrub(
                f"{where} answered a chunk request without a file with HTTP {e.status}, not django-chunked-upload's "
                f"400: {excerpt!r}. Check the connection's host and chunk_path.")
        except RetryExhausted as e:
            if e.status is not None:  # a 5xx through every attempt
                return False, self._scrub(str(e))
            return False, self._scrub(cannot_reach(where, e))
        except ChunkupError as e:
            return False, self._scrub(str(e))
        return False, self._scrub(
            f"{where}{path} accepted a chunk request without a file (HTTP {response.status_code}), which "
            f"django-chunked-upload refuses with 400; it may have opened an empty upload. {NOT_THE_API}")

    def _scrub(self, message: str) -> str:
        """The message without the token (a server may echo it back; one too short to be real is left)."""
        return scrub(message, self._conn.password if self._conn is not None else None)


def _path(value: str | None) -> str:
    path = value or "/"
    return path if path.startswith("/") else f"/{path}"

"""Airflow hook for LinkedIn video uploads on a ``chunkup_linkedin`` connection.

Connection fields:

- host: the API base URL; empty for ``https://api.linkedin.com`` (the emulator: ``http://127.0.0.1:PORT``).
- password: an access token with ``w_member_social`` (a member owner) or ``w_organization_social``.
- extra: ``owner`` (``urn:li:person:...`` or ``urn:li:organization:...``), ``linkedin_version`` (``YYYYMM``,
  default ``202610``), ``max_chunk_size`` (the largest part taken into memory, default 64 MiB: LinkedIn's parts
  are 4 MiB), ``max_in_flight`` (parts sent at once), ``restart_expired``, ``timeout``, ``retry_*``,
  ``allow_insecure_http``.

LinkedIn decides the parts at init; their signed upload URLs take bytes without a token, so they are masked in
task logs and the session holding them never goes to XCom: upload in one task (``ChunkedUploadOperator``), whose
retry resumes from the task state store.
"""

from __future__ import annotations

from typing import ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import ConnectionOptions, base_url, require_safe_transport
from airflow_provider_chunkup.hooks.probe import probe_missing_resource
from airflow_provider_chunkup.protocols.linkedin import DEFAULT_BASE, DEFAULT_VERSION, MAX_PART, LinkedInUpload
from airflow_provider_chunkup.protocols.retry import RetryPolicy


def _mask(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class LinkedInHook(ChunkUploadHook):
    """Uploads videos to LinkedIn (Videos API); the sensor waits until the video is AVAILABLE.

    ```python
    result = LinkedInHook().upload("/data/clip.mp4", options={"owner": "urn:li:organization:2414183"})
    result.media_id  # urn:li:video:..., for a post through the Posts API
    ```

    :param linkedin_conn_id: a ``chunkup_linkedin`` connection (default ``chunkup_linkedin_default``).
    """

    api: ClassVar[str] = "linkedin"
    conn_name_attr = "linkedin_conn_id"
    default_conn_name = "chunkup_linkedin_default"
    conn_type = "chunkup_linkedin"
    hook_name = "chunkup: LinkedIn"
    default_max_in_flight: ClassVar[int] = 4

    def __init__(self, linkedin_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=linkedin_conn_id, **kwargs)


    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> LinkedInUpload:
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, DEFAULT_BASE)
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        return LinkedInUpload(
            api_base=url, token=conn.password or "", owner=options.get_str("owner") or None,
            version=options.get_str("linkedin_version") or DEFAULT_VERSION,
            max_part_bytes=options.get_int("max_chunk_size", MAX_PART) or MAX_PART,
            retry=RetryPolicy.from_options(options.retry_options()),
            timeout=options.get_float("timeout", 120.0) or 120.0, transport=transport, on_secret=_mask,
        )

    def test_connection(self) -> tuple[bool, str]:
        """Read a video that does not exist: LinkedIn checks the token and version first, so its 404 means both work.

        Creates nothing. Returns ``(ok, message)``; the message never holds the token.
        """
        return probe_missing_resource(self, "LinkedIn", "/videos/" + "urn%3Ali%3Avideo%3A0")

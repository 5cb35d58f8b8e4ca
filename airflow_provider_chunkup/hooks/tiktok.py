"""Airflow hook for TikTok uploads on a ``chunkup_tiktok`` connection.

Connection fields:

- host: the API base URL; empty for ``https://open.tiktokapis.com`` (the emulator: ``http://127.0.0.1:PORT``).
- password: the user's access token (scope ``video.publish`` for direct posts, ``video.upload`` for drafts).
- extra: ``mode`` (``direct``, the default, or ``inbox``), ``chunk_size`` (default 10,000,000; 5,242,880 to
  64,000,000), ``restart_expired``, ``timeout``, ``retry_*``, ``allow_insecure_http``.

The post's title, privacy level and flags come from the operators' ``upload_options``
(``{"title": ..., "privacy_level": "SELF_ONLY"}``; ``mode`` there overrides the connection's). The
``upload_url`` TikTok answers with takes bytes without a token: it is masked in task logs and the session
holding it stays out of XCom (the upload runs in one task).
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import AuthenticationFailed, ChunkupError, RemoteRejected, RetryExhausted
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import ConnectionOptions, base_url, require_safe_transport, scrub
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.tiktok import (
    API,
    DEFAULT_BASE,
    DEFAULT_CHUNK,
    TikTokUpload,
)


def _mask(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class TikTokHook(ChunkUploadHook):
    """Uploads videos to TikTok, as direct posts or inbox drafts; the sensor waits for TikTok's verdict.

    ```python
    result = TikTokHook().upload("/data/clip.mp4", options={"title": "Launch #tag", "privacy_level": "SELF_ONLY"})
    result.media_id  # the publish_id the sensor polls
    ```

    :param tiktok_conn_id: a ``chunkup_tiktok`` connection (default ``chunkup_tiktok_default``).
    """

    api: ClassVar[str] = "tiktok"
    conn_name_attr = "tiktok_conn_id"
    default_conn_name = "chunkup_tiktok_default"
    conn_type = "chunkup_tiktok"
    hook_name = "chunkup: TikTok"

    def __init__(self, tiktok_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=tiktok_conn_id, **kwargs)


    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> TikTokUpload:
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, DEFAULT_BASE)
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        return TikTokUpload(
            api_base=url, token=conn.password or "", mode=options.get_str("mode") or "direct",
            default_chunk_bytes=options.get_int("chunk_size", DEFAULT_CHUNK) or DEFAULT_CHUNK,
            retry=RetryPolicy.from_options(options.retry_options()),
            timeout=options.get_float("timeout", 120.0) or 120.0, transport=transport, on_secret=_mask,
        )

    def creator_info(self) -> dict[str, Any]:
        """The creator's privacy levels, longest video (``max_video_post_duration_sec``) and disable flags."""
        protocol = self.get_conn()
        return run_sync(self._using(protocol, lambda p: p.creator_info()))  # type: ignore[attr-defined]

    def test_connection(self) -> tuple[bool, str]:
        """Direct mode: read the creator's info. Inbox mode: ask the status of a post that does not exist (TikTok
        checks the token first, so its invalid_params means the token works). Creates nothing.
        """
        try:
            protocol = self.get_conn()
        except ChunkupError as e:
            return False, self._scrub(str(e))
        protocol.client.retry = RetryPolicy(max_attempts=1)  # the Test button waits: answer, don't retry
        where = protocol.client.base_url
        inbox = isinstance(protocol, TikTokUpload) and protocol.mode == "inbox"

        async def probe(p: Any) -> None:
            if inbox:
                await p.client.request("POST", f"{API}/status/fetch/", json={"publish_id": "chunkup-test"},
                                       step="TikTok connection test (status of no post)")
            else:
                await p.creator_info()

        try:
            run_sync(self._using(protocol, probe))
        except AuthenticationFailed as e:
            return False, self._scrub(str(e))
        except RemoteRejected as e:
            if inbox and e.status == 400:
                return True, f"Authenticated to TikTok at {where}: the token works for inbox drafts."
            return False, self._scrub(str(e))
        except (RetryExhausted, ChunkupError) as e:
            return False, self._scrub(f"Could not reach TikTok at {where}: {e}")
        what = "inbox drafts" if inbox else "direct posts (creator info read)"
        return True, f"Authenticated to TikTok at {where}: the token works for {what}; nothing was created."

    def _scrub(self, message: str) -> str:
        conn = self._conn
        return scrub(message, conn.password if conn is not None else None)

"""Airflow hook for Facebook video uploads (Graph start / transfer / finish) on a ``chunkup_facebook`` connection.

Connection fields:

- host: the Graph base URL for video; empty for ``https://graph-video.facebook.com`` (statuses are then read on
  ``https://graph.facebook.com``); the emulator's ``http://127.0.0.1:PORT`` serves both.
- password: the Page access token (``page:<id>`` targets) or a user token with ``ads_management`` (ad accounts).
- extra: ``target`` (``page:<page-id>`` or ``act_<ad-account-id>``, required), ``graph_version`` (default
  ``v23.0``), ``app_secret`` (optional: every request then carries ``appsecret_proof``), ``chunk_size`` (the
  buffer for Graph's windows, default 64 MiB), ``max_chunk_size``, ``restart_expired``, ``timeout``,
  ``retry_*``, ``allow_insecure_http``.

The title, description and ``published`` come from the operators' ``upload_options``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from airflow.sdk import Connection

from airflow_provider_chunkup._aio import run_sync
from airflow_provider_chunkup.errors import AuthenticationFailed, ChunkupError, RemoteRejected, RetryExhausted
from airflow_provider_chunkup.hooks.base import ChunkUploadHook
from airflow_provider_chunkup.hooks.connection import (
    ConnectionOptions,
    base_url,
    cannot_reach,
    require_safe_transport,
    scrub,
)
from airflow_provider_chunkup.protocols.meta_graph import (
    DEFAULT_BASE,
    DEFAULT_CHUNK,
    DEFAULT_VERSION,
    MAX_CHUNK,
    MetaGraphVideoUpload,
)
from airflow_provider_chunkup.protocols.retry import RetryPolicy

UNKNOWN_OBJECT = 33
"""Graph's subcode for an object it does not show (code 100)."""


def _graph_subcode(error: RemoteRejected) -> Any:
    body = error.body if isinstance(error.body, dict) else {}
    fields = body.get("error") if isinstance(body.get("error"), dict) else {}
    return fields.get("error_subcode")


def _mask(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class FacebookVideoHook(ChunkUploadHook):
    """Uploads videos to a Facebook Page or ad account in the windows Graph dictates; the sensor waits for ready.

    ```python
    result = FacebookVideoHook().upload("/data/clip.mp4", options={"title": "Launch", "published": False})
    result.media_id  # the video id
    ```

    :param facebook_conn_id: a ``chunkup_facebook`` connection (default ``chunkup_facebook_default``).
    """

    api: ClassVar[str] = "facebook"
    conn_name_attr = "facebook_conn_id"
    default_conn_name = "chunkup_facebook_default"
    conn_type = "chunkup_facebook"
    hook_name = "chunkup: Facebook video"

    def __init__(self, facebook_conn_id: str = default_conn_name, **kwargs: str | None) -> None:
        super().__init__(conn_id=facebook_conn_id, **kwargs)


    def build_protocol(self, conn: Connection, options: ConnectionOptions,
                       transport: httpx.AsyncBaseTransport | None = None) -> MetaGraphVideoUpload:
        url = base_url(self.conn_id, conn.host, conn.port, conn.schema, DEFAULT_BASE)
        require_safe_transport(self.conn_id, url, options.get_bool("allow_insecure_http"))
        max_chunk = options.get_int("max_chunk_size", MAX_CHUNK) or MAX_CHUNK
        app_secret = options.get_str("app_secret")
        if app_secret:
            _mask(app_secret)
        protocol = MetaGraphVideoUpload(
            api_base=url, token=conn.password or "", target=options.get_str("target") or "",
            graph_version=options.get_str("graph_version", DEFAULT_VERSION) or DEFAULT_VERSION,
            app_secret=app_secret, default_chunk_bytes=min(DEFAULT_CHUNK, max_chunk), max_chunk_bytes=max_chunk,
            retry=RetryPolicy.from_options(options.retry_options()),
            timeout=options.get_float("timeout", 120.0) or 120.0, transport=transport,
        )
        if protocol.proof:
            _mask(protocol.proof)
        return protocol

    def test_connection(self) -> tuple[bool, str]:
        """Read the target node's id: Graph checks the token, then whether it may see the Page or ad account.

        Creates nothing. Returns ``(ok, message)``; the message never holds the token or the app secret.
        """
        try:
            protocol = self.get_conn()
        except ChunkupError as e:
            return False, self._scrub(str(e))
        assert isinstance(protocol, MetaGraphVideoUpload)
        protocol.client.retry = RetryPolicy(max_attempts=1)  # the Test button waits: answer, don't retry
        node = protocol.target_path.split("/")[2]

        async def read(p: MetaGraphVideoUpload) -> None:
            await p.read_node(node)

        try:
            run_sync(self._using(protocol, read))  # type: ignore[arg-type]
        except AuthenticationFailed as e:
            return False, self._scrub(str(e))
        except RemoteRejected as e:
            if _graph_subcode(e) == UNKNOWN_OBJECT:  # Graph checked the token first, then hid the node from it
                return True, (f"Authenticated to Facebook at {protocol.client.base_url}: the token works, but Graph "
                              f"does not show {node} to it (error 100/33). Check the target and that the token may "
                              "manage it; nothing was created.")
            return False, self._scrub(str(e))
        except RetryExhausted as e:
            if e.status is not None:
                return False, self._scrub(str(e))
            return False, self._scrub(cannot_reach(f"Facebook at {protocol.client.base_url}", e))
        except ChunkupError as e:
            return False, self._scrub(str(e))
        return True, (f"Authenticated to Facebook at {protocol.client.base_url}: the token can read {node} "
                      "(nothing was created).")

    def _scrub(self, message: str) -> str:
        conn = self._conn
        secrets = [conn.password] if conn is not None else []
        if self._options is not None and self._options.get_str("app_secret"):
            secrets.append(str(self._options.get_str("app_secret")))
        return scrub(message, *secrets)
